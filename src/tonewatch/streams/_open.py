"""From a URL to a source, an output sink or a publisher: ``redis://`` or ``nats://``.

The scheme picks the broker; the stream and group names come from the command line.
Broker clients are imported here, lazily, so a missing extra is reported by name.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from tonewatch._errors import ConfigurationError

from ._nats import NatsJetStreamSource, NatsJetStreamWriter, nats_subjects
from ._redis import RedisStreamSource, RedisStreamWriter, redis_names
from ._source import Source

__all__ = ["Broker", "broker_of", "open_output", "open_publisher", "open_source"]

Broker = Literal["redis", "nats"]
_SCHEMES: dict[str, Broker] = {
    "redis": "redis",
    "rediss": "redis",
    "unix": "redis",
    "nats": "nats",
    "tls": "nats",
}


def broker_of(url: str) -> Broker:
    """``redis`` or ``nats`` from the URL scheme; anything else is a configuration error."""
    scheme = urlsplit(url).scheme.lower()
    try:
        return _SCHEMES[scheme]
    except KeyError:
        raise ConfigurationError(
            f"unsupported source {url!r}: use redis://HOST:PORT/DB or nats://HOST:PORT", field="source"
        ) from None


def open_source(
    url: str,
    stream: str,
    group: str,
    *,
    consumer: str | None = None,
    dead_letter: str | None = None,
    max_deliveries: int = 5,
    claim_idle: float = 30.0,
) -> Source:
    """The consumer-group source for ``url``."""
    if not stream or not group:
        raise ConfigurationError("a stream and a group name are required", field="stream")
    source = RedisStreamSource if broker_of(url) == "redis" else NatsJetStreamSource
    return source(
        url,
        stream,
        group,
        consumer=consumer,
        dead_letter=dead_letter,
        max_deliveries=max_deliveries,
        claim_idle=claim_idle,
    )


def open_output(
    url: str, stream: str, output: str | None = None, *, maxlen: int | None = None, consumer: str | None = None
) -> Any:
    """Where a worker's results and flags go: ``STREAM:results`` / subject ``STREAM.results`` by default.

    ``consumer`` names the Redis connection after the worker's consumer (``CLIENT LIST``).
    """
    if broker_of(url) == "redis":
        name = f"tonewatch-writer-{consumer}" if consumer else None
        return RedisStreamWriter(url, output or redis_names(stream, "-")["output"], maxlen=maxlen, client_name=name)
    return NatsJetStreamWriter(url, stream, output or nats_subjects(stream)["output"])


def open_publisher(url: str, stream: str) -> RedisStreamWriter | NatsJetStreamWriter:
    """Where ``tonewatch publish`` writes: the stream itself, or subject ``STREAM.events``."""
    if broker_of(url) == "redis":
        return RedisStreamWriter(url, stream)
    return NatsJetStreamWriter(url, stream, nats_subjects(stream)["events"])
