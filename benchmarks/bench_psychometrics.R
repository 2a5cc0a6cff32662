# R side of benchmarks/bench_psychometrics.py (not a test). Two modes:
#
#   Rscript benchmarks/bench_psychometrics.R alpha items.csv reps
#       psych::alpha(X, warnings = FALSE) on every column of items.csv (complete cases).
#   Rscript benchmarks/bench_psychometrics.R cfa items.csv reps "<lavaan model>"
#       lavaan::cfa(model, data = X, estimator = "ML") (marker identification, no mean
#       structure: the call of tests/oracles/psych_lavaan.R).
#   Rscript benchmarks/bench_psychometrics.R cfa_ml items.csv reps "<lavaan model>"
#       lavaan::cfa(model, data = X, missing = "ml") (full-information ML; mean structure,
#       observed information, EM h1 moments: lavaan's defaults with missing = "ml", as the
#       oracle's `fiml` block).
#   Rscript benchmarks/bench_psychometrics.R invariance items.csv reps "<lavaan model>" listwise|ml
#       Configural, metric and scalar multi-group CFA as the oracle calls them:
#       cfa(model, data = X, group = "group", estimator = "ML", group.equal = ...) (listwise; the
#       CSV holds complete cases) or with missing = "ml", plus lavTestLRT(configural, metric,
#       scalar); one timed repetition covers the three fits and the LRT (what one call of
#       measurement_invariance returns).
#
# The CSV is read once; the call is repeated `reps` times and timed with proc.time()
# (elapsed); one JSON object to stdout with the times, the estimates and the versions.
suppressPackageStartupMessages({library(psych); library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]; X <- read.csv(args[2]); reps <- as.integer(args[3])

# the shared time_it(f, reps), from benchmarks/_timing.R beside this script
source(file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))),
                 "_timing.R"))

if (mode == "alpha") {
  tr <- time_it(function() psych::alpha(X, warnings = FALSE))
  a <- tr$res
  out <- list(times = tr$times, raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha,
              alpha_if_deleted = setNames(as.list(a$alpha.drop$raw_alpha), rownames(a$alpha.drop)),
              r_drop = setNames(as.list(a$item.stats$r.drop), rownames(a$item.stats)),
              version = as.character(packageVersion("psych")))
} else if (mode == "cfa") {
  model <- args[4]
  tr <- time_it(function() cfa(model, data = X, estimator = "ML"))
  f <- tr$res
  pe <- parameterEstimates(f)
  pe <- pe[pe$op %in% c("=~", "~~") & !(pe$op == "=~" & pe$se == 0), ]
  out <- list(times = tr$times, lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = pe$est, se = pe$se,
              fit = as.list(fitMeasures(f, c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))),
              converged = lavInspect(f, "converged"), version = as.character(packageVersion("lavaan")))
} else if (mode == "cfa_ml") {
  model <- args[4]
  tr <- time_it(function() cfa(model, data = X, missing = "ml"))
  f <- tr$res
  pe <- parameterEstimates(f)
  out <- list(times = tr$times, lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = pe$est, se = pe$se,
              fit = as.list(fitMeasures(f, c("chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl",
                                             "unrestricted.logl", "ntotal"))),
              n_patterns = nrow(lavInspect(f, "patterns")),
              converged = lavInspect(f, "converged"), version = as.character(packageVersion("lavaan")))
} else if (mode == "invariance") {
  model <- args[4]; how <- args[5]
  equal <- list(configural = "", metric = "loadings", scalar = c("loadings", "intercepts"))
  fit_step <- function(ge) {
    if (how == "ml") cfa(model, data = X, group = "group", missing = "ml", group.equal = ge)
    else cfa(model, data = X, group = "group", estimator = "ML", group.equal = ge)
  }
  tr <- time_it(function() {
    fits <- lapply(equal, fit_step)
    list(fits = fits, lrt = lavTestLRT(fits$configural, fits$metric, fits$scalar))
  })
  fits <- tr$res$fits; lrt <- tr$res$lrt
  steps <- lapply(fits, function(f) {
    pe <- parameterEstimates(f)
    list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = lavInspect(f, "group.label")[pe$group],
         est = pe$est, se = pe$se, converged = lavInspect(f, "converged"),
         fit = as.list(fitMeasures(f, c("chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "ntotal"))))
  })
  out <- list(times = tr$times, steps = steps, chisq_diff = lrt[["Chisq diff"]][2:3],
              pvalue = lrt[["Pr(>Chisq)"]][2:3], version = as.character(packageVersion("lavaan")))
} else {
  stop("mode must be 'alpha', 'cfa', 'cfa_ml' or 'invariance'")
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
