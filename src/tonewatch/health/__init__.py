"""Customer health: per-customer streaming state, an explainable 0-100 score, bands and learned weights."""

from ._factors import FLAGS, Draft, Reading, draft_factors, flags_of
from ._fit import POINTS_PER_LOGIT, FitResult, factor_features, fit_weights, health_from_features, roc_auc
from ._report import BANDS, Band, Factor, HealthReport, band_of, compose
from ._state import STATE_VERSION, CustomerState
from ._weights import FEATURES, HealthWeights

__all__ = [
    "BANDS",
    "FEATURES",
    "FLAGS",
    "POINTS_PER_LOGIT",
    "STATE_VERSION",
    "Band",
    "CustomerState",
    "Draft",
    "Factor",
    "FitResult",
    "HealthReport",
    "HealthWeights",
    "Reading",
    "band_of",
    "compose",
    "draft_factors",
    "factor_features",
    "fit_weights",
    "flags_of",
    "health_from_features",
    "roc_auc",
]
