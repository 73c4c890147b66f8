"""Follow-ups: the customer writing again in the same ticket before it is resolved.

Definition: per unresolved ticket, a *follow-up* is a customer message at least
``min_gap_hours`` (default 4, so one chat burst is one message) after the customer's previous
message in that ticket. A ``resolved``/``closed`` ticket event clears the count. As of ``as_of``
the signal reports the ticket with the most follow-ups whose last customer message is within
``recent_days`` (default 30); ``chasing`` when that is at least ``min_follow_ups`` (default 2).
Tickets without a customer message for ``recent_days`` are forgotten, so the state stays small.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import DAY, iso_date, to_epoch

from ._base import CONTACT_GAP_HOURS, quote

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["FollowUps", "FollowUpsResult"]


@dataclass(frozen=True, slots=True)
class FollowUpsResult:
    ticket: str | None
    follow_ups: int
    first: float | None
    last: float | None
    quote: str | None
    chasing: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "follow_ups": self.follow_ups,
            "first": None if self.first is None else iso_date(self.first),
            "last": None if self.last is None else iso_date(self.last),
            "quote": self.quote,
            "chasing": self.chasing,
        }


class FollowUps:
    """Customer messages per unresolved ticket; see the module docstring."""

    name = "follow_ups"
    __slots__ = ("_gap", "_max_tickets", "_min", "_recent", "_tickets")

    def __init__(
        self,
        *,
        min_gap_hours: float = CONTACT_GAP_HOURS,
        recent_days: float = 30.0,
        min_follow_ups: int = 2,
        max_tickets: int = 100,
    ) -> None:
        self._gap = float(min_gap_hours)
        self._recent = float(recent_days)
        self._min = int(min_follow_ups)
        self._max_tickets = int(max_tickets)
        # ticket -> [first customer message, last customer message, follow-ups, quote of the latest]
        self._tickets: dict[str, list[Any]] = {}

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind == "ticket":
            if event.status in ("resolved", "closed"):
                self._tickets.pop(event.ticket_id, None)
            return self
        if event.kind != "message" or event.author != "customer" or not event.ticket_id:
            return self
        ts = event.timestamp.timestamp()
        entry = self._tickets.get(event.ticket_id)
        if entry is None:
            stale = ts - self._recent * DAY  # tickets nobody wrote in for a while no longer count
            for tid in [tid for tid, e in self._tickets.items() if e[1] < stale]:
                del self._tickets[tid]
            self._tickets[event.ticket_id] = [ts, ts, 0, quote(event.text, analysis)]
            if len(self._tickets) > self._max_tickets:
                del self._tickets[next(iter(self._tickets))]
        elif ts - entry[1] >= self._gap * 3600:
            entry[1] = ts
            entry[2] += 1
            entry[3] = quote(event.text, analysis)
        return self

    def at(self, as_of: datetime) -> FollowUpsResult:
        now = to_epoch(as_of)
        since = now - self._recent * DAY
        best: tuple[str, list[Any]] | None = None
        for tid, entry in self._tickets.items():
            if not since <= entry[1] <= now:
                continue
            if best is None or (entry[2], entry[1]) > (best[1][2], best[1][1]):
                best = (tid, entry)
        if best is None:
            return FollowUpsResult(None, 0, None, None, None, False)
        tid, (first, last, count, text) = best
        return FollowUpsResult(tid, int(count), float(first), float(last), str(text), count >= self._min)

    def to_state(self) -> dict[str, Any]:
        return {
            "min_gap_hours": self._gap,
            "recent_days": self._recent,
            "min_follow_ups": self._min,
            "max_tickets": self._max_tickets,
            "tickets": [[tid, *entry] for tid, entry in self._tickets.items()],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        obj = cls(
            min_gap_hours=float(state["min_gap_hours"]),
            recent_days=float(state["recent_days"]),
            min_follow_ups=int(state["min_follow_ups"]),
            max_tickets=int(state["max_tickets"]),
        )
        obj._tickets = {
            str(tid): [float(first), float(last), int(n), str(q)] for tid, first, last, n, q in state["tickets"]
        }
        return obj
