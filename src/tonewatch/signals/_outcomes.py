"""Commercial outcomes so far: renewals and expansions, downgrades, churn.

Definition: ``renewals`` counts renewed and expanded outcomes (loyalty shown); ``downgraded``
while the latest downgrade is within ``downgrade_days`` (default 180); ``churned`` when the
latest churn is not followed by a renewal or expansion. Churn is a label (what ``fit_weights``
learns to predict), never a health factor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import DAY, iso_date, to_epoch

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["Outcomes", "OutcomesResult"]


@dataclass(frozen=True, slots=True)
class OutcomesResult:
    renewals: int
    last_renewal: float | None
    downgraded: bool
    last_downgrade: float | None
    churned: bool
    churned_at: float | None

    def to_dict(self) -> dict[str, Any]:
        def d(ts: float | None) -> str | None:
            return None if ts is None else iso_date(ts)

        return {
            "renewals": self.renewals,
            "last_renewal": d(self.last_renewal),
            "downgraded": self.downgraded,
            "last_downgrade": d(self.last_downgrade),
            "churned": self.churned,
            "churned_at": d(self.churned_at),
        }


class Outcomes:
    """Commercial outcomes so far: renewals/expansions, downgrades, churn."""

    name = "outcomes"
    __slots__ = ("_counts", "_downgrade_days", "_last")

    _KINDS = ("renewed", "expanded", "downgraded", "churned")

    def __init__(self, *, downgrade_days: float = 180.0) -> None:
        self._downgrade_days = float(downgrade_days)
        self._counts: dict[str, int] = dict.fromkeys(self._KINDS, 0)
        self._last: dict[str, float | None] = dict.fromkeys(self._KINDS)

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind != "outcome":
            return self
        ts = event.timestamp.timestamp()
        self._counts[event.outcome] += 1
        prev = self._last[event.outcome]
        if prev is None or ts > prev:
            self._last[event.outcome] = ts
        return self

    def at(self, as_of: datetime) -> OutcomesResult:
        now = to_epoch(as_of)
        renewals = self._counts["renewed"] + self._counts["expanded"]
        stamps = [t for t in (self._last["renewed"], self._last["expanded"]) if t is not None]
        last_renewal = max(stamps) if stamps else None
        down = self._last["downgraded"]
        churn = self._last["churned"]
        churned = churn is not None and churn <= now and (last_renewal is None or last_renewal < churn)
        return OutcomesResult(
            renewals=renewals,
            last_renewal=last_renewal,
            downgraded=down is not None and 0 <= now - down <= self._downgrade_days * DAY,
            last_downgrade=down,
            churned=churned,
            churned_at=churn if churned else None,
        )

    def to_state(self) -> dict[str, Any]:
        return {"downgrade_days": self._downgrade_days, "counts": dict(self._counts), "last": dict(self._last)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        obj = cls(downgrade_days=float(state["downgrade_days"]))
        obj._counts = {k: int(state["counts"][k]) for k in cls._KINDS}
        obj._last = {k: None if state["last"][k] is None else float(state["last"][k]) for k in cls._KINDS}
        return obj
