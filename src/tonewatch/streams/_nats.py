"""NATS JetStream: a durable pull consumer with explicit acks, a writer, and the dead letters.

One JetStream stream ``NAME`` holds three subjects: ``NAME.events`` (what workers consume),
``NAME.results`` (their outputs) and ``NAME.dead`` (dead letters). The durable consumer
(``--group``) is shared by every worker, filtered to ``NAME.events``:

- a worker acknowledges a message only after its effects are committed; a message not
  acknowledged within ``ack_wait`` (``claim_idle``) is redelivered to any worker, which
  is how a dead worker's messages come back; JetStream counts deliveries;
- ``max_deliver`` is left unlimited on the server: the worker itself dead-letters a
  message on its delivery number ``max_deliveries + 1`` (publishing it to ``NAME.dead``
  with the reason in headers, then ``term``), so the reason travels with it; the
  dead-letter publish carries a ``Nats-Msg-Id`` so a retry after a crash is deduplicated;
- ``nak`` (with a delay growing per attempt) returns a failed message, ``nak()`` returns a
  message the worker will not process because it is stopping.

The client reconnects by itself (forever, with jittered waits); operations that fail
while it does are retried with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from tonewatch._errors import ConfigurationError, require_extra

from ._backoff import Backoff
from ._source import DeadLetter, Delivery, SourceStats

__all__ = ["NatsJetStreamSource", "NatsJetStreamWriter", "ensure_stream", "nats_subjects"]

_log = logging.getLogger("tonewatch.streams.nats")
_DUPLICATE_WINDOW_S = 600.0
_HEADER_UNSAFE = re.compile(r"[\r\n]+")


def nats_subjects(stream: str) -> dict[str, str]:
    """The subjects of a tonewatch stream: events in, results and dead letters out."""
    if not stream or any(c in stream for c in " .*>"):
        raise ConfigurationError(f"not a valid JetStream stream name: {stream!r}", field="stream")
    return {"events": f"{stream}.events", "output": f"{stream}.results", "dead_letter": f"{stream}.dead"}


def _mod(name: str) -> Any:
    """An optional nats-py module, or MissingExtraError naming the ``nats`` extra."""
    return require_extra(name, "nats", "NATS JetStream")


def _nats() -> Any:
    return _mod("nats")


def _api() -> Any:
    return _mod("nats.js.api")


async def _connect(url: str, name: str, stats: SourceStats | None) -> Any:
    nats = _nats()

    async def on_disconnect() -> None:
        _log.warning("nats disconnected from %s; reconnecting", url)

    async def on_reconnect() -> None:
        if stats is not None:
            stats.reconnects += 1
        _log.warning("nats reconnected to %s", url)

    async def on_error(exc: Exception) -> None:
        _log.debug("nats client error: %s", exc)

    backoff = Backoff(0.1, 5.0)
    while True:
        try:
            return await nats.connect(
                servers=[url],
                name=name,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=5,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
                error_cb=on_error,
            )
        except (OSError, TimeoutError, _nats().errors.NoServersError) as exc:
            delay = backoff.next_delay()
            _log.warning("nats unreachable at %s (%s); retrying in %.2fs", url, exc, delay)
            await asyncio.sleep(delay)


async def ensure_stream(js: Any, stream: str) -> None:
    """Create the stream (all of its subjects) unless it exists."""
    errors = _mod("nats.js.errors")
    try:
        await js.stream_info(stream)
    except errors.NotFoundError:
        try:
            await js.add_stream(
                name=stream, subjects=[f"{stream}.>"], duplicate_window=_DUPLICATE_WINDOW_S, max_msgs=-1
            )
        except errors.BadRequestError:  # created meanwhile by another worker
            await js.stream_info(stream)


def _header(value: str) -> str:
    return _HEADER_UNSAFE.sub(" ", value)[:1000]


def _transient() -> tuple[type[BaseException], ...]:
    nats = _nats()
    js_errors = _mod("nats.js.errors")
    e = nats.errors
    return (
        e.ConnectionClosedError,
        e.ConnectionReconnectingError,
        e.FlushTimeoutError,
        e.NoRespondersError,
        e.StaleConnectionError,
        e.TimeoutError,
        js_errors.ServiceUnavailableError,
        js_errors.APIError,
        OSError,
        TimeoutError,
        asyncio.TimeoutError,
    )


class NatsJetStreamSource:
    """A worker's view of the shared durable pull consumer ``group`` on stream ``stream``."""

    def __init__(
        self,
        url: str,
        stream: str,
        group: str,
        *,
        consumer: str | None = None,
        dead_letter: str | None = None,
        max_deliveries: int = 5,
        claim_idle: float = 30.0,
    ) -> None:
        if max_deliveries < 1:
            raise ConfigurationError("max_deliveries must be at least 1", field="max_deliveries")
        if claim_idle <= 0:
            raise ConfigurationError("claim_idle must be positive", field="claim_idle")
        subjects = nats_subjects(stream)
        self.url = url
        self.stream = stream
        self.group = group
        self.consumer = consumer or group
        self.subject = subjects["events"]
        self.dead_letter_subject = dead_letter or subjects["dead_letter"]
        self.max_deliveries = max_deliveries
        self.claim_idle = claim_idle
        self._stats = SourceStats()
        self._nc: Any = None
        self._js: Any = None
        self._sub: Any = None
        self._reasons: dict[str, str] = {}
        self._backoff = Backoff(0.05, 5.0)
        self._closing = False

    @property
    def description(self) -> str:
        return f"nats stream {self.stream!r} consumer {self.group!r}"

    @property
    def stats(self) -> SourceStats:
        return self._stats

    async def start(self) -> None:
        api = _api()
        self._nc = await _connect(self.url, f"tonewatch-worker-{self.consumer}", self._stats)
        self._js = self._nc.jetstream()
        backoff = Backoff(0.1, 5.0)
        while True:
            try:
                await ensure_stream(self._js, self.stream)
                config = api.ConsumerConfig(
                    durable_name=self.group,
                    ack_policy=api.AckPolicy.EXPLICIT,
                    ack_wait=self.claim_idle,
                    max_deliver=-1,
                    filter_subject=self.subject,
                    deliver_policy=api.DeliverPolicy.ALL,
                )
                self._sub = await self._js.pull_subscribe(
                    self.subject, durable=self.group, stream=self.stream, config=config
                )
                return
            except _transient() as exc:
                _log.warning("nats: setting up the consumer failed (%s); retrying", exc)
                await backoff.wait()

    async def fetch(self, max_messages: int, timeout: float) -> list[Delivery]:
        nats = _nats()
        try:
            msgs = await self._sub.fetch(batch=max_messages, timeout=max(timeout, 0.001))
        except (nats.errors.TimeoutError, TimeoutError):
            return []
        except _transient() as exc:
            if self._closing:
                return []
            _log.warning("nats fetch failed (%s); backing off", exc)
            await asyncio.sleep(min(self._backoff.next_delay(), max(timeout, 0.05)))
            return []
        self._backoff.reset()
        out: list[Delivery] = []
        exhausted: list[DeadLetter] = []
        for msg in msgs:
            meta = msg.metadata
            seq = str(meta.sequence.stream)
            published = int(meta.timestamp.timestamp() * 1000)
            d = Delivery(seq, bytes(msg.data), int(meta.num_delivered), published, msg)
            if d.deliveries > self.max_deliveries:
                why = self._reasons.pop(seq, None)
                last = f"; last error: {why}" if why else " (the consumer died or timed out each time)"
                exhausted.append(
                    DeadLetter(d, f"not acknowledged after {d.deliveries - 1} deliveries{last}", "max_deliveries")
                )
            else:
                if d.deliveries > 1:
                    self._stats.reclaimed += 1
                out.append(d)
        if exhausted:
            self._stats.exhausted += await self._move(exhausted)
        return out

    async def _retry(self, what: str, op: Any) -> None:
        backoff = Backoff(0.05, 5.0)
        while True:
            try:
                await op()
                return
            except _transient() as exc:
                if self._closing:
                    raise
                _log.warning("nats: %s failed (%s); retrying", what, exc)
                await backoff.wait()

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        errors = _nats().errors

        async def op() -> None:
            for d in deliveries:
                # Already sent on an earlier try: flushing below makes sure it left.
                with contextlib.suppress(errors.MsgAlreadyAckdError):
                    await d.token.ack()
            await self._nc.flush(timeout=5)

        await self._retry("acknowledging", op)
        for d in deliveries:
            self._reasons.pop(d.id, None)

    async def _move(self, letters: Sequence[DeadLetter]) -> int:
        errors = _nats().errors

        async def op() -> None:
            for letter in letters:
                d = letter.delivery
                headers = {
                    "Nats-Msg-Id": f"dead:{self.stream}:{self.group}:{d.id}",
                    "Tonewatch-Reason": _header(letter.reason),
                    "Tonewatch-Code": letter.code,
                    "Tonewatch-Deliveries": str(d.deliveries),
                    "Tonewatch-Source-Seq": d.id,
                }
                await self._js.publish(self.dead_letter_subject, d.data, headers=headers)
                with contextlib.suppress(errors.MsgAlreadyAckdError):
                    await d.token.term()
            await self._nc.flush(timeout=5)

        await self._retry("dead-lettering", op)
        for letter in letters:
            self._reasons.pop(letter.delivery.id, None)
        self._stats.dead_lettered += len(letters)
        return len(letters)

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        if letters:
            await self._move(letters)

    async def fail(self, delivery: Delivery, reason: str) -> None:
        """Redeliver after a delay that doubles per attempt (capped at ``claim_idle``)."""
        self._reasons[delivery.id] = reason[:1000]
        delay = min(self.claim_idle, 0.5 * 2 ** (delivery.deliveries - 1))
        try:
            await delivery.token.nak(delay=delay)
        except _transient():
            _log.warning("nats: nak failed; the message comes back after ack_wait")

    async def release(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            try:
                await d.token.nak()
            except _transient():
                _log.warning("nats: nak failed; the message comes back after ack_wait")

    @property
    def lease(self) -> float | None:
        return self.claim_idle

    async def extend(self, deliveries: Sequence[Delivery]) -> None:
        """``in_progress`` resets each message's ack_wait."""
        for d in deliveries:
            if d.token.is_acked:
                continue
            try:
                await d.token.in_progress()
            except _transient():
                _log.debug("renewing a lease failed; retried on the next heartbeat")
                return

    async def close(self) -> None:
        self._closing = True
        nc, self._nc = self._nc, None
        if nc is not None:
            # Not drain(): it waits for the pull subscription's open request to expire. What is
            # acknowledged was flushed; anything else comes back to the group by design.
            with contextlib.suppress(*_transient()):
                await nc.flush(timeout=2)
            await nc.close()


class NatsJetStreamWriter:
    """Publishes messages to one subject of a JetStream stream (outputs, ``tonewatch publish``)."""

    def __init__(self, url: str, stream: str, subject: str | None = None, *, window: int = 256) -> None:
        self.url = url
        self.stream = stream
        self.subject = subject or nats_subjects(stream)["output"]
        self.window = window
        self._nc: Any = None
        self._js: Any = None

    @property
    def description(self) -> str:
        return f"nats subject {self.subject!r}"

    async def start(self) -> None:
        self._nc = await _connect(self.url, "tonewatch-writer", None)
        self._js = self._nc.jetstream()
        await ensure_stream(self._js, self.stream)

    async def send(self, records: Sequence[Mapping[str, Any]]) -> None:
        await self.send_raw([json.dumps(dict(r), separators=(",", ":"), default=str).encode() for r in records])

    async def send_raw(self, messages: Sequence[bytes], msg_ids: Sequence[str | None] | None = None) -> None:
        """Publish and wait for JetStream to store each one (``window`` at a time)."""
        ids = list(msg_ids) if msg_ids is not None else [None] * len(messages)
        for start in range(0, len(messages), self.window):
            part = range(start, min(start + self.window, len(messages)))
            await asyncio.gather(*(self._publish(messages[i], ids[i]) for i in part))

    async def _publish(self, data: bytes, msg_id: str | None) -> None:
        # every message gets an id, so a retry after a lost acknowledgement (the message was stored, the
        # reply did not arrive) is dropped by JetStream's duplicate window instead of stored twice
        headers = {"Nats-Msg-Id": msg_id or uuid.uuid4().hex}
        backoff = Backoff(0.05, 5.0)
        for attempt in range(30):
            try:
                await self._js.publish(self.subject, data, headers=headers, timeout=5)
                return
            except _transient():
                if attempt == 29:
                    raise
                await backoff.wait()

    async def close(self) -> None:
        nc, self._nc = self._nc, None
        if nc is not None:
            with contextlib.suppress(*_transient()):
                await nc.flush(timeout=2)
            await nc.close()
