"""The embedded default: an in-process, bounded queue with the same contract as a broker.

Nothing survives the process, so this is for a single-process deployment (the API and the
worker in one program) and for tests; its bound is the backpressure: ``put`` waits while
the queue is full. Failed deliveries come back, counted, and are dead-lettered after
``max_deliveries`` attempts exactly like on Redis or NATS.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ._source import DeadLetter, Delivery, SourceStats

__all__ = ["InProcessSink", "InProcessSource"]


def _encode(item: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    return json.dumps(dict(item), separators=(",", ":"), default=str).encode("utf-8")


class InProcessSource:
    """A bounded asyncio queue of events (bytes, JSON text or dicts)."""

    def __init__(self, maxsize: int = 10_000, *, max_deliveries: int = 5) -> None:
        if maxsize < 1 or max_deliveries < 1:
            raise ValueError("maxsize and max_deliveries must be positive")
        self.maxsize = maxsize
        self.max_deliveries = max_deliveries
        self.dead: list[DeadLetter] = []
        self._queue: asyncio.Queue[Delivery] | None = None
        self._ids = itertools.count(1)
        self._unacked: dict[str, Delivery] = {}
        self._reasons: dict[str, str] = {}
        self._stats = SourceStats()

    @property
    def description(self) -> str:
        return f"in-process queue (max {self.maxsize})"

    @property
    def stats(self) -> SourceStats:
        return self._stats

    @property
    def queue(self) -> asyncio.Queue[Delivery]:
        if self._queue is None:
            self._queue = asyncio.Queue(self.maxsize)
        return self._queue

    @property
    def unacked(self) -> int:
        """Deliveries handed out and not yet settled (the worker's in-flight work)."""
        return len(self._unacked)

    def _delivery(self, item: bytes | str | Mapping[str, Any]) -> Delivery:
        return Delivery(str(next(self._ids)), _encode(item), 1, int(time.time() * 1000))

    async def put(self, item: bytes | str | Mapping[str, Any]) -> None:
        """Enqueue one event, waiting while the queue is full."""
        await self.queue.put(self._delivery(item))

    def put_nowait(self, item: bytes | str | Mapping[str, Any]) -> None:
        """Enqueue one event; raises ``asyncio.QueueFull`` when full."""
        self.queue.put_nowait(self._delivery(item))

    async def start(self) -> None:
        _ = self.queue

    async def fetch(self, max_messages: int, timeout: float) -> list[Delivery]:
        out: list[Delivery] = []
        q = self.queue
        try:
            first = await asyncio.wait_for(q.get(), timeout) if timeout > 0 else q.get_nowait()
        except (TimeoutError, asyncio.QueueEmpty):
            return out
        pending = [first]
        while len(pending) < max_messages and not q.empty():
            pending.append(q.get_nowait())
        for d in pending:
            if d.deliveries > self.max_deliveries:
                reason = self._reasons.pop(d.id, f"not acknowledged after {d.deliveries - 1} deliveries")
                self.dead.append(DeadLetter(d, reason, "max_deliveries"))
                self._stats.dead_lettered += 1
                self._stats.exhausted += 1
                continue
            self._unacked[d.id] = d
            out.append(d)
        return out

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            self._unacked.pop(d.id, None)
            self._reasons.pop(d.id, None)

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            if self._unacked.pop(letter.delivery.id, None) is not None:
                self.dead.append(letter)
                self._stats.dead_lettered += 1
            self._reasons.pop(letter.delivery.id, None)

    async def fail(self, delivery: Delivery, reason: str) -> None:
        if self._unacked.pop(delivery.id, None) is None:
            return
        self._reasons[delivery.id] = reason
        again = Delivery(delivery.id, delivery.data, delivery.deliveries + 1, delivery.published_ms)
        await self.queue.put(again)

    async def release(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            if self._unacked.pop(d.id, None) is not None:
                await self.queue.put(d)

    @property
    def lease(self) -> float | None:
        return None

    async def extend(self, deliveries: Sequence[Delivery]) -> None:
        return None

    async def close(self) -> None:
        return None


class InProcessSink:
    """Keeps every output record in a list (embedded use and tests)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    @property
    def description(self) -> str:
        return "in-process list"

    async def start(self) -> None:
        return None

    async def send(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.records.extend(dict(r) for r in records)

    async def close(self) -> None:
        return None
