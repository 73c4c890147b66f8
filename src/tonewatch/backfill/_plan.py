"""Cutting the input into partitions, once, so that a resumed run sees exactly the same ones.

A file is read once (JSON lines or CSV, through ``ingest.read_events``) and its events are
spooled into partition files by a stable hash of ``customer_id``: a customer's events all
land in one partition, so parallel partitions never contend for (or re-order) one
customer's state. A database is cut into ranges of message ids. The plan is written to the
checkpoint folder; a later run with the same input and options reuses it.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tonewatch._errors import EventValidationError, InputError

from ._checkpoint import CheckpointDir, atomic_write
from ._task import TaskKind

__all__ = ["Plan", "fingerprint", "partition_of", "plan_db", "plan_file", "read_part"]

_FLUSH_LINES = 2000


@dataclass(slots=True)
class Plan:
    """What a backfill run works through; ``ranges`` are ``(first_id, last_id)`` for a database."""

    kind: TaskKind
    source: str
    partitions: int
    total: int
    fingerprint: str
    ranges: list[tuple[str, str]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        data = dict(data)
        data["ranges"] = [tuple(r) for r in data.get("ranges", [])]
        return cls(**data)


def fingerprint(*parts: object) -> str:
    """A short stable digest naming the checkpoint folder of one input + options."""
    text = json.dumps([str(p) for p in parts], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def partition_of(key: str, partitions: int) -> int:
    """Stable across processes and machines (unlike ``hash``)."""
    return zlib.crc32(key.encode("utf-8")) % partitions


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as fh:
        for raw in fh:
            if raw.strip():
                count += 1
    return max(count, 1)


def _spool_item(line: int, item: dict[str, Any] | EventValidationError) -> str:
    if isinstance(item, EventValidationError):
        obj: Any = {"__error__": {"code": item.code, "message": item.message, "field": item.field}}
    else:
        obj = item
    return json.dumps([line, obj], ensure_ascii=False, separators=(",", ":"), default=str) + "\n"


def plan_file(
    path: Path,
    ckpt: CheckpointDir,
    *,
    kind: TaskKind,
    key: str,
    partition_size: int,
    on_progress: Callable[[int], None] | None = None,
) -> Plan:
    """Spool ``path`` into partitions (or reuse the spool an earlier run with the same ``key`` made)."""
    from tonewatch.ingest import read_events

    found = ckpt.read_manifest()
    if found is not None and found.get("fingerprint") == key and found.get("spooled"):
        return Plan.from_dict(found["plan"])
    ckpt.reset()
    partitions = max(1, math.ceil(_count_lines(path) / partition_size))
    buffers: dict[int, list[str]] = {}
    sizes = [0] * partitions
    total = 0
    for index in range(partitions):
        atomic_write(ckpt.part_path(index), b"")
    try:
        for line, item in read_events(path):
            cid = item.get("customer_id") if isinstance(item, dict) else None
            index = partition_of(str(cid) if cid is not None else f"line:{line}", partitions)
            buf = buffers.setdefault(index, [])
            buf.append(_spool_item(line, item))
            sizes[index] += 1
            total += 1
            if len(buf) >= _FLUSH_LINES:
                _append(ckpt.part_path(index), buf)
            if on_progress is not None and total % 10_000 == 0:
                on_progress(10_000)
    except InputError:
        ckpt.reset()
        raise
    for index, buf in buffers.items():
        _append(ckpt.part_path(index), buf)
    plan = Plan(kind, str(path), partitions, total, key, sizes=sizes)
    ckpt.write_manifest({"fingerprint": key, "spooled": True, "plan": plan.to_dict()})
    return plan


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.writelines(lines)
    lines.clear()


def read_part(ckpt: CheckpointDir, index: int) -> Iterator[tuple[int, Any]]:
    """The ``(line, event)`` pairs of one spooled partition, in file order."""
    with ckpt.part_path(index).open(encoding="utf-8") as fh:
        for raw in fh:
            line, obj = json.loads(raw)
            yield int(line), obj


def plan_db(
    url: str,
    ckpt: CheckpointDir,
    *,
    key: str,
    partition_size: int,
    model_version: str,
    only_stale: bool,
) -> Plan:
    """Cut the customer messages of a store into id ranges of ``partition_size`` (or reuse the cut)."""
    from sqlalchemy import select

    from tonewatch.store import Message, Store

    store_url = Store(url).url
    found = ckpt.read_manifest()
    if found is not None and found.get("fingerprint") == key:
        return Plan.from_dict(found["plan"])
    ckpt.reset()
    store = Store(url)
    ranges: list[tuple[str, str]] = []
    sizes: list[int] = []
    total = 0
    try:
        query = (
            select(Message.event_id)
            .where(Message.author == "customer", Message.text.is_not(None))
            .order_by(Message.event_id)
        )
        if only_stale:
            query = query.where((Message.model_version.is_(None)) | (Message.model_version != model_version))
        with store.session(readonly=True) as session:
            first: str | None = None
            last = ""
            n = 0
            for event_id in session.scalars(query.execution_options(yield_per=10_000)):
                if first is None:
                    first = event_id
                last = event_id
                n += 1
                total += 1
                if n == partition_size:
                    ranges.append((first, last))
                    sizes.append(n)
                    first, n = None, 0
            if first is not None:
                ranges.append((first, last))
                sizes.append(n)
    finally:
        store.dispose()
    plan = Plan("rescore", store_url, len(ranges), total, key, ranges=ranges, sizes=sizes)
    ckpt.write_manifest({"fingerprint": key, "spooled": True, "plan": plan.to_dict()})
    return plan
