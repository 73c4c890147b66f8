"""A customer's sentiment trajectory: level, baseline, slope and a decline detector in one object.

Definitions (all over the scores of customer-authored text, in [-1, 1]):

- ``level``: time-aware EW mean with a short half-life (default 14 days): where the customer is now.
- ``baseline``: EW mean with a long half-life (default 90 days): where the customer usually is.
  While a customer has few scored messages, the *reference* blends it with the segment baseline
  (or ``prior_baseline``) as ``prior_weight`` pseudo-messages: ``(n * baseline + k * prior) / (n + k)``,
  so a new customer is compared with their peers and a long-standing one with themselves.
- ``slope``: least-squares slope per week over the trailing ``slope_window_days`` (default 42).
- ``PageHinkley``: alarm on a sustained fall below the running mean.

``declining`` (as of a time) requires a scored message within ``recent_days`` and one of:

A. a Page-Hinkley alarm within ``alarm_days`` and the level at least ``min_drop`` below the
   customer's own baseline;
B. a clearly negative slope: at most ``-min_slope`` per week, t statistic at most ``-min_t``,
   and a fitted fall of at least ``min_change`` over the window (0.8 -> 0.6 -> 0.4 in six weeks);
C. the level at least ``strong_drop`` below the reference.

A chronic complainer steady at -0.5 meets none of them: their baseline *is* -0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from tonewatch._errors import InputError

from ._ewmean import EWMean
from ._page_hinkley import PageHinkley
from ._slope import Slope, SlopeFit
from ._time import DAY, iso_date, to_epoch

__all__ = ["Trajectory", "Trend"]

_CONFIG_KEYS = (
    "recent_days",
    "alarm_days",
    "min_drop",
    "min_slope",
    "min_t",
    "min_change",
    "strong_drop",
    "prior_weight",
    "prior_baseline",
    "freshness_half_life_days",
)


@dataclass(frozen=True, slots=True)
class Trend:
    """The trajectory read as of one time."""

    level: float | None
    baseline: float | None
    reference: float | None
    drop: float
    slope: SlopeFit | None
    declining: bool
    reasons: tuple[str, ...]
    last_alarm: datetime | None
    last_scored: datetime | None
    n: int
    freshness: float
    segment_baseline: float | None

    def to_dict(self) -> dict[str, Any]:
        """The ``trend`` object of a health report: ``{level, slope, declining}``."""
        return {
            "level": None if self.level is None else round(self.level, 4),
            "slope": None if self.slope is None else round(self.slope.slope, 4),
            "declining": self.declining,
        }

    def details(self) -> dict[str, Any]:
        """Everything behind the trend, for the ``signals.sentiment`` entry of a report."""

        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {
            "level": r(self.level),
            "baseline": r(self.baseline),
            "reference": r(self.reference),
            "segment_baseline": r(self.segment_baseline),
            "drop": round(self.drop, 4),
            "slope": None if self.slope is None else self.slope.to_dict(),
            "declining": self.declining,
            "reasons": list(self.reasons),
            "last_alarm": None if self.last_alarm is None else iso_date(self.last_alarm.timestamp()),
            "last_scored": None if self.last_scored is None else iso_date(self.last_scored.timestamp()),
            "messages": self.n,
            "freshness": round(self.freshness, 4),
        }


class Trajectory:
    """Level, baseline, slope and Page-Hinkley over one customer's scores; see the module docstring."""

    __slots__ = ("_baseline", "_cfg", "_level", "_ph", "_slope")

    def __init__(
        self,
        *,
        level_half_life_days: float = 14.0,
        baseline_half_life_days: float = 90.0,
        slope_window_days: float = 42.0,
        recent_days: float = 28.0,
        alarm_days: float = 42.0,
        min_drop: float = 0.1,
        min_slope: float = 0.03,
        min_t: float = 2.0,
        min_change: float = 0.2,
        strong_drop: float = 0.35,
        prior_weight: float = 1.0,
        prior_baseline: float = 0.0,
        freshness_half_life_days: float = 60.0,
        detector: PageHinkley | None = None,
    ) -> None:
        if prior_weight < 0 or freshness_half_life_days <= 0:
            raise InputError("prior_weight must be >= 0 and freshness_half_life_days > 0")
        self._level = EWMean(level_half_life_days)
        self._baseline = EWMean(baseline_half_life_days)
        self._slope = Slope(slope_window_days)
        self._ph = detector if detector is not None else PageHinkley()
        self._cfg: dict[str, float] = {
            "recent_days": float(recent_days),
            "alarm_days": float(alarm_days),
            "min_drop": float(min_drop),
            "min_slope": float(min_slope),
            "min_t": float(min_t),
            "min_change": float(min_change),
            "strong_drop": float(strong_drop),
            "prior_weight": float(prior_weight),
            "prior_baseline": float(prior_baseline),
            "freshness_half_life_days": float(freshness_half_life_days),
        }

    def update(self, t: datetime, score: float) -> Self:
        """Add the score of one customer-authored text written at ``t``."""
        if not math.isfinite(score):
            raise InputError("score must be a finite number", field="score", code="invalid_value")
        self._level.update(t, score)
        self._baseline.update(t, score)
        self._slope.update(t, score)
        self._ph.update(t, score)
        return self

    @property
    def level(self) -> float | None:
        return self._level.value

    @property
    def baseline(self) -> float | None:
        return self._baseline.value

    @property
    def slope(self) -> float | None:
        return self._slope.value

    @property
    def n(self) -> int:
        return self._level.n

    @property
    def detector(self) -> PageHinkley:
        return self._ph

    def at(self, as_of: datetime, *, segment_baseline: float | None = None) -> Trend:
        """Read the trajectory as of ``as_of`` (windows and recency are relative to it, never the clock)."""
        c = self._cfg
        now = to_epoch(as_of)
        level, baseline = self._level.value, self._baseline.value
        fit = self._slope.at(as_of)
        last = self._level.last_time
        prior = c["prior_baseline"] if segment_baseline is None else float(segment_baseline)
        if level is None or baseline is None or last is None:
            return Trend(None, None, None, 0.0, None, False, (), None, None, 0, 0.0, segment_baseline)
        last_ts = last.timestamp()
        n = self._level.n
        k = c["prior_weight"]
        reference = (n * baseline + k * prior) / (n + k)
        drop = reference - level
        own_drop = baseline - level
        age_days = max(now - last_ts, 0.0) / DAY
        freshness = math.pow(0.5, age_days / c["freshness_half_life_days"])
        alarm = self._ph.last_alarm
        alarm_ts = None if alarm is None else alarm.timestamp()
        reasons: list[str] = []
        if age_days <= c["recent_days"]:
            if alarm_ts is not None and 0 <= now - alarm_ts <= c["alarm_days"] * DAY and own_drop >= c["min_drop"]:
                reasons.append(
                    f"sustained fall below own baseline {baseline:+.2f} (change detector alarm {iso_date(alarm_ts)})"
                )
            if (
                fit is not None
                and fit.slope <= -c["min_slope"]
                and fit.t_stat <= -c["min_t"]
                and -fit.change >= c["min_change"]
            ):
                reasons.append(
                    f"slope {fit.slope:+.2f}/week over {fit.n} messages since {iso_date(fit.first.timestamp())}"
                )
            if drop >= c["strong_drop"]:
                ref = "own and segment baseline" if k > 0 and segment_baseline is not None else "baseline"
                reasons.append(f"level {level:+.2f} is {drop:.2f} below the {ref} {reference:+.2f}")
        return Trend(
            level=level,
            baseline=baseline,
            reference=reference,
            drop=drop,
            slope=fit,
            declining=bool(reasons),
            reasons=tuple(reasons),
            last_alarm=alarm,
            last_scored=last,
            n=self._level.n,
            freshness=freshness,
            segment_baseline=segment_baseline,
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "level": self._level.to_state(),
            "baseline": self._baseline.to_state(),
            "slope": self._slope.to_state(),
            "detector": self._ph.to_state(),
            "config": dict(self._cfg),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        cfg = state["config"]
        obj = cls()
        obj._cfg = {key: float(cfg[key]) for key in _CONFIG_KEYS}
        obj._level = EWMean.from_state(state["level"])
        obj._baseline = EWMean.from_state(state["baseline"])
        obj._slope = Slope.from_state(state["slope"])
        obj._ph = PageHinkley.from_state(state["detector"])
        return obj

    def __repr__(self) -> str:
        return f"Trajectory(level={self.level}, baseline={self.baseline}, slope={self.slope}, n={self.n})"
