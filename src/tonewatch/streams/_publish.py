"""``tonewatch publish``: replay a JSON-lines file into a stream, in order, with progress.

Lines are sent as they are (invalid ones too: replaying a file must reproduce what the
producer sent, poison included; the workers dead-letter what cannot be ingested). On NATS
each message carries its ``event_id`` as ``Nats-Msg-Id``, so replaying the same file
twice within the stream's duplicate window stores each event once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ._nats import NatsJetStreamWriter
from ._open import open_publisher

__all__ = ["PublishReport", "iter_lines", "publish_file"]


@dataclass(slots=True)
class PublishReport:
    published: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.published / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {"published": self.published, "seconds": round(self.seconds, 3), "per_second": round(self.per_second, 1)}


def iter_lines(path: Path) -> Iterator[bytes]:
    """Non-blank lines of ``path``, without their line ending."""
    with path.open("rb") as fh:
        for raw in fh:
            line = raw.rstrip(b"\r\n")
            if line.strip():
                yield line


def _event_id(line: bytes) -> str | None:
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    value = obj.get("event_id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value else None


async def publish_lines(
    lines: Iterator[bytes],
    url: str,
    stream: str,
    *,
    batch: int = 500,
    rate: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PublishReport:
    """Send ``lines`` to ``stream``; ``rate`` (messages/s) paces them evenly instead of as fast as possible."""
    if rate is not None and rate > 0:
        batch = max(1, min(batch, int(rate // 50) or 1))
    writer = open_publisher(url, stream)
    report = PublishReport()
    started = time.monotonic()
    await writer.start()
    try:
        chunk: list[bytes] = []

        async def flush() -> None:
            if isinstance(writer, NatsJetStreamWriter):
                await writer.send_raw(chunk, [_event_id(m) for m in chunk])
            else:
                await writer.send_raw(chunk)
            report.published += len(chunk)
            if on_progress is not None:
                on_progress(len(chunk))
            chunk.clear()
            if rate is not None and rate > 0:
                ahead = report.published / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)

        for line in lines:
            chunk.append(line)
            if len(chunk) >= batch:
                await flush()
        if chunk:
            await flush()
    finally:
        await writer.close()
    report.seconds = time.monotonic() - started
    return report


def publish_file(
    path: Path,
    url: str,
    stream: str,
    *,
    batch: int = 500,
    rate: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PublishReport:
    """Blocking wrapper of :func:`publish_lines` for one file."""
    return asyncio.run(publish_lines(iter_lines(path), url, stream, batch=batch, rate=rate, on_progress=on_progress))
