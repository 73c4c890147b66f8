"""outcomes stage: what happened after we flagged and acted, and whether acting helped.

``OutcomeLinker`` / ``OutcomeHook`` tie outcome events and CSAT answers to the firings and
actions before them; ``impact_reports`` compares treated and holdout customers with confidence
intervals (``tonewatch report impact``).
"""

from ._impact import GroupStats, ImpactReport, impact_reports
from ._link import OutcomeHook, OutcomeLinker
from ._models import OutcomeLinkRow
from ._stats import (
    bootstrap_mean,
    bootstrap_mean_difference,
    bootstrap_proportion_difference,
    newcombe_difference,
    wilson,
)

__all__ = [
    "GroupStats",
    "ImpactReport",
    "OutcomeHook",
    "OutcomeLinkRow",
    "OutcomeLinker",
    "bootstrap_mean",
    "bootstrap_mean_difference",
    "bootstrap_proportion_difference",
    "impact_reports",
    "newcombe_difference",
    "wilson",
]
