"""Renewal proximity: days from ``as_of`` to the ``renewal_date`` attribute.

Definition: ``days = renewal_date - as_of`` (calendar days, UTC); ``soon`` when
``0 <= days <= soon_days`` (default 60). A renewal date in the past is reported, never flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import from_epoch, to_epoch

from ._dates import date_attr

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["Renewal", "RenewalResult"]


@dataclass(frozen=True, slots=True)
class RenewalResult:
    renewal_date: str | None
    days: int | None
    soon: bool

    def to_dict(self) -> dict[str, Any]:
        return {"renewal_date": self.renewal_date, "days_to_renewal": self.days, "soon": self.soon}


class Renewal:
    """Renewal proximity from the ``renewal_date`` attribute (customer events merge attributes)."""

    name = "renewal"
    __slots__ = ("_date", "_soon_days")

    def __init__(self, *, soon_days: int = 60) -> None:
        self._soon_days = int(soon_days)
        self._date: str | None = None

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind == "customer" and "renewal_date" in event.attributes:
            self._date = date_attr(event.attributes["renewal_date"])
        return self

    @property
    def renewal_date(self) -> date | None:
        return None if self._date is None else date.fromisoformat(self._date)

    def at(self, as_of: datetime) -> RenewalResult:
        if self._date is None:
            return RenewalResult(None, None, False)
        days = (date.fromisoformat(self._date) - from_epoch(to_epoch(as_of)).date()).days
        return RenewalResult(self._date, days, 0 <= days <= self._soon_days)

    def to_state(self) -> dict[str, Any]:
        return {"soon_days": self._soon_days, "date": self._date}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        obj = cls(soon_days=int(state["soon_days"]))
        obj._date = state["date"]
        return obj
