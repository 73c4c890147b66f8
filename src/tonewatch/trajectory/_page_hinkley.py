"""Page-Hinkley test for a sustained *decrease* of a customer's score below their own baseline.

The baseline is the running mean of the customer's scores since the last alarm. Each new score
adds ``clip(x - mean, -clip, clip) + delta`` to a cumulative sum ``m``; ``M`` is the largest value
``m`` has reached. A sustained drop pulls ``m`` down from ``M``, and ``M - m > threshold``
raises an alarm. ``delta`` is the drift tolerated per message (so a steady customer, however
negative, never accumulates), the clip keeps one furious message from counting as a trend, and
``min_instances`` keeps the first few messages from alarming against a baseline that is not one
yet. After an alarm the test restarts, so the new, lower level becomes the baseline.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Self

from tonewatch._errors import InputError

from ._time import from_epoch, to_epoch

__all__ = ["PageHinkley"]


class PageHinkley:
    """One-sided (decrease) Page-Hinkley change detector over a stream of scores."""

    __slots__ = (
        "_alarms",
        "_clip",
        "_delta",
        "_drift",
        "_last_alarm",
        "_m",
        "_max_m",
        "_mean",
        "_min_instances",
        "_n",
        "_threshold",
    )

    def __init__(
        self, *, delta: float = 0.05, threshold: float = 0.8, min_instances: int = 5, clip: float = 0.6
    ) -> None:
        if delta < 0 or not threshold > 0 or clip <= 0 or min_instances < 1:
            raise InputError("PageHinkley needs delta >= 0, threshold > 0, clip > 0, min_instances >= 1")
        self._delta = float(delta)
        self._threshold = float(threshold)
        self._min_instances = int(min_instances)
        self._clip = float(clip)
        self._reset()
        self._last_alarm: float | None = None
        self._alarms = 0
        self._drift = False

    def _reset(self) -> None:
        self._n = 0
        self._mean = 0.0
        self._m = 0.0
        self._max_m = 0.0

    def update(self, t: datetime, x: float) -> Self:
        """Add score ``x`` observed at ``t``; ``drift_detected`` says whether this one raised an alarm."""
        if not math.isfinite(x):
            raise InputError("value must be a finite number", field="value", code="invalid_value")
        self._n += 1
        self._mean += (x - self._mean) / self._n
        dev = min(max(x - self._mean, -self._clip), self._clip)
        self._m += dev + self._delta
        self._max_m = max(self._max_m, self._m)
        self._drift = self._n >= self._min_instances and self._max_m - self._m > self._threshold
        if self._drift:
            self._last_alarm = to_epoch(t)
            self._alarms += 1
            self._reset()
        return self

    @property
    def statistic(self) -> float:
        """``M - m``: how far the cumulative sum has fallen from its peak (alarm above ``threshold``)."""
        return self._max_m - self._m

    @property
    def baseline(self) -> float | None:
        """Running mean since the last alarm (None right after a reset)."""
        return self._mean if self._n else None

    @property
    def drift_detected(self) -> bool:
        """Whether the latest update raised an alarm."""
        return self._drift

    @property
    def last_alarm(self) -> datetime | None:
        return None if self._last_alarm is None else from_epoch(self._last_alarm)

    @property
    def alarms(self) -> int:
        return self._alarms

    def to_state(self) -> dict[str, Any]:
        return {
            "delta": self._delta,
            "threshold": self._threshold,
            "min_instances": self._min_instances,
            "clip": self._clip,
            "n": self._n,
            "mean": self._mean,
            "m": self._m,
            "max_m": self._max_m,
            "last_alarm": self._last_alarm,
            "alarms": self._alarms,
            "drift": self._drift,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        obj = cls(
            delta=float(state["delta"]),
            threshold=float(state["threshold"]),
            min_instances=int(state["min_instances"]),
            clip=float(state["clip"]),
        )
        obj._n = int(state["n"])
        obj._mean = float(state["mean"])
        obj._m = float(state["m"])
        obj._max_m = float(state["max_m"])
        obj._last_alarm = None if state["last_alarm"] is None else float(state["last_alarm"])
        obj._alarms = int(state["alarms"])
        obj._drift = bool(state["drift"])
        return obj

    def __repr__(self) -> str:
        return f"PageHinkley(statistic={self.statistic:.3f}, alarms={self._alarms})"
