"""The pipeline's one view of ``tonewatch.health``: create, fold, persist and report states.

Keeping every call into the customer-state API here means the pipeline, sweeps, replays
and the CLI all compute health the same way (same weights, same segment baselines).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._replay import StoredEvent
    from .events import Event

__all__ = ["HealthModel", "snapshot_values"]


class HealthModel:
    """Builds and reports customer states with fixed weights and segment baselines."""

    def __init__(self, weights: Any = None, segment_baselines: Mapping[str, Any] | None = None) -> None:
        from tonewatch.health import CustomerState

        self._cls = CustomerState
        self.weights = weights
        self.segment_baselines: dict[str, Any] = dict(segment_baselines or {})

    def new(self, customer_id: str, attributes: Mapping[str, Any]) -> Any:
        return self._cls(customer_id, dict(attributes))

    def restore(self, data: Mapping[str, Any]) -> Any:
        return self._cls.from_state(dict(data))

    def fold(self, state: Any, event: Event, analysis: Analysis | None, category: str | None) -> Any:
        return state.update(event, analysis=analysis, category=category)

    def replay(self, customer_id: str, attributes: Mapping[str, Any], history: list[StoredEvent]) -> Any:
        state = self.new(customer_id, attributes)
        for item in history:
            state = self.fold(state, item.event, item.analysis, item.category)
        return state

    def report(self, state: Any, as_of: datetime, attributes: Mapping[str, Any] | None = None) -> Any:
        segment = (attributes or {}).get("segment")
        baseline = self.segment_baselines.get(str(segment)) if segment is not None else None
        return state.report(as_of, weights=self.weights, segment_baseline=baseline)


def snapshot_values(report: Any) -> dict[str, Any]:
    """The columns of a health snapshot taken from a report (read directly: ``to_dict`` is costly)."""
    trend = report.trend
    return {
        "health": float(report.health),
        "band": str(report.band),
        "level": None if trend.level is None else round(float(trend.level), 4),
        "declining": bool(trend.declining),
    }
