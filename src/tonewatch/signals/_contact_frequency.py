"""Contact frequency against the customer's own norm.

Definition: ``recent`` is the number of contacts (see ``signals._base``) in the last
``recent_days`` (default 14) before ``as_of``; ``typical`` is the customer's usual number per
``recent_days``: contacts before that window divided by the history before it (from the first
event seen), scaled to ``recent_days``. It is unknown until there are ``recent_days`` of such
history. ``spike`` when ``recent >= min_recent`` and ``recent`` is at least ``spike_ratio``
times ``max(typical, floor)``: the customer who writes once a quarter and three times this week.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import DAY, iso_date, to_epoch

from ._base import CONTACT_GAP_HOURS, contact_key

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["ContactFrequency", "ContactFrequencyResult"]


@dataclass(frozen=True, slots=True)
class ContactFrequencyResult:
    recent: int
    typical: float | None
    ratio: float | None
    spike: bool
    window_days: float
    last_contact: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recent": self.recent,
            "typical": None if self.typical is None else round(self.typical, 3),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "spike": self.spike,
            "window_days": self.window_days,
            "last_contact": None if self.last_contact is None else iso_date(self.last_contact),
        }


class ContactFrequency:
    """Contacts in the recent window versus the customer's typical rate."""

    name = "contact_frequency"
    __slots__ = (
        "_first_seen",
        "_floor",
        "_last",
        "_max_recent",
        "_min_recent",
        "_recent",
        "_spike",
        "_total",
        "_window",
    )

    def __init__(
        self,
        recent_days: float = 14.0,
        *,
        spike_ratio: float = 2.0,
        min_recent: int = 3,
        floor: float = 1.0,
        max_recent: int = 500,
    ) -> None:
        self._window = float(recent_days)
        self._spike = float(spike_ratio)
        self._min_recent = int(min_recent)
        self._floor = float(floor)
        self._max_recent = int(max_recent)
        self._last: tuple[float, str] | None = None
        self._recent: deque[float] = deque()
        self._total = 0
        self._first_seen: float | None = None

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        """Count a new contact when ``event`` is a customer message that starts one."""
        if event.timestamp is None:
            return self
        ts = event.timestamp.timestamp()
        if self._first_seen is None or ts < self._first_seen:
            self._first_seen = ts
        if event.kind != "message" or event.author != "customer":
            return self
        key = contact_key(event)
        last = self._last
        if last is not None and last[1] == key and 0 <= ts - last[0] <= CONTACT_GAP_HOURS * 3600:
            self._last = (ts, key)
            return self
        self._last = (ts, key)
        self._total += 1
        self._recent.append(ts)
        cutoff = ts - self._window * DAY
        while self._recent and (self._recent[0] <= cutoff or len(self._recent) > self._max_recent):
            self._recent.popleft()
        return self

    @property
    def total(self) -> int:
        """Contacts seen so far."""
        return self._total

    def at(self, as_of: datetime) -> ContactFrequencyResult:
        now = to_epoch(as_of)
        cutoff = now - self._window * DAY
        recent = sum(1 for t in self._recent if cutoff < t <= now)
        typical: float | None = None
        ratio: float | None = None
        if self._first_seen is not None:
            history_days = (cutoff - self._first_seen) / DAY
            if history_days >= self._window:
                typical = (self._total - recent) / history_days * self._window
                ratio = recent / max(typical, self._floor)
        spike = ratio is not None and recent >= self._min_recent and ratio >= self._spike
        last = self._last[0] if self._last is not None else None
        return ContactFrequencyResult(recent, typical, ratio, spike, self._window, last)

    def to_state(self) -> dict[str, Any]:
        return {
            "recent_days": self._window,
            "spike_ratio": self._spike,
            "min_recent": self._min_recent,
            "floor": self._floor,
            "max_recent": self._max_recent,
            "last": None if self._last is None else list(self._last),
            "recent": list(self._recent),
            "total": self._total,
            "first_seen": self._first_seen,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        obj = cls(
            float(state["recent_days"]),
            spike_ratio=float(state["spike_ratio"]),
            min_recent=int(state["min_recent"]),
            floor=float(state["floor"]),
            max_recent=int(state["max_recent"]),
        )
        last = state["last"]
        obj._last = None if last is None else (float(last[0]), str(last[1]))
        obj._recent = deque(float(t) for t in state["recent"])
        obj._total = int(state["total"])
        obj._first_seen = None if state["first_seen"] is None else float(state["first_seen"])
        return obj
