"""The contract between a message broker and the worker: ``Source`` in, ``Sink`` out.

The interface is asynchronous because the brokers' clients are (nats-py only has an
asyncio client), while the pipeline itself is synchronous and runs in worker threads.
A source hands out :class:`Delivery` objects and is told, per delivery, what became of
it: ``ack`` once its effects are committed, ``dead_letter`` when it can never succeed,
``fail`` when this attempt failed (it comes back later, counted), ``release`` when the
worker is stopping before it started on it. Whatever is never acked comes back: that is
what makes a crash lose nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["DeadLetter", "Delivery", "Sink", "Source", "SourceStats"]


@dataclass(slots=True)
class Delivery:
    """One message handed to a worker.

    ``id`` is the broker's id (a Redis entry id, a JetStream stream sequence),
    ``deliveries`` counts this delivery (1 the first time), ``published_ms`` is when the
    producer published it (unix milliseconds, for latency) and ``token`` is whatever the
    source needs to acknowledge it.
    """

    id: str
    data: bytes
    deliveries: int = 1
    published_ms: int | None = None
    token: Any = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A delivery that will never succeed, with the reason stored next to it."""

    delivery: Delivery
    reason: str
    code: str = "rejected"


@dataclass(slots=True)
class SourceStats:
    """What a source did beyond handing out messages (for logs and tests)."""

    reconnects: int = 0
    reclaimed: int = 0
    dead_lettered: int = 0
    exhausted: int = 0  # dead-lettered because they reached the maximum number of deliveries

    def to_dict(self) -> dict[str, int]:
        return {
            "reconnects": self.reconnects,
            "reclaimed": self.reclaimed,
            "dead_lettered": self.dead_lettered,
            "exhausted": self.exhausted,
        }


@runtime_checkable
class Source(Protocol):
    """A stream of deliveries shared by a group of workers (at-least-once)."""

    @property
    def description(self) -> str: ...

    @property
    def stats(self) -> SourceStats: ...

    async def start(self) -> None:
        """Connect and create what is missing (stream, group, consumer)."""

    async def fetch(self, max_messages: int, timeout: float) -> list[Delivery]:
        """Up to ``max_messages`` deliveries, waiting at most ``timeout`` seconds for the first.

        Includes messages reclaimed from dead consumers; messages that reached the maximum
        number of deliveries are dead-lettered here and never returned.
        """

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        """The deliveries' effects are committed: never deliver them again."""

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        """Move poison messages to the dead-letter stream with their reason, and ack them."""

    async def fail(self, delivery: Delivery, reason: str) -> None:
        """This attempt failed; deliver it again later (the attempt counts)."""

    async def release(self, deliveries: Sequence[Delivery]) -> None:
        """Give back deliveries the worker will not process (shutting down)."""

    @property
    def lease(self) -> float | None:
        """Seconds an unacknowledged delivery stays this worker's (None: forever)."""

    async def extend(self, deliveries: Sequence[Delivery]) -> None:
        """Still working on these: renew their lease so no other worker takes them over.

        A live but slow worker (a slow store) keeps its messages; a dead one stops renewing
        and its messages are taken over after ``lease`` seconds.
        """

    async def close(self) -> None: ...


@runtime_checkable
class Sink(Protocol):
    """Where results and flags go (at-least-once; records carry ``event_id`` to dedupe)."""

    @property
    def description(self) -> str: ...

    async def start(self) -> None: ...

    async def send(self, records: Sequence[Mapping[str, Any]]) -> None: ...

    async def close(self) -> None: ...
