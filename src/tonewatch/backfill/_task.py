"""One partition's work, run inside a worker process (process pool or Dask worker).

The task is a plain function of picklable arguments so the same code runs in a local
process pool and on a remote Dask worker. Heavy objects live in per-process caches:
the model is loaded once per worker process, the database engine opened once per URL.

Three kinds of work:

- ``ingest``: historical events through the ingest ``Pipeline`` into the store. Events
  already stored (a partition interrupted after some of its chunks committed) are
  dropped *before* scoring, so a resumed run scores each message once;
- ``score``: customer messages masked, scored and categorised into result records
  (the caller writes them to a results file);
- ``rescore``: messages already in the store scored again with the current model (their
  masked text), updated in place, or returned as records.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tonewatch._errors import EventValidationError, InputError

if TYPE_CHECKING:
    from tonewatch.score import Analysis, Analyzer
    from tonewatch.settings import Settings
    from tonewatch.store import Store

__all__ = ["PartitionResult", "PartitionTask", "TaskKind", "process_stats", "run_partition", "score_records"]

TaskKind = Literal["ingest", "score", "rescore"]

_lock = threading.Lock()
_analyzers: dict[tuple[Any, ...], Any] = {}
_stores: dict[str, Any] = {}
_loads = 0


@dataclass(frozen=True, slots=True)
class PartitionTask:
    """What one partition needs: its events (``[line, event]`` pairs) or its id range, and where to write."""

    index: int
    kind: TaskKind
    settings: dict[str, Any]
    events: tuple[tuple[int, Any], ...] = ()
    db_url: str | None = None
    first_id: str | None = None
    last_id: str | None = None
    write: bool = True
    chunk_size: int = 500
    only_stale: bool = True


@dataclass(slots=True)
class PartitionResult:
    """Counts of one partition (its checkpoint marker) plus result records in ``score`` mode."""

    index: int
    events: int = 0
    accepted: int = 0
    duplicate: int = 0
    skipped: int = 0
    scored: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    pid: int = 0
    model_loads: int = 0

    def summary(self) -> dict[str, Any]:
        """Everything but the records: what the checkpoint marker keeps."""
        return {
            "index": self.index,
            "events": self.events,
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "skipped": self.skipped,
            "scored": self.scored,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
            "pid": self.pid,
            "model_loads": self.model_loads,
        }


def process_stats() -> dict[str, int]:
    """This process's id and how many times it loaded a model (1 after any scoring task)."""
    return {"pid": os.getpid(), "model_loads": _loads}


def _settings(data: dict[str, Any]) -> Settings:
    from tonewatch.settings import Settings

    return Settings(**data)


def _analyzer(settings: Settings) -> Analyzer:
    """The process's analyzer for this configuration: loaded on the first task, reused after."""
    global _loads
    from tonewatch.score import get_analyzer
    from tonewatch.score._analyzer import analyzer_key

    key = analyzer_key(settings)
    with _lock:
        found = _analyzers.get(key)
        if found is None:
            found = get_analyzer(settings)
            found.analyze("warm-up")
            _analyzers[key] = found
            _loads += 1
    analyzer: Analyzer = found
    return analyzer


def _store(url: str) -> Store:
    with _lock:
        found = _stores.get(url)
        if found is None:
            from tonewatch.store import Store

            found = _stores[url] = Store(url, pool_size=2)
    store: Store = found
    return store


def run_partition(task: PartitionTask) -> PartitionResult:
    """Do one partition's work in this process; the caller checkpoints the result."""
    started = time.perf_counter()
    settings = _settings(task.settings)
    result = PartitionResult(task.index)
    if task.kind == "ingest":
        _ingest(task, settings, result)
    elif task.kind == "score":
        _score(task, settings, result)
    else:
        _rescore(task, settings, result)
    result.seconds = time.perf_counter() - started
    result.pid = os.getpid()
    result.model_loads = _loads
    return result


def _decoded(events: Sequence[tuple[int, Any]]) -> list[tuple[int, dict[str, Any] | EventValidationError]]:
    out: list[tuple[int, dict[str, Any] | EventValidationError]] = []
    for line, item in events:
        if isinstance(item, dict) and "__error__" in item:
            err = item["__error__"]
            out.append(
                (line, EventValidationError(err["message"], field=err.get("field"), line=line, code=err["code"]))
            )
        else:
            out.append((line, item))
    return out


def _ingest(task: PartitionTask, settings: Settings, result: PartitionResult) -> None:
    from sqlalchemy import select

    from tonewatch.ingest import Pipeline
    from tonewatch.store import EventRow

    assert task.db_url is not None
    store = _store(task.db_url)
    items = _decoded(task.events)
    result.events = len(items)
    ids = [str(e["event_id"]) for _, e in items if isinstance(e, dict) and isinstance(e.get("event_id"), str)]
    stored: set[str] = set()
    with store.session(readonly=True) as session:
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            stored.update(session.scalars(select(EventRow.event_id).where(EventRow.event_id.in_(part))))
    todo = [(line, e) for line, e in items if not (isinstance(e, dict) and e.get("event_id") in stored)]
    result.skipped = len(items) - len(todo)
    if not todo:
        return
    todo.sort(key=lambda pair: _sort_key(pair[1]))
    pipeline = Pipeline(store, _analyzer(settings), settings, chunk_size=task.chunk_size)
    report = pipeline.ingest(todo)
    result.accepted = report.accepted
    result.duplicate = report.duplicate
    result.rejected = [r.to_dict() for r in report.rejected]
    refused = {r.line for r in report.rejected}
    result.scored = sum(1 for line, e in todo if line not in refused and _is_customer_text(e))


def _sort_key(event: Any) -> tuple[int, str, str]:
    """Oldest first (customer events first), so states are folded without rebuilds."""
    if not isinstance(event, dict):
        return (0, "", "")
    ts = event.get("timestamp")
    return (1 if ts else 0, str(ts or ""), str(event.get("event_id") or ""))


def _is_customer_text(event: Any) -> bool:
    return isinstance(event, dict) and event.get("kind") == "message" and event.get("author", "customer") == "customer"


def score_records(
    analyzer: Analyzer, items: Sequence[tuple[int, dict[str, Any]]], *, batch_size: int = 32
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Mask, score and categorise customer messages; return (records, rejections)."""
    from tonewatch.ingest import MessageEvent, parse_event
    from tonewatch.mask import mask_pii

    jobs: list[tuple[int, MessageEvent, str]] = []
    rejected: list[dict[str, Any]] = []
    for line, obj in items:
        try:
            event = parse_event(obj, line=line)
        except InputError as exc:
            rejected.append({"line": line, "event_id": obj.get("event_id"), **exc.to_dict()})
            continue
        if isinstance(event, MessageEvent) and event.author == "customer":
            jobs.append((line, event, mask_pii(event.text).text))
    records: list[dict[str, Any]] = []
    if not jobs:
        return records, rejected
    analyses: list[Analysis | None]
    try:
        analyses = list(
            analyzer.analyze_batch(
                [t for _, _, t in jobs], batch_size=batch_size, languages=[e.language for _, e, _ in jobs]
            )
        )
    except InputError:
        analyses = []
        for line, event, text in jobs:
            try:
                analyses.append(analyzer.analyze(text, language=event.language))
            except InputError as exc:
                rejected.append({"line": line, "event_id": event.event_id, **exc.to_dict()})
                analyses.append(None)
    for (line, event, text), analysis in zip(jobs, analyses, strict=True):
        if analysis is None:
            continue
        records.append(_record(event.event_id, event.customer_id, event.timestamp.isoformat(), text, analysis, line))
    return records, rejected


def _record(
    event_id: str, customer_id: str, timestamp: str, text: str, analysis: Analysis, line: int | None
) -> dict[str, Any]:
    from tonewatch.score import categorize

    return {
        "event_id": event_id,
        "customer_id": customer_id,
        "timestamp": timestamp,
        "line": line,
        "label": analysis.label,
        "score": round(analysis.score, 4),
        "confidence": round(analysis.confidence, 4),
        "needs_review": analysis.needs_review,
        "urgency": analysis.urgency.level,
        "language": analysis.language,
        "category": categorize(text),
        "model_version": analysis.model_version,
    }


def _score(task: PartitionTask, settings: Settings, result: PartitionResult) -> None:
    items = _decoded(task.events)
    result.events = len(items)
    good: list[tuple[int, dict[str, Any]]] = []
    for line, item in items:
        if isinstance(item, EventValidationError):
            result.rejected.append({"line": line, "event_id": None, **item.to_dict()})
        else:
            good.append((line, item))
    records: list[dict[str, Any]]
    if not any(_is_customer_text(e) for _, e in good):
        records, rejected = [], _validate_only(good)
    else:
        records, rejected = score_records(_analyzer(settings), good)
    result.rejected += rejected
    result.rejected.sort(key=lambda r: r.get("line") or 0)
    records.sort(key=lambda r: r["line"] or 0)
    result.records = records
    result.scored = len(records)
    result.accepted = len(good) - len(rejected)


def _validate_only(items: Sequence[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    from tonewatch.ingest import parse_event

    out: list[dict[str, Any]] = []
    for line, obj in items:
        try:
            parse_event(obj, line=line)
        except InputError as exc:
            out.append({"line": line, "event_id": obj.get("event_id"), **exc.to_dict()})
    return out


def _rescore(task: PartitionTask, settings: Settings, result: PartitionResult) -> None:
    """Score stored (masked) customer messages in ``[first_id, last_id]`` again with the current model."""
    from sqlalchemy import select

    from tonewatch.store import Message

    assert task.db_url is not None
    assert task.first_id is not None
    assert task.last_id is not None
    store = _store(task.db_url)
    analyzer = _analyzer(settings)
    current = analyzer.model_version
    query = (
        select(Message)
        .where(Message.event_id >= task.first_id, Message.event_id <= task.last_id)
        .where(Message.author == "customer", Message.text.is_not(None))
        .order_by(Message.event_id)
    )
    with store.session(readonly=not task.write) as session:
        rows = list(session.scalars(query))
        result.events = len(rows)
        todo = [m for m in rows if not (task.only_stale and m.model_version == current)]
        result.skipped = len(rows) - len(todo)
        if not todo:
            return
        analyses = analyzer.analyze_batch([m.text or "" for m in todo], languages=[m.language for m in todo])
        for m, a in zip(todo, analyses, strict=True):
            if task.write:
                m.label = a.label
                m.score = a.score
                m.confidence = a.confidence
                m.needs_review = a.needs_review
                m.urgency = a.urgency.level
                m.analysis = a.to_dict()
                m.model_version = a.model_version
                m.language = a.language
            else:
                ts = m.timestamp.isoformat()
                result.records.append(_record(m.event_id, m.customer_id, ts, m.text or "", a, None))
        result.scored = len(todo)
        result.accepted = len(todo)
