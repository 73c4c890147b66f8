"""Redis Streams: a consumer-group source, a stream writer (outputs, publishing) and the dead letters.

How nothing is lost and nothing counted twice:

- every worker reads with ``XREADGROUP`` under its own consumer name, so what it was
  handed stays in the group's pending list (PEL) until it acknowledges it with ``XACK``,
  which the worker does only after the event's effects are committed to the store;
- a worker that dies leaves its messages pending; any worker reclaims messages idle
  for longer than ``claim_idle`` with ``XAUTOCLAIM`` (its own lost deliveries too), and
  Redis counts every delivery;
- a message delivered more than ``max_deliveries`` times, or refused as invalid, is moved
  to the dead-letter stream by a Lua script that acknowledges it and appends it (with
  its reason) atomically, and only if the acknowledgement took: a message is dead-lettered
  once even when two workers race on it;
- the store applies events idempotently by ``event_id``, so a message that comes back
  after its effects were committed (a crash between commit and ``XACK``) is a duplicate.

Connections are retried with exponential backoff (with jitter); redis-py's own retries
are off so that a failed command is never silently re-sent.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tonewatch._errors import ConfigurationError, require_extra

from ._backoff import Backoff
from ._source import DeadLetter, Delivery, SourceStats

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisStreamSource", "RedisStreamWriter", "default_consumer_name", "redis_names"]

_log = logging.getLogger("tonewatch.streams.redis")
_T = TypeVar("_T")

# ARGV: group, then (id, data, reason, code, deliveries) per letter.
_DEAD_LETTER_LUA = """
local n = 0
for i = 2, #ARGV, 5 do
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    redis.call('XADD', KEYS[2], '*', 'data', ARGV[i + 1], 'reason', ARGV[i + 2], 'code', ARGV[i + 3],
      'deliveries', ARGV[i + 4], 'source_id', ARGV[i], 'stream', KEYS[1], 'group', ARGV[1])
    n = n + 1
  end
  redis.call('HDEL', KEYS[3], ARGV[i])
end
return n
"""

# Renew the idle time of the entries this consumer still owns (never steal one back).
# ARGV: group, consumer, then ids.
_EXTEND_LUA = """
local n = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    n = n + 1
  end
end
return n
"""


def redis_names(stream: str, group: str) -> dict[str, str]:
    """Default key names derived from the stream: outputs, dead letters, failure reasons."""
    return {
        "output": f"{stream}:results",
        "dead_letter": f"{stream}:dead",
        "failures": f"{stream}:{group}:failures",
    }


def default_consumer_name() -> str:
    """Unique per process, so a restarted worker never inherits (and hides) a dead one's work."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _mod(name: str) -> Any:
    """An optional redis-py module, or MissingExtraError naming the ``redis`` extra."""
    return require_extra(name, "redis", "Redis Streams")


def _connect(url: str, client_name: str | None, socket_timeout: float) -> Redis:
    mod = _mod("redis.asyncio")
    retry_mod = _mod("redis.asyncio.retry")
    backoff_mod = _mod("redis.backoff")
    try:
        client: Redis = mod.Redis.from_url(
            url,
            client_name=client_name,
            socket_timeout=socket_timeout,
            socket_connect_timeout=5.0,
            socket_keepalive=True,
            retry=retry_mod.Retry(backoff_mod.NoBackoff(), 0),
            decode_responses=False,
        )
    except ValueError as exc:
        raise ConfigurationError(f"not a Redis URL: {url!r} ({exc})", field="source") from None
    return client


def _transient() -> tuple[type[BaseException], ...]:
    exc = _mod("redis.exceptions")
    return (exc.ConnectionError, exc.TimeoutError, ConnectionError, TimeoutError, OSError)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _ms_of(entry_id: str) -> int | None:
    head = entry_id.split("-", 1)[0]
    return int(head) if head.isdigit() else None


class _Connection:
    """A Redis client plus the retry-with-backoff loop every command goes through."""

    def __init__(self, url: str, client_name: str | None, socket_timeout: float, stats: SourceStats | None) -> None:
        self.url = url
        self.client_name = client_name
        self.socket_timeout = socket_timeout
        self.stats = stats
        self.backoff = Backoff(0.05, 5.0)
        self.client: Redis | None = None
        self.closing = False
        self._down = False
        self._errors = _transient()

    def open(self) -> Redis:
        if self.client is None:
            self.client = _connect(self.url, self.client_name, self.socket_timeout)
        return self.client

    async def call(self, op: Callable[[Redis], Awaitable[_T]], what: str, *, give_up_after: float | None = None) -> _T:
        """Run ``op`` until it succeeds; back off and reconnect on connection errors.

        ``give_up_after`` (seconds) re-raises the last error after that long, for callers
        that would rather return than wait (fetching); acknowledgements wait forever.
        """
        started = time.monotonic()
        while True:
            client = self.open()
            try:
                result = await op(client)
            except self._errors as exc:
                if self.closing:
                    raise
                if not self._down:
                    _log.warning("redis unavailable while %s (%s); reconnecting with backoff", what, exc)
                self._down = True
                await self._reset()
                if give_up_after is not None and time.monotonic() - started >= give_up_after:
                    raise
                await self.backoff.wait()
                continue
            if self._down:
                self._down = False
                if self.stats is not None:
                    self.stats.reconnects += 1
                _log.warning("redis reachable again (%s)", what)
            self.backoff.reset()
            return result

    async def _reset(self) -> None:
        """Drop every pooled connection so the next command dials afresh."""
        client, self.client = self.client, None
        if client is not None:
            try:
                await client.aclose(close_connection_pool=True)
            except Exception:
                _log.debug("closing a broken redis client failed", exc_info=True)

    async def close(self) -> None:
        self.closing = True
        client, self.client = self.client, None
        if client is not None:
            await client.aclose(close_connection_pool=True)


class RedisStreamSource:
    """A consumer of one Redis stream within a consumer group (created when missing).

    ``claim_idle`` is how long (seconds) a delivery may stay unacknowledged before another
    consumer may take it over: longer than the slowest batch, short enough to recover a dead
    worker's messages quickly. ``start_id`` is where a new group starts (``0``: the whole
    stream; ``$``: only new messages).
    """

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
        reclaim_interval: float | None = None,
        start_id: str = "0",
    ) -> None:
        if max_deliveries < 1:
            raise ConfigurationError("max_deliveries must be at least 1", field="max_deliveries")
        if claim_idle <= 0:
            raise ConfigurationError("claim_idle must be positive", field="claim_idle")
        names = redis_names(stream, group)
        self.url = url
        self.stream = stream
        self.group = group
        self.consumer = consumer or default_consumer_name()
        self.dead_letter_stream = dead_letter or names["dead_letter"]
        self.failures_key = names["failures"]
        self.max_deliveries = max_deliveries
        self.claim_idle = claim_idle
        self.reclaim_interval = reclaim_interval if reclaim_interval is not None else max(0.2, min(claim_idle / 2, 5.0))
        self.start_id = start_id
        self._stats = SourceStats()
        self._conn = _Connection(url, f"tonewatch-worker-{self.consumer}", 30.0, self._stats)
        self._dead_script: Any = None
        self._extend_script: Any = None
        self._last_reclaim = 0.0
        self._claim_cursor = "0-0"

    @property
    def description(self) -> str:
        return f"redis stream {self.stream!r} group {self.group!r} as {self.consumer!r}"

    @property
    def stats(self) -> SourceStats:
        return self._stats

    async def start(self) -> None:
        errors = _mod("redis.exceptions")

        async def create(client: Redis) -> None:
            try:
                await client.xgroup_create(self.stream, self.group, id=self.start_id, mkstream=True)
            except errors.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

        await self._conn.call(create, "creating the consumer group")

    async def fetch(self, max_messages: int, timeout: float) -> list[Delivery]:
        now = time.monotonic()
        if now - self._last_reclaim >= self.reclaim_interval:
            self._last_reclaim = now
            claimed = await self._reclaim(max_messages)
            if claimed:
                return claimed
        block = max(1, int(timeout * 1000)) if timeout > 0 else None

        async def read(client: Redis) -> Any:
            return await client.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=max_messages, block=block
            )

        try:
            reply = await self._conn.call(read, "reading", give_up_after=max(timeout, 0.0))
        except _transient():
            return []
        out: list[Delivery] = []
        for _stream, entries in reply or ():
            for raw_id, fields in entries:
                entry_id = _text(raw_id)
                out.append(Delivery(entry_id, _data(fields), 1, _ms_of(entry_id)))
        return out

    async def _reclaim(self, max_messages: int) -> list[Delivery]:
        """Take over deliveries idle for ``claim_idle`` (dead consumers'); dead-letter exhausted ones."""
        min_idle = int(self.claim_idle * 1000)

        async def claim(client: Redis) -> Any:
            return await client.xautoclaim(
                self.stream, self.group, self.consumer, min_idle, start_id=self._claim_cursor, count=max_messages
            )

        try:
            reply = await self._conn.call(claim, "reclaiming", give_up_after=0.0)
        except _transient():
            return []
        cursor, entries = _text(reply[0]), reply[1]
        self._claim_cursor = cursor
        if cursor != "0-0":
            self._last_reclaim = 0.0  # more to claim: look again on the next fetch
        live = [(_text(i), f) for i, f in entries if f is not None]
        gone = [_text(i) for i, f in entries if f is None]
        if gone:  # deleted from the stream while pending (Redis 6.2): nothing left to process
            await self._conn.call(lambda c: c.xack(self.stream, self.group, *gone), "acknowledging deleted entries")
        if not live:
            return []
        counts = await self._delivery_counts([i for i, _ in live])
        out: list[Delivery] = []
        exhausted: list[tuple[Delivery, int]] = []
        for entry_id, fields in live:
            n = counts.get(entry_id, 2)
            d = Delivery(entry_id, _data(fields), n, _ms_of(entry_id))
            if n > self.max_deliveries:
                exhausted.append((d, n))
            else:
                out.append(d)
        self._stats.reclaimed += len(out)
        if exhausted:
            await self._dead_letter_exhausted(exhausted)
        return out

    async def _delivery_counts(self, ids: list[str]) -> dict[str, int]:
        """How many times each id was delivered (this claim included), one exact lookup each."""

        async def pending(client: Redis) -> list[Any]:
            async with client.pipeline(transaction=False) as pipe:
                for i in ids:
                    pipe.xpending_range(self.stream, self.group, i, i, 1)
                return list(await pipe.execute())

        replies = await self._conn.call(pending, "reading delivery counts")
        counts: dict[str, int] = {}
        for rows in replies:
            for r in rows:
                counts[_text(r["message_id"])] = int(r["times_delivered"])
        return counts

    async def _dead_letter_exhausted(self, items: list[tuple[Delivery, int]]) -> None:
        ids = [d.id for d, _ in items]

        async def reasons(client: Redis) -> Any:
            return await client.hmget(self.failures_key, ids)

        found = await self._conn.call(reasons, "reading failure reasons")
        letters = []
        for (d, n), why in zip(items, found, strict=True):
            last = f"; last error: {_text(why)}" if why else " (the consumer died or timed out each time)"
            letters.append(DeadLetter(d, f"not acknowledged after {n - 1} deliveries{last}", "max_deliveries"))
        moved = await self._move(letters)
        self._stats.exhausted += moved

    async def _move(self, letters: Sequence[DeadLetter]) -> int:
        if not letters:
            return 0
        if self._dead_script is None:
            self._dead_script = self._conn.open().register_script(_DEAD_LETTER_LUA)
        args: list[Any] = [self.group]
        for letter in letters:
            d = letter.delivery
            args += [d.id, d.data, letter.reason, letter.code, d.deliveries]
        keys = [self.stream, self.dead_letter_stream, self.failures_key]

        async def run(client: Redis) -> Any:
            return await self._dead_script(keys=keys, args=args, client=client)

        moved = int(await self._conn.call(run, "dead-lettering"))
        self._stats.dead_lettered += moved
        return moved

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        ids = [d.id for d in deliveries]
        retried = [d.id for d in deliveries if d.deliveries > 1]

        async def ack(client: Redis) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.xack(self.stream, self.group, *ids)
                if retried:
                    pipe.hdel(self.failures_key, *retried)
                await pipe.execute()

        await self._conn.call(ack, "acknowledging")

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        await self._move(letters)

    async def fail(self, delivery: Delivery, reason: str) -> None:
        """Record why; the message stays pending and is reclaimed (and counted) after ``claim_idle``."""

        async def record(client: Redis) -> None:
            await client.hset(self.failures_key, delivery.id, reason[:2000])

        await self._conn.call(record, "recording a failure")

    async def release(self, deliveries: Sequence[Delivery]) -> None:
        """Mark them idle for ``claim_idle`` already, so another worker takes them on its next pass."""
        if not deliveries:
            return
        ids: list[Any] = [d.id for d in deliveries]
        idle = int(self.claim_idle * 1000) + 1

        async def release(client: Redis) -> None:
            await client.xclaim(self.stream, self.group, self.consumer, 0, ids, idle=idle, justid=True)

        await self._conn.call(release, "releasing", give_up_after=1.0)

    @property
    def lease(self) -> float | None:
        return self.claim_idle

    async def extend(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        if self._extend_script is None:
            self._extend_script = self._conn.open().register_script(_EXTEND_LUA)
        args: list[Any] = [self.group, self.consumer, *(d.id for d in deliveries)]

        async def run(client: Redis) -> Any:
            return await self._extend_script(keys=[self.stream], args=args, client=client)

        try:
            await self._conn.call(run, "renewing leases", give_up_after=0.0)
        except _transient():
            _log.debug("renewing leases failed; retried on the next heartbeat")

    async def close(self) -> None:
        await self._conn.close()


def _data(fields: Mapping[Any, Any]) -> bytes:
    value = fields.get(b"data", fields.get("data"))
    if value is None:
        return b""
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


class RedisStreamWriter:
    """Appends messages to a stream: worker outputs and ``tonewatch publish``.

    Each message is one entry with a ``data`` field holding the JSON text, the same shape
    the source reads. ``maxlen`` (approximate) bounds an output stream nobody trims.
    """

    def __init__(
        self,
        url: str,
        stream: str,
        *,
        maxlen: int | None = None,
        give_up_after: float = 30.0,
        client_name: str | None = None,
    ) -> None:
        self.url = url
        self.stream = stream
        self.maxlen = maxlen
        self.give_up_after = give_up_after
        self.client_name = client_name or f"tonewatch-writer-{default_consumer_name()}"
        self._conn = _Connection(url, self.client_name, 30.0, None)

    @property
    def description(self) -> str:
        return f"redis stream {self.stream!r}"

    async def start(self) -> None:
        await self._conn.call(lambda c: c.ping(), "connecting", give_up_after=self.give_up_after)

    async def send(self, records: Sequence[Mapping[str, Any]]) -> None:
        await self.send_raw([json.dumps(dict(r), separators=(",", ":"), default=str).encode("utf-8") for r in records])

    async def send_raw(self, messages: Sequence[bytes]) -> list[str]:
        """Append ``messages`` in one round trip; returns their entry ids."""
        if not messages:
            return []

        async def add(client: Redis) -> list[Any]:
            async with client.pipeline(transaction=False) as pipe:
                for m in messages:
                    pipe.xadd(self.stream, {"data": m}, maxlen=self.maxlen, approximate=True)
                return list(await pipe.execute())

        ids = await self._conn.call(add, f"appending to {self.stream!r}", give_up_after=self.give_up_after)
        return [_text(i) for i in ids]

    async def close(self) -> None:
        await self._conn.close()
