"""Recent negative messages: the quotes behind a negative sentiment level.

Definition: customer-authored texts that are negative (``signals._base.is_negative``). As of
``as_of``: how many in the last ``window_days`` (default 30) and the worst of them (lowest score)
with its date and a short quote of the masked text. The last ``max_items`` (default 20) within
``window_days`` of the newest are kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import DAY, iso_date, to_epoch

from ._base import is_negative, quote

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["NegativeMessages", "NegativeMessagesResult"]

_Item = tuple[float, float, str]  # (time, score, quote)


@dataclass(frozen=True, slots=True)
class NegativeMessagesResult:
    count: int
    worst: _Item | None
    window_days: float

    def to_dict(self) -> dict[str, Any]:
        worst = self.worst
        return {
            "count": self.count,
            "window_days": self.window_days,
            "worst": None
            if worst is None
            else {"date": iso_date(worst[0]), "score": round(worst[1], 4), "quote": worst[2]},
        }


class NegativeMessages:
    """A bounded window of the customer's negative texts with their quotes."""

    name = "negative_messages"
    __slots__ = ("_items", "_max", "_window")

    def __init__(self, window_days: float = 30.0, *, max_items: int = 20) -> None:
        self._window = float(window_days)
        self._max = int(max_items)
        self._items: deque[_Item] = deque(maxlen=self._max)

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if analysis is None or not is_negative(analysis):
            return self
        if event.kind == "message" and event.author == "customer":
            text: str | None = event.text
        elif event.kind == "survey":
            text = event.comment
        else:
            return self
        ts = event.timestamp.timestamp()
        self._items.append((ts, float(analysis.score), quote(text, analysis)))
        while self._items and self._items[0][0] <= ts - self._window * DAY:
            self._items.popleft()
        return self

    def at(self, as_of: datetime) -> NegativeMessagesResult:
        now = to_epoch(as_of)
        since = now - self._window * DAY
        count = 0
        worst: _Item | None = None
        for item in self._items:
            if since < item[0] <= now:
                count += 1
                if worst is None or item[1] < worst[1]:
                    worst = item
        return NegativeMessagesResult(count, worst, self._window)

    def to_state(self) -> dict[str, Any]:
        return {"window_days": self._window, "max_items": self._max, "items": [list(it) for it in self._items]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        obj = cls(float(state["window_days"]), max_items=int(state["max_items"]))
        obj._items.extend((float(t), float(s), str(q)) for t, s, q in state["items"])
        return obj
