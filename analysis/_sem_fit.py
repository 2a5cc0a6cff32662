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

import math


def cfi(chisq: float, df: float, base: float, df_base: float) -> float:
    """Comparative fit index; 1 when neither model misfits."""
    den = max(chisq - df, base - df_base, 0.0)
    return 1.0 if den == 0 else 1 - max(chisq - df, 0.0) / den


def tli(chisq: float, df: float, base: float, df_base: float) -> float:
    """Tucker-Lewis index; NaN for a saturated model (df 0)."""
    return ((base / df_base) - (chisq / df)) / ((base / df_base) - 1) if df > 0 else math.nan


def rmsea(chisq: float, df: float, n: float, *, groups: int = 1, zero_df: float = math.nan) -> float:
    """RMSEA (times sqrt(groups), lavaan's multi-group form); ``zero_df`` for a saturated model."""
    if df <= 0:
        return zero_df
    return math.sqrt(groups) * math.sqrt(max((chisq - df) / (n * df), 0.0))
