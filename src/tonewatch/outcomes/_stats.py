"""Confidence intervals small enough to read and honest enough to act on.

Wilson score intervals for proportions (good at small n and near 0 or 1), Newcombe's hybrid
score interval for a difference of two proportions, and a seeded percentile bootstrap for
means and differences of means (CSAT), so a report is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "bootstrap_mean",
    "bootstrap_mean_difference",
    "bootstrap_proportion_difference",
    "newcombe_difference",
    "wilson",
]

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``successes / n``; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(s1: int, n1: int, s2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """(p1 - p2, low, high) by Newcombe's method 10 (from the two Wilson intervals)."""
    if n1 <= 0 or n2 <= 0:
        return 0.0, -1.0, 1.0
    p1, p2 = s1 / n1, s2 / n2
    l1, u1 = wilson(s1, n1, z)
    l2, u2 = wilson(s2, n2, z)
    diff = p1 - p2
    low = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return diff, max(-1.0, low), min(1.0, high)


def bootstrap_mean(values: Sequence[float], *, iterations: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """(mean, 2.5th, 97.5th percentile of resampled means); NaNs for an empty sample."""
    if not values:
        return math.nan, math.nan, math.nan
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(iterations, len(data)))].mean(axis=1)
    return float(data.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def bootstrap_mean_difference(
    a: Sequence[float], b: Sequence[float], *, iterations: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """(mean(a) - mean(b), low, high) with each group resampled independently."""
    if not a or not b:
        return math.nan, math.nan, math.nan
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    mx = x[rng.integers(0, len(x), size=(iterations, len(x)))].mean(axis=1)
    my = y[rng.integers(0, len(y), size=(iterations, len(y)))].mean(axis=1)
    diffs = mx - my
    return float(x.mean() - y.mean()), float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))


def bootstrap_proportion_difference(
    s1: int, n1: int, s2: int, n2: int, *, iterations: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """The bootstrap counterpart of :func:`newcombe_difference` (a cross-check)."""
    return bootstrap_mean_difference(
        [1.0] * s1 + [0.0] * (n1 - s1), [1.0] * s2 + [0.0] * (n2 - s2), iterations=iterations, seed=seed
    )
