"""Usage decline: the silent churner who never complains but stops using the product.

Definition: each usage event reports a metric's value for a period (logins that day, API calls
that week; not a lifetime counter). Per metric, ``recent`` is the mean value over the last
``recent_days`` (default 14) before ``as_of`` and ``baseline`` the mean over the
``baseline_days`` (default 90) before that. ``change = recent / baseline - 1`` (-0.8 is "down
80%") needs at least ``min_baseline`` (default 3) baseline values and one recent value, and a
positive baseline. ``declined`` when the worst metric's change is at most ``-decline_threshold``
(default 0.5). Values move between two deques with running sums, so updates are O(1) amortised
and ``at`` only touches values that aged since the last update. At most ``max_metrics`` (default
20) metrics are tracked; further ones are ignored.
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

__all__ = ["MetricUsage", "UsageDecline", "UsageResult"]


@dataclass(frozen=True, slots=True)
class MetricUsage:
    metric: str
    recent: float | None
    baseline: float | None
    change: float | None
    n_recent: int
    n_baseline: int
    last_reported: float | None

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 3)

        return {
            "recent": r(self.recent),
            "baseline": r(self.baseline),
            "change": r(self.change),
            "n_recent": self.n_recent,
            "n_baseline": self.n_baseline,
            "last_reported": None if self.last_reported is None else iso_date(self.last_reported),
        }


@dataclass(frozen=True, slots=True)
class UsageResult:
    metrics: tuple[MetricUsage, ...]
    worst: MetricUsage | None
    declined: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "declined": self.declined,
            "worst": None if self.worst is None else self.worst.metric,
            "metrics": {m.metric: m.to_dict() for m in self.metrics},
        }


class _Metric:
    """Two adjacent time windows of one metric, each a sorted deque with a running sum."""

    __slots__ = ("base", "base_sum", "recent", "recent_sum")

    def __init__(self) -> None:
        self.recent: deque[tuple[float, float]] = deque()
        self.base: deque[tuple[float, float]] = deque()
        self.recent_sum = 0.0
        self.base_sum = 0.0

    def add(self, ts: float, value: float, recent_s: float, total_s: float) -> None:
        newest = self.recent[-1][0] if self.recent else (self.base[-1][0] if self.base else None)
        if newest is not None and ts < newest:
            self._insert_late(ts, value)
        else:
            self.recent.append((ts, value))
            self.recent_sum += value
        newest = max(ts, newest) if newest is not None else ts
        while self.recent and self.recent[0][0] <= newest - recent_s:
            item = self.recent.popleft()
            self.recent_sum -= item[1]
            self.base.append(item)
            self.base_sum += item[1]
        while self.base and self.base[0][0] <= newest - total_s:
            self.base_sum -= self.base.popleft()[1]
        if not self.recent:
            self.recent_sum = 0.0
        if not self.base:
            self.base_sum = 0.0

    def _insert_late(self, ts: float, value: float) -> None:
        items = sorted([*self.base, *self.recent, (ts, value)], key=lambda p: p[0])
        self.base.clear()
        self.recent = deque(items)
        self.base_sum = 0.0
        self.recent_sum = sum(v for _, v in items)

    def read(self, name: str, now: float, recent_s: float, total_s: float) -> MetricUsage:
        r_sum, r_n = self.recent_sum, len(self.recent)
        b_sum, b_n = self.base_sum, len(self.base)
        recent_cut, base_cut = now - recent_s, now - total_s
        for ts, v in self.base:  # aged out of the baseline window since the last update
            if ts > base_cut:
                break
            b_sum -= v
            b_n -= 1
        for ts, v in self.recent:  # aged out of the recent window: into the baseline, or gone
            if ts > recent_cut:
                break
            r_sum -= v
            r_n -= 1
            if ts > base_cut:
                b_sum += v
                b_n += 1
        last = self.recent[-1][0] if self.recent else (self.base[-1][0] if self.base else None)
        recent = r_sum / r_n if r_n else None
        baseline = b_sum / b_n if b_n else None
        return MetricUsage(name, recent, baseline, None, r_n, b_n, last)


class UsageDecline:
    """Recent versus baseline mean of every usage metric; see the module docstring."""

    name = "usage"
    __slots__ = ("_cfg", "_metrics")

    def __init__(
        self,
        *,
        recent_days: float = 14.0,
        baseline_days: float = 90.0,
        min_baseline: int = 3,
        decline_threshold: float = 0.5,
        max_metrics: int = 20,
    ) -> None:
        self._cfg: dict[str, float] = {
            "recent_days": float(recent_days),
            "baseline_days": float(baseline_days),
            "min_baseline": float(min_baseline),
            "decline_threshold": float(decline_threshold),
            "max_metrics": float(max_metrics),
        }
        self._metrics: dict[str, _Metric] = {}

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind != "usage":
            return self
        metric = self._metrics.get(event.metric)
        if metric is None:
            if len(self._metrics) >= self._cfg["max_metrics"]:
                return self
            metric = self._metrics[event.metric] = _Metric()
        c = self._cfg
        recent_s = c["recent_days"] * DAY
        metric.add(event.timestamp.timestamp(), event.value, recent_s, recent_s + c["baseline_days"] * DAY)
        return self

    def at(self, as_of: datetime) -> UsageResult:
        c = self._cfg
        now = to_epoch(as_of)
        recent_s = c["recent_days"] * DAY
        total_s = recent_s + c["baseline_days"] * DAY
        out: list[MetricUsage] = []
        worst: MetricUsage | None = None
        for name, metric in self._metrics.items():
            m = metric.read(name, now, recent_s, total_s)
            if m.recent is not None and m.baseline is not None and m.baseline > 0 and m.n_baseline >= c["min_baseline"]:
                change = m.recent / m.baseline - 1.0
                m = MetricUsage(name, m.recent, m.baseline, change, m.n_recent, m.n_baseline, m.last_reported)
                if worst is None or (m.change is not None and worst.change is not None and m.change < worst.change):
                    worst = m
            out.append(m)
        declined = worst is not None and worst.change is not None and worst.change <= -c["decline_threshold"]
        return UsageResult(tuple(out), worst, declined)

    def to_state(self) -> dict[str, Any]:
        return {
            "config": dict(self._cfg),
            "metrics": {
                name: {
                    "recent": [list(p) for p in m.recent],
                    "base": [list(p) for p in m.base],
                    "sums": [m.recent_sum, m.base_sum],
                }
                for name, m in self._metrics.items()
            },
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        cfg = state["config"]
        obj = cls(
            recent_days=float(cfg["recent_days"]),
            baseline_days=float(cfg["baseline_days"]),
            min_baseline=int(cfg["min_baseline"]),
            decline_threshold=float(cfg["decline_threshold"]),
            max_metrics=int(cfg["max_metrics"]),
        )
        for name, raw in state["metrics"].items():
            m = _Metric()
            m.recent = deque((float(t), float(v)) for t, v in raw["recent"])
            m.base = deque((float(t), float(v)) for t, v in raw["base"])
            m.recent_sum, m.base_sum = float(raw["sums"][0]), float(raw["sums"][1])
            obj._metrics[str(name)] = m
        return obj
