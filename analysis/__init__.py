"""The alliance workbook: tested statistical functions for psychotherapy research.

How much of a patient's improvement comes from the therapeutic relationship and how
much from the specific technique? The modules hold what the notebooks use:

- ``analysis.effect_sizes``: r, Fisher z, d, g, log odds and risk ratios, their
  sampling variances and conversions (``compute_effect_sizes`` is the entry point).
- ``analysis.datasets``: the shipped real datasets (checksum- and schema-checked)
  and downloads of external open databases (Metapsy).
- ``analysis.published``: published meta-analytic results (relationship elements and
  technique), each with its source and where it was read.
- ``analysis.meta``, ``analysis.meta_bias``, ``analysis.meta_multilevel``: random- and fixed-effects meta-analysis,
  meta-regression, subgroups, influence, small-study bias, three-level models (checked
  against metafor); ``analysis.meta_compare``: fit statistics (AIC/BIC), Wald tests of
  coefficients and contrasts, likelihood-ratio tests (metafor ``fitstats``, ``anova``).
- ``analysis.meta_dependent``, ``analysis.meta_mv``, ``analysis.robust``: dependent effect
  sizes — imputed sampling covariance (``vcalc``) and aggregation, the multilevel/multivariate
  model with a known V (``rma_mv``), cluster-robust CR2 inference with Satterthwaite and HTZ
  tests, and the CHE recipe (``che``) (checked against metafor and clubSandwich).
- ``analysis.multilevel``: therapist effects and the within/between-therapist split of
  the alliance (checked against lme4).
- ``analysis.network``: network meta-analysis and the additive component model;
  ``analysis.importance``: dominance analysis (Shapley R²).
- ``analysis.sessions``: within/between-person session models, lagged models, RI-CLPM;
  ``analysis.change``: reliable change, clinical significance, sudden gains, ruptures.
- ``analysis.scoring``, ``analysis.reliability``, ``analysis.factor_models``,
  ``analysis.invariance``: questionnaire scoring (WAI-SR), Cronbach's alpha, CFA (ML, FIML,
  WLSMV) and omega, measurement invariance (``analysis.psychometrics`` re-exports them all).
- ``analysis.power``: Monte Carlo power (local processes or Dask).
- ``analysis.simulate``: a calibrated, truth-known trial simulator (patients nested in
  therapists, session-level alliance and symptoms).
- ``analysis.plots``: the house style and ``save_figure``, and the figures (a subpackage:
  ``plots.save``, ``plots.meta``, ``plots.multilevel``, ``plots.lessons_*``; all names importable
  from ``analysis.plots``).
- ``analysis.ledger``: records each published-vs-ours comparison.

Estimators are pure functions (data in, results object out); they never load
files, draw or print.
"""

__version__ = "0.1.0"
