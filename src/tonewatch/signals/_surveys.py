"""CSAT/NPS trend on one 0..1 scale (``SurveyEvent.normalized``), so NPS 8 -> 5 reads as a drop.

Definition: the ``latest`` survey counts while it is at most ``relevant_days`` (default 180) old.
``previous`` is the mean of up to ``compare_last`` (default 3) surveys before it, taken within
a year of it; ``drop = previous - latest``. ``dropped`` when the drop is at least
``drop_threshold`` (default 0.2, e.g. NPS 8 -> 6) and the latest survey is within
``recent_days`` (default 90). The last ``history`` (default 10) surveys are kept.
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

__all__ = ["SurveyResult", "SurveyTrend"]


@dataclass(frozen=True, slots=True)
class SurveyResult:
    latest: float | None
    latest_at: float | None
    latest_label: str | None
    previous: float | None
    previous_labels: tuple[str, ...]
    drop: float | None
    dropped: bool
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "latest": None if self.latest is None else round(self.latest, 3),
            "latest_at": None if self.latest_at is None else iso_date(self.latest_at),
            "latest_label": self.latest_label,
            "previous": None if self.previous is None else round(self.previous, 3),
            "previous_labels": list(self.previous_labels),
            "drop": None if self.drop is None else round(self.drop, 3),
            "dropped": self.dropped,
            "n": self.n,
        }


class SurveyTrend:
    """The last few survey scores and the latest one against those before it."""

    name = "surveys"
    __slots__ = ("_cfg", "_surveys")

    def __init__(
        self,
        *,
        relevant_days: float = 180.0,
        recent_days: float = 90.0,
        compare_last: int = 3,
        drop_threshold: float = 0.2,
        history: int = 10,
    ) -> None:
        self._cfg: dict[str, float] = {
            "relevant_days": float(relevant_days),
            "recent_days": float(recent_days),
            "compare_last": float(compare_last),
            "drop_threshold": float(drop_threshold),
            "history": float(history),
        }
        # (time, normalized score, label such as "NPS 8")
        self._surveys: deque[tuple[float, float, str]] = deque(maxlen=int(history))

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind != "survey":
            return self
        ts = event.timestamp.timestamp()
        item = (ts, event.normalized, f"{event.survey.upper()} {event.score:g}")
        if self._surveys and ts < self._surveys[-1][0]:
            ordered = sorted([*self._surveys, item], key=lambda s: s[0])
            self._surveys.clear()
            self._surveys.extend(ordered)
        else:
            self._surveys.append(item)
        return self

    def at(self, as_of: datetime) -> SurveyResult:
        c = self._cfg
        now = to_epoch(as_of)
        items = [s for s in self._surveys if s[0] <= now]
        if not items or now - items[-1][0] > c["relevant_days"] * DAY:
            return SurveyResult(None, None, None, None, (), None, False, len(items))
        ts, latest, label = items[-1]
        earlier = [s for s in items[:-1] if ts - s[0] <= 365 * DAY][-int(c["compare_last"]) :]
        previous = sum(s[1] for s in earlier) / len(earlier) if earlier else None
        drop = None if previous is None else previous - latest
        dropped = drop is not None and drop >= c["drop_threshold"] and now - ts <= c["recent_days"] * DAY
        return SurveyResult(latest, ts, label, previous, tuple(s[2] for s in earlier), drop, dropped, len(items))

    def to_state(self) -> dict[str, Any]:
        return {"config": dict(self._cfg), "surveys": [list(s) for s in self._surveys]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        cfg = state["config"]
        obj = cls(
            relevant_days=float(cfg["relevant_days"]),
            recent_days=float(cfg["recent_days"]),
            compare_last=int(cfg["compare_last"]),
            drop_threshold=float(cfg["drop_threshold"]),
            history=int(cfg["history"]),
        )
        obj._surveys.extend((float(t), float(v), str(lbl)) for t, v, lbl in state["surveys"])
        return obj
