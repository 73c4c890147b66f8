"""Tenure: how long someone has been a customer.

Definition: days from the ``signup_date`` attribute (else the first event seen) to ``as_of``;
``new`` below ``new_days`` (default 90). New customers churn more; long-standing ones have shown
they stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import DAY, iso_date, to_epoch

from ._dates import date_attr

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["Tenure", "TenureResult"]


@dataclass(frozen=True, slots=True)
class TenureResult:
    since: str | None
    days: float | None
    new: bool

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since, "days": None if self.days is None else round(self.days, 1), "new": self.new}


class Tenure:
    """How long the customer has been a customer: ``signup_date``, else the first event seen."""

    name = "tenure"
    __slots__ = ("_first_seen", "_new_days", "_signup")

    def __init__(self, *, new_days: float = 90.0) -> None:
        self._new_days = float(new_days)
        self._signup: str | None = None
        self._first_seen: float | None = None

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind == "customer" and "signup_date" in event.attributes:
            self._signup = date_attr(event.attributes["signup_date"])
        if event.timestamp is not None:
            ts = event.timestamp.timestamp()
            if self._first_seen is None or ts < self._first_seen:
                self._first_seen = ts
        return self

    def at(self, as_of: datetime) -> TenureResult:
        now = to_epoch(as_of)
        if self._signup is not None:
            start = datetime.fromisoformat(self._signup + "T00:00:00+00:00").timestamp()
            since = self._signup
        elif self._first_seen is not None:
            start, since = self._first_seen, iso_date(self._first_seen)
        else:
            return TenureResult(None, None, False)
        days = max(now - start, 0.0) / DAY
        return TenureResult(since, days, days < self._new_days)

    def to_state(self) -> dict[str, Any]:
        return {"new_days": self._new_days, "signup": self._signup, "first_seen": self._first_seen}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        obj = cls(new_days=float(state["new_days"]))
        obj._signup = state["signup"]
        obj._first_seen = None if state["first_seen"] is None else float(state["first_seen"])
        return obj
