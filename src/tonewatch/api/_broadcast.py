"""In-process fan-out of live analyses and flags to Server-Sent-Event clients.

The pipeline runs in worker threads; each subscriber lives on the event loop. ``publish``
is thread-safe and never blocks ingestion: a client too slow to keep up loses its oldest
items (and is told how many) instead of growing memory without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Broadcaster", "StreamEvent", "Subscription"]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One item of the live stream; ``data`` is redacted per subscriber before it is sent."""

    type: str  # "analysis" | "flag" | "review"
    customer_id: str | None
    data: dict[str, Any]
    channel: str | None = None
    id: int = 0


@dataclass(eq=False)
class Subscription:
    """A subscriber's bounded queue plus its filters; iterate with :meth:`get`."""

    loop: asyncio.AbstractEventLoop
    customer_ids: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    types: frozenset[str] | None = None
    queue: asyncio.Queue[StreamEvent] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    dropped: int = 0

    def wants(self, event: StreamEvent) -> bool:
        if self.types is not None and event.type not in self.types:
            return False
        if self.customer_ids is not None and event.customer_id not in self.customer_ids:
            return False
        return self.channels is None or event.channel in self.channels

    def _offer(self, event: StreamEvent) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self, timeout: float | None) -> StreamEvent | None:
        """The next event, or None after ``timeout`` seconds without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class Broadcaster:
    """Holds the subscriptions; ``publish`` may be called from any thread."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def subscribe(
        self,
        *,
        customer_ids: Iterable[str] | None = None,
        channels: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
    ) -> Subscription:
        """Register a subscriber on the running event loop (call from async code)."""
        sub = Subscription(
            asyncio.get_running_loop(),
            None if customer_ids is None else frozenset(customer_ids),
            None if channels is None else frozenset(channels),
            None if types is None else frozenset(types),
        )
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, events: Iterable[StreamEvent]) -> None:
        """Hand events to every interested subscriber (ids are assigned here, in order)."""
        with self._lock:
            subs = list(self._subs)
        for event in events:
            numbered = StreamEvent(event.type, event.customer_id, event.data, event.channel, next(self._ids))
            for sub in subs:
                if sub.wants(numbered):
                    with contextlib.suppress(RuntimeError):  # the subscriber's loop has closed
                        sub.loop.call_soon_threadsafe(sub._offer, numbered)
