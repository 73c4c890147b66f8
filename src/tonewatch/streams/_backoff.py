"""Exponential backoff with full jitter, for reconnecting to brokers and retrying the store.

Jitter matters with several workers: after a broker restart they would otherwise all
reconnect in the same millisecond, again and again.
"""

from __future__ import annotations

import asyncio
import random

__all__ = ["Backoff"]


class Backoff:
    """Delays ``initial * factor**n`` capped at ``maximum``, each drawn uniformly in [d/2, d]."""

    def __init__(
        self, initial: float = 0.05, maximum: float = 5.0, factor: float = 2.0, *, rng: random.Random | None = None
    ) -> None:
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("backoff needs 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.attempts = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next attempt (and count this attempt)."""
        ceiling = min(self.maximum, self.initial * self.factor**self.attempts)
        self.attempts += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    async def wait(self) -> float:
        """Sleep for the next delay; returns how long it slept."""
        delay = self.next_delay()
        await asyncio.sleep(delay)
        return delay

    def reset(self) -> None:
        """Back to the shortest delay (after a success)."""
        self.attempts = 0
