"""Unresolved and reopened tickets, and how long the oldest one has been open.

Definition: a ticket is open from an ``opened``/``pending``/``reopened`` ticket event until a
``resolved``/``closed`` one (only ticket events move tickets; messages do not). As of ``as_of``:
``open`` tickets, the ``oldest`` one's age in days (from its opening, or its latest reopening),
``stale`` when that age is at least ``stale_days`` (default 14); ``reopened`` counts reopenings in
the last ``reopen_window_days`` (default 90), and ``recently_reopened`` is a reopening within
``reopen_recent_days`` (default 30). At most ``max_open`` (default 50) open tickets are tracked
(oldest dropped), and the last ``max_closed`` (default 200) closed ones are remembered to tell a
reopening from a new ticket.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import DAY, from_epoch, iso_date, to_epoch

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["TicketResult", "Tickets"]

_OPEN = frozenset({"opened", "pending", "reopened"})


@dataclass(frozen=True, slots=True)
class TicketResult:
    open: int
    oldest_ticket: str | None
    oldest_opened: float | None
    oldest_age_days: float | None
    stale: bool
    reopened: int
    last_reopened: float | None
    last_reopened_ticket: str | None
    recently_reopened: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "oldest_ticket": self.oldest_ticket,
            "oldest_opened": None if self.oldest_opened is None else iso_date(self.oldest_opened),
            "oldest_age_days": None if self.oldest_age_days is None else round(self.oldest_age_days, 1),
            "stale": self.stale,
            "reopened": self.reopened,
            "last_reopened": None if self.last_reopened is None else iso_date(self.last_reopened),
            "last_reopened_ticket": self.last_reopened_ticket,
            "recently_reopened": self.recently_reopened,
        }


class Tickets:
    """Open tickets (id -> opened time) and a bounded history of reopenings."""

    name = "tickets"
    __slots__ = ("_cfg", "_closed", "_closed_set", "_open", "_reopens")

    def __init__(
        self,
        *,
        stale_days: float = 14.0,
        reopen_window_days: float = 90.0,
        reopen_recent_days: float = 30.0,
        max_open: int = 50,
        max_closed: int = 200,
    ) -> None:
        self._cfg: dict[str, float] = {
            "stale_days": float(stale_days),
            "reopen_window_days": float(reopen_window_days),
            "reopen_recent_days": float(reopen_recent_days),
            "max_open": float(max_open),
            "max_closed": float(max_closed),
        }
        self._open: dict[str, float] = {}
        self._closed: deque[str] = deque()
        self._closed_set: set[str] = set()
        self._reopens: deque[tuple[float, str]] = deque(maxlen=50)

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind != "ticket":
            return self
        ts = event.timestamp.timestamp()
        tid = event.ticket_id
        status = event.status
        if status in _OPEN:
            was_closed = tid in self._closed_set
            if status == "reopened" or was_closed:  # any open status after a close is a reopening
                self._reopens.append((ts, tid))
                self._open.pop(tid, None)
            if was_closed:
                self._closed_set.discard(tid)
                self._closed.remove(tid)  # keep the deque and the set equal, so from_state rebuilds the same
            if tid not in self._open:
                self._open[tid] = ts
                if len(self._open) > self._cfg["max_open"]:
                    del self._open[next(iter(self._open))]
        else:
            self._open.pop(tid, None)
            if tid not in self._closed_set:
                self._closed.append(tid)
                self._closed_set.add(tid)
                while len(self._closed) > self._cfg["max_closed"]:
                    self._closed_set.discard(self._closed.popleft())
        return self

    @property
    def open_tickets(self) -> dict[str, datetime]:
        return {tid: from_epoch(ts) for tid, ts in self._open.items()}

    def at(self, as_of: datetime) -> TicketResult:
        c = self._cfg
        now = to_epoch(as_of)
        oldest_id: str | None = None
        oldest_ts: float | None = None
        n_open = 0
        for tid, ts in self._open.items():
            if ts > now:
                continue
            n_open += 1
            if oldest_ts is None or ts < oldest_ts:
                oldest_id, oldest_ts = tid, ts
        age = None if oldest_ts is None else (now - oldest_ts) / DAY
        window = now - c["reopen_window_days"] * DAY
        reopened = 0
        last_ts: float | None = None
        last_tid: str | None = None
        for ts, tid in self._reopens:
            if window < ts <= now:
                reopened += 1
                last_ts, last_tid = ts, tid
        recent = last_ts is not None and now - last_ts <= c["reopen_recent_days"] * DAY
        return TicketResult(
            open=n_open,
            oldest_ticket=oldest_id,
            oldest_opened=oldest_ts,
            oldest_age_days=age,
            stale=age is not None and age >= c["stale_days"],
            reopened=reopened,
            last_reopened=last_ts,
            last_reopened_ticket=last_tid,
            recently_reopened=recent,
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "config": dict(self._cfg),
            "open": [[tid, ts] for tid, ts in self._open.items()],
            "closed": list(self._closed),
            "reopens": [[ts, tid] for ts, tid in self._reopens],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        cfg = state["config"]
        obj = cls(
            stale_days=float(cfg["stale_days"]),
            reopen_window_days=float(cfg["reopen_window_days"]),
            reopen_recent_days=float(cfg["reopen_recent_days"]),
            max_open=int(cfg["max_open"]),
            max_closed=int(cfg["max_closed"]),
        )
        obj._open = {str(tid): float(ts) for tid, ts in state["open"]}
        obj._closed = deque(str(t) for t in state["closed"])
        obj._closed_set = set(obj._closed)
        obj._reopens.extend((float(ts), str(tid)) for ts, tid in state["reopens"])
        return obj
