"""The explainable health report: score, band, trend, signals, factors and flags.

``health = base + sum(points)`` exactly: each factor's points are ``weight * value`` rounded to
0.1, and when the sum would leave 0..100 the factors pushing it out are scaled down together
(their reasons say so), so the breakdown always adds up to the score a lead sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tonewatch.trajectory import Trend

from ._factors import Draft, Reading
from ._weights import FEATURES, HealthWeights

__all__ = ["BANDS", "Band", "Factor", "HealthReport", "band_of", "compose"]

Band = Literal["healthy", "watch", "at-risk", "critical"]
# (band, lowest health in it), best first.
BANDS: tuple[tuple[Band, float], ...] = (("healthy", 70.0), ("watch", 50.0), ("at-risk", 30.0), ("critical", 0.0))


def band_of(health: float) -> Band:
    """healthy >= 70, watch 50-70, at-risk 30-50, critical < 30."""
    for name, floor in BANDS:
        if health >= floor:
            return name
    return "critical"


@dataclass(frozen=True, slots=True)
class Factor:
    """One line of the breakdown: how many points a factor moved the score, and why."""

    name: str
    points: float
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    value: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "points": self.points, "reason": self.reason, "evidence": dict(self.evidence)}


@dataclass(frozen=True, slots=True)
class HealthReport:
    """A customer's health as of a time. ``to_dict()`` is one item of ``tonewatch health --format json``."""

    customer_id: str
    as_of: datetime
    health: float
    band: Band
    base: float
    trend: Trend
    factors: tuple[Factor, ...]
    flags: tuple[str, ...]
    features: Mapping[str, float]
    reading: Reading

    @property
    def risk(self) -> float:
        """100 - health: sort by it, descending, to list the customers most at risk first."""
        return round(100.0 - self.health, 1)

    @property
    def declining(self) -> bool:
        return self.trend.declining

    @property
    def signals(self) -> dict[str, dict[str, Any]]:
        return self.reading.signals()

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "health": self.health,
            "band": self.band,
            "trend": self.trend.to_dict(),
            "signals": self.reading.signals(),
            "factors": [f.to_dict() for f in self.factors],
            "flags": list(self.flags),
        }


def _r1(x: float) -> float:
    return round(x + 0.0, 1) + 0.0  # + 0.0 turns -0.0 into 0.0


def compose(
    drafts: Sequence[Draft], weights: HealthWeights
) -> tuple[float, float, tuple[Factor, ...], dict[str, float]]:
    """Weight the drafts into factors; returns ``(health, base, factors, features)``."""
    features = dict.fromkeys(FEATURES, 0.0)
    for d in drafts:
        features[d.name] = d.value
    base = _r1(weights.base)
    table = weights.points_map
    raw = [(d, table[d.name] * d.value) for d in drafts]
    total = base + sum(p for _, p in raw)
    scale_neg = scale_pos = 1.0
    if total < 0:
        neg = -sum(p for _, p in raw if p < 0)
        pos = sum(p for _, p in raw if p > 0)
        scale_neg = (base + pos) / neg
    elif total > 100:
        neg = -sum(p for _, p in raw if p < 0)
        pos = sum(p for _, p in raw if p > 0)
        scale_pos = (100.0 - base + neg) / pos
    factors: list[Factor] = []
    for d, p in raw:
        scaled = p * (scale_neg if p < 0 else scale_pos)
        points = _r1(scaled)
        if points == 0:
            continue
        reason = d.reason
        if scaled != p:
            reason += f" (scaled from {p:+.1f}: the score is bounded to 0-100)"
        factors.append(Factor(d.name, points, reason, d.evidence, d.value))
    health = _r1(base + sum(f.points for f in factors))
    if health < 0 or health > 100:  # rounding residue of scaled factors: give it to the largest one
        target = 0.0 if health < 0 else 100.0
        i = max(range(len(factors)), key=lambda k: abs(factors[k].points))
        f = factors[i]
        factors[i] = Factor(f.name, _r1(f.points + target - health), f.reason, f.evidence, f.value)
        health = _r1(base + sum(f.points for f in factors))
    factors.sort(key=lambda f: (f.points, f.name))
    return health, base, tuple(factors), features
