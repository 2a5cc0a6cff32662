"""Command line of the workbook: ``python -m analysis report <kind> <file.csv> --out <folder>``.

``python -m analysis report --help`` lists the report kinds and the columns each needs;
``python -m analysis report <kind> --help`` the kind's options. Exit codes: 0 written,
2 bad input (the message names the line and column), 1 the report failed.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from analysis import report


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``analysis`` -> ``report`` -> one sub-command per kind)."""
    parser = argparse.ArgumentParser(prog="python -m analysis",
                                     description="The alliance workbook's command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    kinds_help = "\n\n".join(report.describe_kind(k) for k in report.KINDS)
    rep = commands.add_parser(
        "report",
        help="a complete report (HTML, PDF, figures, tables) on your own CSV file",
        description="Validate a CSV file and write a complete report on it into a folder of its "
                    "own, <out>/<kind>-<file stem> (never into the workbook's reports/).",
        epilog="Report kinds:\n\n" + kinds_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = rep.add_subparsers(dest="kind", required=True, metavar="KIND")
    for name, spec in report.KINDS.items():
        sub = kinds.add_parser(name, help=spec.title, description=report.describe_kind(name),
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        if spec.columns:
            sub.add_argument("file", help="the CSV file (header line first)")
        sub.add_argument("--out", required=True,
                         help="folder in which the report's own folder <kind>-<file stem> is made")
        sub.add_argument("--no-pdf", action="store_true", help="do not print report.pdf")
        if spec.columns:
            sub.add_argument("--na-action", choices=("fail", "omit"), default="fail",
                             help="lines with missing values: refuse (default) or leave out with a warning")
        if name == "meta":
            sub.add_argument("--measure", default=None,
                             help="effect size from raw columns, metafor's names (SMD, MD, OR, RR, RD, "
                                  "COR, ZCOR, ...); omit when the file has yi and vi")
            sub.add_argument("--method", default="REML", help="tau^2 estimator (default REML)")
            sub.add_argument("--test", default="z", choices=("z", "knha"),
                             help="z tests, or knha for Knapp-Hartung t tests (default z)")
            sub.add_argument("--level", type=float, default=0.95, help="confidence level (0.95)")
            sub.add_argument("--mods", default=None,
                             help='moderators: columns "a,b" or a formula "~ a + b"')
            sub.add_argument("--title", default=None, help="title of the report")
        if name == "therapists":
            sub.add_argument("--outcome", default="post", help="outcome column (default post)")
            sub.add_argument("--therapist", default="therapist", help="therapist id column (default therapist)")
            sub.add_argument("--alliance", default=None,
                             help="alliance column (default: 'alliance' if the file has it)")
            sub.add_argument("--covariates", default=None, help='adjustment columns, e.g. "pre,arm"')
            sub.add_argument("--level", type=float, default=0.95, help="confidence level (0.95)")
            sub.add_argument("--title", default=None, help="title of the report")
        if name == "change":
            sub.add_argument("--pre", default="pre", help="pre-treatment score column (default pre)")
            sub.add_argument("--post", default="post", help="post-treatment score column (default post)")
            sub.add_argument("--group", default=None, help="optional group column (e.g. treatment)")
            sub.add_argument("--instrument", default=None,
                             help="published norms to use (BDI-II, PHQ-9, OQ-45, ...)")
            sub.add_argument("--reliability", type=float, default=None, help="reliability r_xx in (0, 1)")
            sub.add_argument("--cutoff", default=None, help='"a", "b", "c", "published" or a number')
            for norm in ("m-clin", "sd-clin", "m-func", "sd-func"):
                sub.add_argument(f"--{norm}", type=float, default=None,
                                 help=f"{'mean' if norm[0] == 'm' else 'SD'} of the "
                                      f"{'clinical' if 'clin' in norm else 'functional'} population")
            sub.add_argument("--higher-is-better", action="store_true", default=None,
                             help="higher scores are better (default: symptoms, lower is better)")
            sub.add_argument("--title", default=None, help="title of the report")
        if name == "growth":
            sub.add_argument("--outcome", default="score", help="outcome column (default score)")
            sub.add_argument("--time", default="session", help="time column (default session)")
            sub.add_argument("--subject", default="patient", help="patient id column (default patient)")
            sub.add_argument("--covariates", default=None, help='fixed-effect columns, e.g. "pre,arm"')
            sub.add_argument("--time-by", default=None, help="covariates whose interaction with time is added")
            sub.add_argument("--no-random-slope", dest="random_slope", action="store_false", default=None,
                             help="random intercept only")
            sub.add_argument("--method", default="REML", choices=("REML", "ML"))
            sub.add_argument("--level", type=float, default=0.95, help="confidence level (0.95)")
            sub.add_argument("--title", default=None, help="title of the report")
        if name == "scale":
            sub.add_argument("--items", default=None,
                             help="the 12 item columns in form order (default wai1,...,wai12)")
            sub.add_argument("--respondent", default=None, help="respondent id column (optional)")
            sub.add_argument("--level", type=float, default=0.95, help="confidence level (0.95)")
            sub.add_argument("--title", default=None, help="title of the report")
        if name == "power":
            for flag, default, text in (
                ("--effect-size", 0.3, "standardised difference between the arms (0.3)"),
                ("--r", 0.28, "alliance-outcome correlation to detect (0.28)"),
                ("--caseload", 6.0, "patients per therapist (6)"),
                ("--icc", 0.05, "therapist ICC of the outcome (0.05)"),
                ("--alpha", 0.05, "two-sided level (0.05)"),
                ("--target", 0.8, "target power (0.8)"),
                ("--allocation", 0.5, "share of patients in arm 1 (0.5)"),
            ):
                sub.add_argument(flag, type=float, default=default, help=text)
            sub.add_argument("--n-min", type=int, default=20, help="smallest total N shown (20)")
            sub.add_argument("--n-max", type=int, default=1000, help="largest total N shown (1000)")
            sub.add_argument("--title", default=None, help="title of the report")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    options = {k: v for k, v in vars(args).items()
               if k not in ("command", "kind", "file", "out", "no_pdf") and v is not None}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            result = report.make_report(args.kind, getattr(args, "file", None), out=args.out,
                                        pdf=not args.no_pdf, **options)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"report failed: {error}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
