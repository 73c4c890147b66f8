"""Time-aware exponentially weighted mean.

Messages arrive irregularly (three in a day, then nothing for a month), so weights decay with
elapsed *time*, not with the number of observations: an observation made ``d`` days before
the latest one weighs ``0.5 ** (d / half_life_days)``. The mean is

    sum(w_i * x_i) / sum(w_i)

which a two-number state (``sum(w*x)`` and ``sum(w)``, both as of the latest time) updates in
O(1). An observation older than the latest one is weighted by its age instead of decaying the
state, so the result does not depend on arrival order.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Self

from tonewatch._errors import InputError

from ._time import DAY, from_epoch, to_epoch

__all__ = ["EWMean"]


class EWMean:
    """Exponentially weighted mean of ``(time, value)`` observations with a half-life in days."""

    __slots__ = ("_half_life", "_n", "_sum_w", "_sum_wx", "_t")

    def __init__(self, half_life_days: float = 14.0) -> None:
        if not (half_life_days > 0 and math.isfinite(half_life_days)):
            raise InputError("half_life_days must be a positive number", field="half_life_days")
        self._half_life = float(half_life_days)
        self._t: float | None = None
        self._sum_wx = 0.0
        self._sum_w = 0.0
        self._n = 0

    def update(self, t: datetime, x: float) -> Self:
        """Add observation ``x`` made at ``t``."""
        self._add(to_epoch(t), x)
        return self

    def _add(self, ts: float, x: float) -> None:
        if not math.isfinite(x):
            raise InputError("value must be a finite number", field="value", code="invalid_value")
        if self._t is None:
            self._t = ts
            self._sum_wx, self._sum_w = x, 1.0
        elif ts >= self._t:
            decay = math.pow(0.5, (ts - self._t) / (self._half_life * DAY))
            self._sum_wx = self._sum_wx * decay + x
            self._sum_w = self._sum_w * decay + 1.0
            self._t = ts
        else:
            w = math.pow(0.5, (self._t - ts) / (self._half_life * DAY))
            self._sum_wx += w * x
            self._sum_w += w
        self._n += 1

    @property
    def half_life_days(self) -> float:
        return self._half_life

    @property
    def value(self) -> float | None:
        """The weighted mean (None before the first observation)."""
        return None if self._n == 0 else self._sum_wx / self._sum_w

    @property
    def n(self) -> int:
        """Number of observations seen."""
        return self._n

    @property
    def last_time(self) -> datetime | None:
        return None if self._t is None else from_epoch(self._t)

    def weight_at(self, as_of: datetime) -> float:
        """Effective number of observations still 'remembered' at ``as_of`` (sum of decayed weights)."""
        return self._weight_at(to_epoch(as_of))

    def _weight_at(self, ts: float) -> float:
        if self._t is None:
            return 0.0
        return self._sum_w * math.pow(0.5, max(ts - self._t, 0.0) / (self._half_life * DAY))

    def to_state(self) -> dict[str, Any]:
        return {"half_life_days": self._half_life, "t": self._t, "swx": self._sum_wx, "sw": self._sum_w, "n": self._n}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        obj = cls(float(state["half_life_days"]))
        obj._t = None if state["t"] is None else float(state["t"])
        obj._sum_wx = float(state["swx"])
        obj._sum_w = float(state["sw"])
        obj._n = int(state["n"])
        return obj

    def __repr__(self) -> str:
        return f"EWMean(half_life_days={self._half_life}, value={self.value}, n={self._n})"
