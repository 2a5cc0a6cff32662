r"""Incremental and absolute fit indices shared by the SEM code (CFA, invariance, RI-CLPM).

Each estimator computes its own test statistic (ML, FIML, DWLS scaled-shifted) and its
baseline (independence) model; the indices built from them are the same everywhere and
follow lavaan's definitions (Rosseel 2012):

.. math::

    CFI = 1 - \frac{\max(\chi^2 - df, 0)}{\max(\chi^2 - df,\ \chi^2_B - df_B,\ 0)},\qquad
    TLI = \frac{\chi^2_B/df_B - \chi^2/df}{\chi^2_B/df_B - 1},\qquad
    RMSEA = \sqrt{G}\,\sqrt{\max\Bigl(\frac{\chi^2 - df}{N\,df}, 0\Bigr)}

with :math:`G` groups (lavaan's multi-group RMSEA) and :math:`N` the sample size the
estimator uses (N, or N - 1 for categorical data).

References
----------
Bentler, P. M. (1990). Comparative fit indexes in structural models. *Psychological
Bulletin, 107*(2), 238--246.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

# The one fit-index implementation lives in analysis.sem.fit; these names stay importable from
# here until their old callers (psychometrics, sessions) are migrated.
from analysis.sem.fit import cfi, rmsea, tli  # noqa: F401

__all__ = ["cfi", "tli", "rmsea"]
