"""Urgency and polite escalation carried from the analyses of customer-authored text.

Definition: ``urgent`` counts texts whose ``Analysis.urgency.level`` is ``high`` in the last
``urgent_days`` (default 14); ``polite`` counts texts with a ``polite-escalation`` cue ("Please
advise", "as per my last email", "outstanding for 14 business days") in the last
``polite_days`` (default 30) — the B2B customer who never raises their voice but is about to
escalate. Each keeps its latest evidence (date, cue span, quote). At most ``max_items`` (default
50) of each are kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import DAY, iso_date, to_epoch

from ._base import quote

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["POLITE_ESCALATION", "UrgencyResult", "UrgencySignal"]

POLITE_ESCALATION = "polite-escalation"

_Item = tuple[float, str, str]  # (time, cue span or urgency score, quote)


@dataclass(frozen=True, slots=True)
class UrgencyResult:
    urgent: int
    last_urgent: _Item | None
    polite: int
    last_polite: _Item | None

    def to_dict(self) -> dict[str, Any]:
        def item(it: _Item | None) -> dict[str, Any] | None:
            return None if it is None else {"date": iso_date(it[0]), "cue": it[1], "quote": it[2]}

        return {
            "urgent": self.urgent,
            "last_urgent": item(self.last_urgent),
            "polite_escalation": self.polite,
            "last_polite_escalation": item(self.last_polite),
        }


class UrgencySignal:
    """High-urgency and polite-escalation texts in trailing windows."""

    name = "urgency"
    __slots__ = ("_max", "_polite", "_polite_days", "_urgent", "_urgent_days")

    def __init__(self, *, urgent_days: float = 14.0, polite_days: float = 30.0, max_items: int = 50) -> None:
        self._urgent_days = float(urgent_days)
        self._polite_days = float(polite_days)
        self._max = int(max_items)
        self._urgent: deque[_Item] = deque(maxlen=self._max)
        self._polite: deque[_Item] = deque(maxlen=self._max)

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if analysis is None:
            return self
        if event.kind == "message" and event.author == "customer":
            text: str | None = event.text
        elif event.kind == "survey":
            text = event.comment
        else:
            return self
        ts = event.timestamp.timestamp()
        if analysis.urgency.level == "high":
            self._push(self._urgent, (ts, f"urgency {analysis.urgency.score:.2f}", quote(text, analysis)), ts)
        cues = [c for c in analysis.cues if c.kind == POLITE_ESCALATION]
        if cues:
            spans = " / ".join(dict.fromkeys(c.span for c in cues))[:120]
            self._push(self._polite, (ts, spans, quote(text, analysis, at=cues[-1].start)), ts)
        return self

    def _push(self, items: deque[_Item], item: _Item, ts: float) -> None:
        items.append(item)
        keep = max(self._urgent_days, self._polite_days) * DAY
        while items and items[0][0] < ts - keep:
            items.popleft()

    def at(self, as_of: datetime) -> UrgencyResult:
        now = to_epoch(as_of)
        urgent = [it for it in self._urgent if now - self._urgent_days * DAY < it[0] <= now]
        polite = [it for it in self._polite if now - self._polite_days * DAY < it[0] <= now]
        return UrgencyResult(len(urgent), urgent[-1] if urgent else None, len(polite), polite[-1] if polite else None)

    def to_state(self) -> dict[str, Any]:
        return {
            "urgent_days": self._urgent_days,
            "polite_days": self._polite_days,
            "max_items": self._max,
            "urgent": [list(it) for it in self._urgent],
            "polite": [list(it) for it in self._polite],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        obj = cls(
            urgent_days=float(state["urgent_days"]),
            polite_days=float(state["polite_days"]),
            max_items=int(state["max_items"]),
        )
        obj._urgent.extend((float(t), str(c), str(q)) for t, c, q in state["urgent"])
        obj._polite.extend((float(t), str(c), str(q)) for t, c, q in state["polite"])
        return obj
