"""``run_backfill``: plan the partitions, run the unfinished ones, checkpoint each, assemble results.

The driver only plans, submits and checkpoints; partitions are scored (and written to the
store) by the engine's workers. A partition is checkpointed when its task returns, after
its writes committed, so re-running the same command after an interruption (a crash, a
kill, Ctrl-C) skips every finished partition, and the store's ``event_id`` rule (plus the
pre-scoring check in the task) keeps the unfinished one from being applied twice.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tonewatch._errors import ConfigurationError

from ._checkpoint import CheckpointDir, atomic_write
from ._engines import open_engine
from ._plan import Plan, fingerprint, plan_db, plan_file, read_part
from ._task import PartitionResult, PartitionTask, TaskKind, run_partition

if TYPE_CHECKING:
    from tonewatch.settings import Settings

__all__ = ["BackfillReport", "is_database_url", "run_backfill"]

ProgressFn = Callable[[int], None]
_DB_SCHEMES = ("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")


def is_database_url(value: str) -> bool:
    """``FILE_OR_DB``: a database URL names a store to rescore; anything else is a file."""
    return value.lower().startswith(_DB_SCHEMES)


@dataclass(slots=True)
class BackfillReport:
    """What one ``run_backfill`` call did (``tonewatch backfill`` prints ``to_dict()``)."""

    kind: TaskKind
    engine: str
    workers: int
    checkpoint: str
    partitions: int = 0
    already_done: int = 0
    ran: int = 0
    events: int = 0
    accepted: int = 0
    duplicate: int = 0
    skipped: int = 0
    scored: int = 0
    rejected: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    model_loads: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    output: str | None = None
    complete: bool = False

    @property
    def messages_per_second(self) -> float:
        return self.scored / self.seconds if self.seconds > 0 else 0.0

    def add(self, result: PartitionResult) -> None:
        self.ran += 1
        self.events += result.events
        self.accepted += result.accepted
        self.duplicate += result.duplicate
        self.skipped += result.skipped
        self.scored += result.scored
        self.rejected += len(result.rejected)
        room = 100 - len(self.rejections)
        if room > 0:
            self.rejections.extend(result.rejected[:room])
        self.model_loads[result.pid] = max(self.model_loads.get(result.pid, 0), result.model_loads)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "engine": self.engine,
            "workers": self.workers,
            "checkpoint": self.checkpoint,
            "partitions": self.partitions,
            "already_done": self.already_done,
            "ran": self.ran,
            "events": self.events,
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "skipped_already_stored": self.skipped,
            "scored": self.scored,
            "rejected": self.rejected,
            "rejections": self.rejections,
            "model_loads_per_worker": {str(k): v for k, v in sorted(self.model_loads.items())},
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.messages_per_second, 1),
            "output": self.output,
            "complete": self.complete,
        }


def run_backfill(
    source: str | Path,
    *,
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    db: str | None = None,
    out: Path | None = None,
    checkpoint: Path | None = None,
    partition_size: int = 2000,
    restart: bool = False,
    all_messages: bool = False,
    threads_per_worker: int = 1,
    settings: Settings | None = None,
    on_plan: Callable[[Plan, int], None] | None = None,
    on_progress: ProgressFn | None = None,
) -> BackfillReport:
    """Backfill ``source`` (a JSON-lines/CSV file, or a database URL to rescore).

    A file goes through the ingest pipeline into the store (``db``, default the settings'
    database), or, with ``out``, is scored into a JSON-lines results file. A database
    URL has its stored customer messages scored again by the current model (only those
    scored by another model version unless ``all_messages``), updated in place or, with
    ``out``, written to the results file. ``on_plan(plan, already_done_events)`` is
    called once the partitions are known (for a progress bar's total).
    """
    from tonewatch.settings import Settings

    if partition_size < 1:
        raise ConfigurationError("partition_size must be at least 1", field="partition_size")
    settings = settings or Settings()
    started = time.perf_counter()
    text = str(source)
    rescore = is_database_url(text)
    kind: TaskKind = "rescore" if rescore else ("score" if out is not None else "ingest")
    target = _target(kind, text, db, settings)
    task_settings = settings.model_dump(mode="json") | {"threads": threads_per_worker, "db_url": target}
    model_version = _model_version(settings) if rescore else ""
    if rescore:
        key = fingerprint("rescore", target, model_version, all_messages, partition_size, out)
    else:
        path = Path(text)
        if not path.is_file():
            raise ConfigurationError(f"no such file: {path}", field="source")
        stat = path.stat()
        key = fingerprint(path.resolve(), stat.st_size, stat.st_mtime_ns, kind, partition_size, target, out)
    ckpt = CheckpointDir(checkpoint or settings.home / "backfill" / key)
    if restart:
        ckpt.reset()
    if rescore:
        plan = plan_db(
            text, ckpt, key=key, partition_size=partition_size, model_version=model_version, only_stale=not all_messages
        )
    else:
        plan = plan_file(Path(text), ckpt, kind=kind, key=key, partition_size=partition_size)
    if kind == "ingest":
        _prepare_store(target)

    done = dict(ckpt.done())
    todo = [i for i in range(plan.partitions) if i not in done]
    with ExitStack() as stack:
        eng = open_engine(engine, workers, scheduler=scheduler)
        stack.callback(eng.close)
        report = BackfillReport(kind, eng.description, eng.workers, str(ckpt.root), partitions=plan.partitions)
        report.already_done = len(done)
        if on_plan is not None:
            on_plan(plan, sum(plan.sizes[i] for i in done if i < len(plan.sizes)))
        tasks = _tasks(plan, todo, ckpt, kind, task_settings, target, out is None, not all_messages)
        for result in eng.map_unordered(run_partition, tasks):
            if kind != "ingest" and out is not None:
                ckpt.write_results(result.index, result.records)
            ckpt.mark_done(result.index, result.summary())
            report.add(result)
            if on_progress is not None:
                on_progress(plan.sizes[result.index] if result.index < len(plan.sizes) else result.events)
    report.complete = all(ckpt.is_done(i) for i in range(plan.partitions))
    if out is not None and report.complete:
        _assemble(ckpt, plan.partitions, out)
        report.output = str(out)
    report.seconds = time.perf_counter() - started
    return report


def _target(kind: TaskKind, source: str, db: str | None, settings: Settings) -> str:
    from tonewatch.store import normalize_url

    if kind == "rescore":
        if db is not None and normalize_url(db) != normalize_url(source):
            raise ConfigurationError("rescoring writes to the database it reads: drop --db", field="db")
        return normalize_url(source).render_as_string(hide_password=False)
    url = db or settings.database_url
    return normalize_url(url).render_as_string(hide_password=False)


def _model_version(settings: Settings) -> str:
    from tonewatch.score import get_analyzer

    version: str = get_analyzer(settings).model_version
    return version


def _prepare_store(url: str) -> None:
    """Migrate the target once, in the driver, before workers write to it."""
    from tonewatch.store import Store

    with Store(url) as store:
        store.create_all()


def _tasks(
    plan: Plan,
    todo: list[int],
    ckpt: CheckpointDir,
    kind: TaskKind,
    settings: dict[str, Any],
    target: str,
    write: bool,
    only_stale: bool,
) -> Iterator[PartitionTask]:
    """Partition tasks, built lazily: a partition's events are read only when it is submitted."""
    for index in todo:
        if kind == "rescore":
            first, last = plan.ranges[index]
            yield PartitionTask(
                index, kind, settings, db_url=target, first_id=first, last_id=last, write=write, only_stale=only_stale
            )
        else:
            events = tuple(read_part(ckpt, index))
            yield PartitionTask(index, kind, settings, events=events, db_url=target if kind == "ingest" else None)


def _assemble(ckpt: CheckpointDir, partitions: int, out: Path) -> None:
    """Merge the partitions' results into one file, in input order (line, then event id)."""
    with ExitStack() as stack:
        streams = []
        for index in range(partitions):
            fh = stack.enter_context(ckpt.results_path(index).open(encoding="utf-8"))
            streams.append((_order(line), line) for line in fh)
        merged = "".join(line for _, line in heapq.merge(*streams))
    atomic_write(out, merged.encode("utf-8"))


def _order(line: str) -> tuple[int, str]:
    record = json.loads(line)
    return int(record.get("line") or 0), str(record.get("event_id") or "")
