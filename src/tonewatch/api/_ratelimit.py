"""Per-key token buckets: bursts up to a minute's allowance, then a steady refill.

In memory and per process: a limit protects this server's CPU (the model), which is also
per process, so there is nothing to share between replicas.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """``acquire(key)`` spends one token; when the bucket is empty it returns the seconds to wait."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @property
    def per_minute(self) -> int:
        return int(self._capacity)

    def acquire(self, key: str) -> float:
        """0.0 when allowed (a token was spent), else how long until one token is back."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - last) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate
