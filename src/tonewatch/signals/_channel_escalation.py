"""Channel escalation: the customer moving to higher-effort channels within days.

Definition: customer messages are ranked by ``CHANNEL_EFFORT`` (in-app/survey < chat/social <
email < phone). An *escalation* is a chain of at least ``min_channels`` (default 3) customer
messages whose effort strictly rises, all within ``window_days`` (default 7): chat -> email ->
phone in a week. It stays active for ``recent_days`` (default 14) after its last step. The chain
ending at each message is computed when the message arrives, from the few messages of the
window, so ``update`` is O(window) and ``at`` is O(1).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import DAY, iso_date, to_epoch

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["ChannelEscalation", "ChannelEscalationResult"]

_Chain = tuple[tuple[float, str], ...]
_EFFORT: dict[str, int] = {}


def _effort(channel: str) -> int:
    """``CHANNEL_EFFORT`` of the event format, imported on first use (signals stay import-light)."""
    if not _EFFORT:
        from tonewatch.ingest.events import CHANNEL_EFFORT

        _EFFORT.update(CHANNEL_EFFORT)
    return _EFFORT.get(channel, 0)


@dataclass(frozen=True, slots=True)
class ChannelEscalationResult:
    active: bool
    chain: _Chain

    @property
    def channels(self) -> list[str]:
        return [ch for _, ch in self.chain]

    def to_dict(self) -> dict[str, Any]:
        return {"active": self.active, "chain": [{"channel": ch, "date": iso_date(t)} for t, ch in self.chain]}


class ChannelEscalation:
    """Rising-effort channel chains within a short window; see the module docstring."""

    name = "channel_escalation"
    __slots__ = ("_episode", "_max_items", "_min_channels", "_recent", "_seen", "_window")

    def __init__(
        self, window_days: float = 7.0, *, min_channels: int = 3, recent_days: float = 14.0, max_items: int = 64
    ) -> None:
        self._window = float(window_days)
        self._min_channels = int(min_channels)
        self._recent = float(recent_days)
        self._max_items = int(max_items)
        # (time, effort, chain ending at this message)
        self._seen: deque[tuple[float, int, _Chain]] = deque()
        self._episode: _Chain | None = None

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind != "message" or event.author != "customer":
            return self
        ts = event.timestamp.timestamp()
        effort = _effort(event.channel)
        start = ts - self._window * DAY
        seen = self._seen
        while seen and (seen[0][0] < start or len(seen) >= self._max_items):
            seen.popleft()
        best: _Chain = ()
        for t, e, chain in seen:
            if e >= effort or t > ts:
                continue
            if chain[0][0] < start:  # keep only the steps still inside the window
                chain = tuple(step for step in chain if step[0] >= start)
            if len(chain) > len(best) or (len(chain) == len(best) and chain[0][0] > best[0][0]):
                best = chain
        mine = (*best, (ts, event.channel))
        seen.append((ts, effort, mine))
        if len(mine) >= self._min_channels:
            self._episode = mine
        return self

    def at(self, as_of: datetime) -> ChannelEscalationResult:
        ep = self._episode
        if ep is None:
            return ChannelEscalationResult(False, ())
        now = to_epoch(as_of)
        return ChannelEscalationResult(0 <= now - ep[-1][0] <= self._recent * DAY, ep)

    def to_state(self) -> dict[str, Any]:
        return {
            "window_days": self._window,
            "min_channels": self._min_channels,
            "recent_days": self._recent,
            "max_items": self._max_items,
            "seen": [[t, e, [list(step) for step in chain]] for t, e, chain in self._seen],
            "episode": None if self._episode is None else [list(step) for step in self._episode],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        obj = cls(
            float(state["window_days"]),
            min_channels=int(state["min_channels"]),
            recent_days=float(state["recent_days"]),
            max_items=int(state["max_items"]),
        )

        def chain(raw: Any) -> _Chain:
            return tuple((float(t), str(ch)) for t, ch in raw)

        obj._seen = deque((float(t), int(e), chain(c)) for t, e, c in state["seen"])
        obj._episode = None if state["episode"] is None else chain(state["episode"])
        return obj
