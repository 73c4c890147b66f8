"""Least-squares slope of a customer's scores over a trailing window, in score units per week.

Definition: ordinary least squares of ``score`` on ``time`` (weeks) over the observations made
in ``(as_of - window_days, as_of]``. With fewer than ``min_points`` observations, or when they
span less than ``min_span_days`` (three messages in one afternoon say nothing about a trend),
there is no slope. The fit also gives the slope's t statistic, so callers can tell a clear
trend from noise.

The window is a bounded deque plus running sums (origin-shifted for precision), so ``update``
is O(1) amortised and a fit at a later ``as_of`` only subtracts the few observations that have
aged out since.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from tonewatch._errors import InputError

from ._time import DAY, WEEK, from_epoch, iso_date, to_epoch

__all__ = ["Slope", "SlopeFit"]


@dataclass(frozen=True, slots=True)
class SlopeFit:
    """One least-squares fit: slope per week, its t statistic and the data it rests on."""

    slope: float
    t_stat: float
    n: int
    first: datetime
    last: datetime

    @property
    def span_weeks(self) -> float:
        return (self.last - self.first).total_seconds() / WEEK

    @property
    def change(self) -> float:
        """Fitted change over the span of the data (slope x span): how far the trend line moved."""
        return self.slope * self.span_weeks

    def to_dict(self) -> dict[str, Any]:
        return {
            "slope_per_week": round(self.slope, 4),
            "t_stat": None if not math.isfinite(self.t_stat) else round(self.t_stat, 2),
            "n": self.n,
            "first": iso_date(self.first.timestamp()),
            "last": iso_date(self.last.timestamp()),
            "change": round(self.change, 4),
        }


class Slope:
    """Trailing-window least-squares slope of ``(time, score)`` observations (per week)."""

    __slots__ = (
        "_max_points",
        "_min_points",
        "_min_span",
        "_origin",
        "_points",
        "_su",
        "_suu",
        "_sux",
        "_sx",
        "_sxx",
        "_window",
    )

    def __init__(
        self, window_days: float = 42.0, *, min_points: int = 3, min_span_days: float = 7.0, max_points: int = 256
    ) -> None:
        if not window_days > 0:
            raise InputError("window_days must be positive", field="window_days")
        if min_points < 3:
            raise InputError("min_points must be at least 3 (a slope needs a residual)", field="min_points")
        if max_points < min_points:
            raise InputError("max_points must be at least min_points", field="max_points")
        self._window = float(window_days)
        self._min_points = int(min_points)
        self._min_span = float(min_span_days)
        self._max_points = int(max_points)
        self._origin = 0.0
        self._points: deque[tuple[float, float]] = deque()
        self._su = self._sx = self._suu = self._sux = self._sxx = 0.0

    # -- streaming -----------------------------------------------------------------------------
    def update(self, t: datetime, x: float) -> Self:
        """Add score ``x`` observed at ``t`` and drop observations older than the window."""
        self._add(to_epoch(t), x)
        return self

    def _add(self, ts: float, x: float) -> None:
        if not math.isfinite(x):
            raise InputError("value must be a finite number", field="value", code="invalid_value")
        pts = self._points
        if not pts:
            self._origin = ts
            self._su = self._sx = self._suu = self._sux = self._sxx = 0.0
        if not pts or ts >= pts[-1][0]:
            pts.append((ts, x))
        else:  # late arrival: keep the deque sorted so eviction stays from the left
            i = len(pts)
            while i > 0 and pts[i - 1][0] > ts:
                i -= 1
            pts.insert(i, (ts, x))
        self._accumulate(ts, x, 1.0)
        newest = pts[-1][0]
        cutoff = newest - self._window * DAY
        while pts and (pts[0][0] <= cutoff or len(pts) > self._max_points):
            old_t, old_x = pts.popleft()
            self._accumulate(old_t, old_x, -1.0)
        if not pts:  # pragma: no cover - the newest point always stays
            self._su = self._sx = self._suu = self._sux = self._sxx = 0.0

    def _accumulate(self, ts: float, x: float, sign: float) -> None:
        u = (ts - self._origin) / WEEK
        self._su += sign * u
        self._sx += sign * x
        self._suu += sign * u * u
        self._sux += sign * u * x
        self._sxx += sign * x * x

    # -- reading -------------------------------------------------------------------------------
    @property
    def window_days(self) -> float:
        return self._window

    @property
    def n(self) -> int:
        """Observations currently inside the window (relative to the latest one)."""
        return len(self._points)

    @property
    def value(self) -> float | None:
        """Slope per week as of the latest observation (None when there is too little data)."""
        if not self._points:
            return None
        fit = self._fit(self._points[-1][0])
        return None if fit is None else fit.slope

    def at(self, as_of: datetime) -> SlopeFit | None:
        """The fit over ``(as_of - window, as_of]`` (observations after ``as_of`` are not expected)."""
        return self._fit(to_epoch(as_of))

    def _fit(self, as_of: float) -> SlopeFit | None:
        pts = self._points
        cutoff = as_of - self._window * DAY
        su, sx, suu, sux, sxx = self._su, self._sx, self._suu, self._sux, self._sxx
        k = 0
        n = len(pts)
        while k < n and pts[k][0] <= cutoff:
            ts, x = pts[k]
            u = (ts - self._origin) / WEEK
            su -= u
            sx -= x
            suu -= u * u
            sux -= u * x
            sxx -= x * x
            k += 1
        m = n - k
        if m < self._min_points:
            return None
        first, last = pts[k][0], pts[-1][0]
        if last - first < self._min_span * DAY:
            return None
        stt = suu - su * su / m
        stx = sux - su * sx / m
        sxx_c = sxx - sx * sx / m
        if stt <= 0:
            return None
        slope = stx / stt
        sse = max(sxx_c - slope * stx, 0.0)
        se = math.sqrt(sse / (m - 2) / stt)
        if se > 0:
            t_stat = slope / se
        else:
            t_stat = math.copysign(math.inf, slope) if slope != 0 else 0.0
        return SlopeFit(slope=slope, t_stat=t_stat, n=m, first=from_epoch(first), last=from_epoch(last))

    # -- persistence ---------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "window_days": self._window,
            "min_points": self._min_points,
            "min_span_days": self._min_span,
            "max_points": self._max_points,
            "origin": self._origin,
            "points": [[t, x] for t, x in self._points],
            "sums": [self._su, self._sx, self._suu, self._sux, self._sxx],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        obj = cls(
            float(state["window_days"]),
            min_points=int(state["min_points"]),
            min_span_days=float(state["min_span_days"]),
            max_points=int(state["max_points"]),
        )
        obj._origin = float(state["origin"])
        obj._points = deque((float(t), float(x)) for t, x in state["points"])
        obj._su, obj._sx, obj._suu, obj._sux, obj._sxx = (float(v) for v in state["sums"])
        return obj

    def __repr__(self) -> str:
        return f"Slope(window_days={self._window}, n={self.n}, value={self.value})"
