"""Repeat contacts about the same issue category.

Definition: an *episode* is ``min_contacts`` (default 3) or more contacts (see ``signals._base``)
with the same issue category within ``window_days`` (default 10). The signal is active while the
latest episode's last contact is within ``recent_days`` (default 14) of ``as_of``; "other" and
uncategorised messages never form an episode (they are not one issue). ``counts`` lists the
categories with two or more contacts in the window, the episodes in the making.
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

__all__ = ["RepeatContact", "RepeatContactResult"]


@dataclass(frozen=True, slots=True)
class RepeatContactResult:
    active: bool
    category: str | None
    count: int
    first: float | None
    last: float | None
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "category": self.category,
            "count": self.count,
            "first": None if self.first is None else iso_date(self.first),
            "last": None if self.last is None else iso_date(self.last),
            "counts": dict(self.counts),
        }


class RepeatContact:
    """Contacts per issue category in a sliding window; see the module docstring."""

    name = "repeat_contact"
    __slots__ = ("_by_category", "_episode", "_exclude", "_last", "_min", "_recent", "_window")

    def __init__(
        self,
        window_days: float = 10.0,
        *,
        min_contacts: int = 3,
        recent_days: float = 14.0,
        exclude: tuple[str, ...] = ("other",),
    ) -> None:
        self._window = float(window_days)
        self._min = int(min_contacts)
        self._recent = float(recent_days)
        self._exclude = tuple(exclude)
        self._last: tuple[float, str] | None = None
        self._by_category: dict[str, deque[float]] = {}
        self._episode: tuple[str, int, float, float] | None = None

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind != "message" or event.author != "customer":
            return self
        ts = event.timestamp.timestamp()
        key = contact_key(event)
        last = self._last
        self._last = (ts, key)
        if last is not None and last[1] == key and 0 <= ts - last[0] <= CONTACT_GAP_HOURS * 3600:
            return self
        if not category or category in self._exclude:
            return self
        cutoff = ts - self._window * DAY
        for name in [n for n, q in self._by_category.items() if n != category and q[-1] <= cutoff]:
            del self._by_category[name]
        times = self._by_category.setdefault(category, deque())
        times.append(ts)
        while times[0] <= cutoff:
            times.popleft()
        if len(times) >= self._min:
            self._episode = (category, len(times), times[0], ts)
        return self

    def at(self, as_of: datetime) -> RepeatContactResult:
        now = to_epoch(as_of)
        cutoff = now - self._window * DAY
        counts: dict[str, int] = {}
        for name, times in self._by_category.items():
            n = sum(1 for t in times if cutoff < t <= now)
            if n >= 2:
                counts[name] = n
        ep = self._episode
        if ep is None:
            return RepeatContactResult(False, None, 0, None, None, counts)
        category, count, first, last = ep
        active = 0 <= now - last <= self._recent * DAY
        return RepeatContactResult(active, category, count, first, last, counts)

    def to_state(self) -> dict[str, Any]:
        return {
            "window_days": self._window,
            "min_contacts": self._min,
            "recent_days": self._recent,
            "exclude": list(self._exclude),
            "last": None if self._last is None else list(self._last),
            "by_category": {name: list(times) for name, times in self._by_category.items()},
            "episode": None if self._episode is None else list(self._episode),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        obj = cls(
            float(state["window_days"]),
            min_contacts=int(state["min_contacts"]),
            recent_days=float(state["recent_days"]),
            exclude=tuple(state["exclude"]),
        )
        last = state["last"]
        obj._last = None if last is None else (float(last[0]), str(last[1]))
        obj._by_category = {str(k): deque(float(t) for t in v) for k, v in state["by_category"].items()}
        ep = state["episode"]
        obj._episode = None if ep is None else (str(ep[0]), int(ep[1]), float(ep[2]), float(ep[3]))
        return obj
