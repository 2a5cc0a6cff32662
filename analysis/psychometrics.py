"""Measuring the alliance: item scoring, reliability, factor models and measurement invariance.

This module is a façade: the code lives in four modules, one per concern, and every name
that was public here is re-exported, so ``from analysis.psychometrics import fit_cfa`` and
``psychometrics.fit_cfa(...)`` keep working.

===============================  ==========================================================
:mod:`analysis.scoring`          :class:`InstrumentKey`, :func:`score_items`,
                                 :func:`wai_sr_key`, :func:`score_wai_sr`,
                                 :class:`ScoredItems`, ``WAI_SR_SUBSCALES`` (and the note
                                 on the WAI-SR item key)
:mod:`analysis.reliability`      :func:`cronbach_alpha`, :func:`feldt_ci`,
                                 :class:`AlphaResult` (omega: :meth:`CFAResult.omega`)
:mod:`analysis.factor_models`    :func:`fit_cfa` (ML, ``missing="ml"`` FIML),
                                 :class:`CFAResult` (with ``omega()``),
                                 :func:`compare_factor_models`,
                                 :class:`FactorModelComparison`, :func:`fit_cfa_ordinal`
                                 (WLSMV), :class:`OrdinalCFAResult`
:mod:`analysis.invariance`       :func:`measurement_invariance` (continuous or ordered items),
                                 :class:`InvarianceResult`, :class:`InvarianceStep`,
                                 ``INVARIANCE_STEPS``, ``ORDINAL_INVARIANCE_STEPS``,
                                 :func:`configural_invariance`, :class:`ConfiguralResult`
===============================  ==========================================================

New code can import from either place; the formulas, references and examples are in the
docstrings of the modules above. The factor models (CFA by ML, FIML and WLSMV, invariance) are
specifications on the workbook's one SEM engine, :mod:`analysis.sem`.
"""

from __future__ import annotations

from analysis._items import MISSING_METHODS  # importable from here as before (not in __all__)
from analysis.factor_models import (
    CFAResult,
    FactorModelComparison,
    OrdinalCFAResult,
    compare_factor_models,
    fit_cfa,
    fit_cfa_ordinal,
)
from analysis.invariance import (
    INVARIANCE_STEPS,
    INVARIANCE_STEPS_ALL,  # importable from here as before (not in __all__)
    ORDINAL_INVARIANCE_STEPS,
    ConfiguralResult,
    InvarianceResult,
    InvarianceStep,
    configural_invariance,
    measurement_invariance,
)
from analysis.reliability import AlphaResult, cronbach_alpha, feldt_ci
from analysis.scoring import WAI_SR_SUBSCALES, InstrumentKey, ScoredItems, score_items, score_wai_sr, wai_sr_key

__all__ = [
    "InstrumentKey",
    "ScoredItems",
    "score_items",
    "wai_sr_key",
    "score_wai_sr",
    "WAI_SR_SUBSCALES",
    "AlphaResult",
    "cronbach_alpha",
    "feldt_ci",
    "CFAResult",
    "fit_cfa",
    "OrdinalCFAResult",
    "fit_cfa_ordinal",
    "FactorModelComparison",
    "compare_factor_models",
    "ConfiguralResult",
    "configural_invariance",
    "INVARIANCE_STEPS",
    "InvarianceStep",
    "InvarianceResult",
    "measurement_invariance",
    "ORDINAL_INVARIANCE_STEPS",
]
