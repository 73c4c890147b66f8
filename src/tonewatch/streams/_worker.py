"""The ingestion worker: micro-batches from a ``Source`` through the ``Pipeline`` into the store.

One asyncio loop fetches; up to ``concurrency`` batches run in threads (the pipeline, the
model and the database driver are synchronous). Why it loses nothing and counts nothing
twice: a batch is one pipeline chunk, committed in one transaction, and only then
acknowledged; the pipeline ignores events whose ``event_id`` is already stored, so a
batch delivered again after a crash between commit and ack changes nothing.

Backpressure: a batch is fetched only when one of the ``concurrency`` slots is free, so at
most ``concurrency * batch_size`` messages are in flight however slow the store is; the
rest waits in the broker. A store that fails is retried with exponential backoff while
the batch keeps its slot. Invalid events are dead-lettered with the pipeline's reason at
once (they can never succeed); a batch that fails for another reason is retried message
by message so one poison message cannot hold back its neighbours, and a message that
keeps failing is dead-lettered by the source after ``max_deliveries``.

``stop()`` (SIGTERM) stops fetching and waits up to ``grace`` seconds for the batches in
flight to commit and be acknowledged; whatever is left is returned to the broker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tonewatch._errors import (
    ConfigurationError,
    EventValidationError,
    MissingExtraError,
    ModelError,
    StoreError,
    TonewatchError,
)

from ._backoff import Backoff
from ._outputs import EnqueueFn, FiringHook, OutputHook
from ._source import DeadLetter, Delivery, Sink, Source

if TYPE_CHECKING:
    from tonewatch.ingest import Hook, IngestReport, Pipeline

__all__ = ["PipelineFactory", "Worker", "WorkerConfig", "WorkerStats", "decode_delivery"]

_log = logging.getLogger("tonewatch.streams.worker")
PipelineFactory = Callable[[Sequence["Hook"]], "Pipeline"]
_FATAL = (ConfigurationError, ImportError, MissingExtraError, ModelError)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How a worker batches, how many batches it runs at once and when it stops.

    ``linger`` is how long (seconds) a batch may wait to fill once its first message
    arrived; ``poll`` how long one fetch waits for a first message (also how quickly a
    stop is noticed); ``exit_when_idle`` stops the worker after that many seconds
    without a message; ``grace`` bounds the wait for in-flight work on stop.
    """

    batch_size: int = 64
    linger: float = 0.005
    concurrency: int = 1
    poll: float = 0.5
    exit_when_idle: float | None = None
    grace: float = 30.0
    store_backoff_max: float = 5.0
    progress_every: float = 10.0
    output_results: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.concurrency < 1:
            raise ConfigurationError("batch_size and concurrency must be at least 1", field="concurrency")
        if self.linger < 0 or self.poll <= 0 or self.grace < 0:
            raise ConfigurationError("linger, poll and grace must not be negative", field="linger")

    @property
    def max_in_flight(self) -> int:
        """The most messages this worker holds unacknowledged at any time."""
        return self.batch_size * self.concurrency


@dataclass(slots=True)
class WorkerStats:
    """Counts of one worker run (``tonewatch worker --stats FILE`` writes ``to_dict()``)."""

    fetched: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    failed: int = 0
    released: int = 0
    batches: int = 0
    outputs: int = 0
    store_retries: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    started_at: float = field(default_factory=time.time)
    seconds: float = 0.0
    stopped_by: str = ""
    source: dict[str, int] = field(default_factory=dict)

    @property
    def settled(self) -> int:
        return self.accepted + self.duplicate + self.rejected

    def to_dict(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "failed": self.failed,
            "released": self.released,
            "batches": self.batches,
            "outputs": self.outputs,
            "store_retries": self.store_retries,
            "max_in_flight": self.max_in_flight,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.settled / self.seconds, 1) if self.seconds > 0 else 0.0,
            "stopped_by": self.stopped_by,
            "source": dict(self.source),
        }


def _is_data_error(exc: StoreError) -> bool:
    """The database refused the values themselves (too long, out of range), not the connection."""
    from sqlalchemy.exc import DataError

    return isinstance(exc.__cause__, DataError)


def decode_delivery(d: Delivery, line: int) -> dict[str, Any] | EventValidationError:
    """The event a message carries, or the validation error that makes it a poison message."""
    try:
        text = d.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return EventValidationError(f"not valid UTF-8 (byte {exc.start})", line=line, code="invalid_utf8")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return EventValidationError(f"invalid JSON: {exc.msg} at column {exc.colno}", line=line, code="invalid_json")
    if not isinstance(obj, dict):
        return EventValidationError("an event must be a JSON object", line=line)
    return obj


class Worker:
    """Consumes ``source`` into the store through pipelines made by ``make_pipeline(hooks)``.

    Each worker thread gets its own pipeline (and, with ``make_triggers``, its own playbook
    hook, whose firings are published with the other outputs).
    """

    def __init__(
        self,
        source: Source,
        make_pipeline: PipelineFactory,
        *,
        sink: Sink | None = None,
        config: WorkerConfig | None = None,
        enqueue_webhook: EnqueueFn | None = None,
        make_triggers: Callable[[], FiringHook] | None = None,
    ) -> None:
        self.source = source
        self.sink = sink
        self.config = config or WorkerConfig()
        self.stats = WorkerStats()
        self._make_pipeline = make_pipeline
        self._enqueue = enqueue_webhook
        self._make_triggers = make_triggers
        self._tls = threading.local()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_reason = ""
        self._fatal: BaseException | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._stopping_deadline: float | None = None
        self._inflight: dict[int, list[Delivery]] = {}

    def stop(self, reason: str = "stop requested") -> None:
        """Stop fetching; in-flight batches finish within ``grace``. Safe from signal handlers."""
        if not self._stop_reason:
            self._stop_reason = reason
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def run(self) -> WorkerStats:
        """Run until stopped, idle for ``exit_when_idle``, or a fatal error (re-raised)."""
        cfg = self.config
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stop_reason:
            self._stop.set()
        self._executor = ThreadPoolExecutor(cfg.concurrency, thread_name_prefix="tonewatch-worker")
        started = time.monotonic()
        slots = asyncio.Semaphore(cfg.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        heartbeat: asyncio.Task[None] | None = None
        try:
            if not await self._start():
                return self.stats
            _log.info("worker started: %s", self.source.description)
            heartbeat = asyncio.create_task(self._heartbeat()) if self.source.lease else None
            last_message = time.monotonic()
            next_progress = time.monotonic() + cfg.progress_every
            while not self._stop.is_set():
                await slots.acquire()
                if self._stop.is_set():
                    slots.release()
                    break
                batch = await self._gather()
                now = time.monotonic()
                if now >= next_progress:
                    next_progress = now + cfg.progress_every
                    self._log_progress()
                if not batch:
                    slots.release()
                    if cfg.exit_when_idle is not None and not tasks and now - last_message >= cfg.exit_when_idle:
                        self._stop_reason = self._stop_reason or f"idle for {cfg.exit_when_idle:g}s"
                        break
                    continue
                last_message = now
                self._track(len(batch))
                self._inflight[id(batch)] = batch
                task = asyncio.create_task(self._run_batch(batch, slots))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            self._stopping_deadline = time.monotonic() + cfg.grace
            if tasks:
                _log.info("stopping: waiting up to %.1fs for %d batch(es) in flight", cfg.grace, len(tasks))
                _done, late = await asyncio.wait(tasks, timeout=cfg.grace)
                for task in late:
                    task.cancel()
                if late:
                    await asyncio.wait(late, timeout=5)
            if heartbeat is not None:
                heartbeat.cancel()
                await asyncio.gather(heartbeat, return_exceptions=True)
            self.stats.seconds = time.monotonic() - started
            self.stats.stopped_by = self._stop_reason or ("error" if self._fatal else "")
            self.stats.source = self.source.stats.to_dict()
            await self._close()
        if self._fatal is not None:
            raise self._fatal
        self._log_progress()
        return self.stats

    async def _start(self) -> bool:
        """Connect source and sink (retrying while the broker is down); False if stopped meanwhile."""
        assert self._stop is not None

        async def connect() -> None:
            await self.source.start()
            if self.sink is not None:
                await self.sink.start()

        starting = asyncio.create_task(connect())
        stopped = asyncio.create_task(self._stop.wait())
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            return False
        starting.result()
        return True

    async def _close(self) -> None:
        for closer in (self.source, self.sink):
            if closer is None:
                continue
            try:
                await closer.close()
            except Exception:
                _log.debug("closing %s failed", closer.description, exc_info=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _track(self, n: int) -> None:
        with self._lock:
            self.stats.fetched += n
            self.stats.in_flight += n
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)

    def _settle(self, n: int) -> None:
        with self._lock:
            self.stats.in_flight -= n

    def _log_progress(self) -> None:
        _log.info("worker progress %s", json.dumps(self.stats.to_dict() | {"in_flight": self.stats.in_flight}))

    async def _gather(self) -> list[Delivery]:
        """One micro-batch: wait ``poll`` for a first message, then ``linger`` for more."""
        cfg = self.config
        batch = await self.source.fetch(cfg.batch_size, cfg.poll)
        if not batch:
            return batch
        deadline = time.monotonic() + cfg.linger
        while len(batch) < cfg.batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            more = await self.source.fetch(cfg.batch_size - len(batch), left)
            if not more:
                break
            batch.extend(more)
        return batch

    async def _run_batch(self, batch: list[Delivery], slots: asyncio.Semaphore) -> None:
        try:
            await self._process(batch)
        except asyncio.CancelledError:
            await self._give_back(batch)
            raise
        except (*_FATAL, TonewatchError) as exc:
            _log.error("fatal: %s", exc)
            self._fatal = exc
            await self._give_back(batch)
            self.stop("fatal error")
        except Exception:
            _log.exception("unexpected worker error; the batch comes back later")
            await self._give_back(batch)
        finally:
            self._inflight.pop(id(batch), None)
            self._settle(len(batch))
            slots.release()

    async def _heartbeat(self) -> None:
        """Renew the lease of every in-flight delivery a few times per lease period.

        Without it a batch slower than the lease (a slow store, a long retry) would be taken
        over by another worker and done twice; with it, only a dead worker's messages move.
        """
        lease = self.source.lease
        assert lease is not None
        while True:
            await asyncio.sleep(max(lease / 3, 0.05))
            live = [d for batch in list(self._inflight.values()) for d in batch]
            if live:
                try:
                    await self.source.extend(live)
                except Exception:
                    _log.debug("renewing leases failed", exc_info=True)

    async def _give_back(self, batch: list[Delivery]) -> None:
        try:
            await asyncio.wait_for(self.source.release(batch), 5)
            self.stats.released += len(batch)
        except Exception:
            _log.debug("releasing failed", exc_info=True)

    async def _process(self, batch: list[Delivery]) -> None:
        assert self._loop is not None
        assert self._executor is not None
        backoff = Backoff(0.1, self.config.store_backoff_max)
        while True:
            try:
                report = await self._loop.run_in_executor(self._executor, self._apply, batch)
                break
            except StoreError as exc:
                if _is_data_error(exc):  # this data can never be stored: a poison message
                    await self._poison(batch, f"StoreError: {exc.message}")
                    return
                deadline = self._stopping_deadline
                if deadline is not None and time.monotonic() + backoff.initial > deadline:
                    await self._give_back(batch)
                    return
                self.stats.store_retries += 1
                delay = backoff.next_delay()
                _log.warning("store error (%s); retrying the batch in %.2fs", exc.message, delay)
                await asyncio.sleep(delay)
            except _FATAL:
                raise
            except Exception as exc:
                await self._poison(batch, f"{type(exc).__name__}: {exc}")
                return
        await self._settle_report(batch, report)

    async def _settle_report(self, batch: list[Delivery], report: IngestReport) -> None:
        """Dead-letter what the pipeline refused, acknowledge the rest (all committed)."""
        letters = [
            DeadLetter(
                batch[r.line - 1],
                f"{r.code}: {r.reason}" + (f" (field {r.field})" if r.field else ""),
                r.code,
            )
            for r in report.rejected
            if r.line is not None and 0 < r.line <= len(batch)
        ]
        dead = {id(letter.delivery) for letter in letters}
        if letters:
            await self.source.dead_letter(letters)
        await self.source.ack([d for d in batch if id(d) not in dead])
        with self._lock:
            self.stats.batches += 1
            self.stats.accepted += report.accepted
            self.stats.duplicate += report.duplicate
            self.stats.rejected += len(letters)

    async def _poison(self, batch: list[Delivery], reason: str) -> None:
        """A batch failed for a reason retrying will not cure: find and fail the culprit(s)."""
        if len(batch) > 1:
            await self._isolate(batch, reason)
            return
        _log.warning("message %s failed on delivery %d: %s", batch[0].id, batch[0].deliveries, reason)
        self.stats.failed += 1
        await self.source.fail(batch[0], reason)

    async def _isolate(self, batch: list[Delivery], reason: str) -> None:
        """Retry a failed batch one message at a time, so only the poison message pays.

        When every message of a fresh batch (three or more, none delivered before) fails
        alone with the very error the batch failed with, the failure is the deployment's (a
        bug, a broken model), not the data's: the worker stops and gives the batch back
        instead of counting an attempt against every healthy message. Redeliveries are
        exempt: failed messages tend to come back together, and they must still reach the
        dead-letter stream.
        """
        assert self._loop is not None
        assert self._executor is not None
        _log.warning("batch of %d failed (%s); retrying one message at a time", len(batch), reason)
        failures: list[tuple[Delivery, str]] = []
        last: BaseException | None = None
        for i, d in enumerate(batch):
            try:
                report = await self._loop.run_in_executor(self._executor, self._apply, [d])
            except StoreError as exc:
                if not _is_data_error(exc):  # the store went away meanwhile: back to whole batches
                    await self._process(batch[i:])
                    break
                failures.append((d, f"StoreError: {exc.message}"))
                last = exc
                continue
            except _FATAL:
                await self._process(batch[i:])
                break
            except Exception as exc:
                failures.append((d, f"{type(exc).__name__}: {exc}"))
                last = exc
                continue
            await self._settle_report([d], report)
        systemic = (
            len(batch) >= 3
            and len(failures) == len(batch)
            and all(why == reason and d.deliveries == 1 for d, why in failures)
        )
        if systemic:
            await self._give_back(batch)
            raise TonewatchError(
                f"every message fails with {reason}; stopping instead of dead-lettering them",
                code="systemic_failure",
            ) from last
        for d, why in failures:
            _log.warning("message %s failed on delivery %d: %s", d.id, d.deliveries, why)
            self.stats.failed += 1
            await self.source.fail(d, why)

    def _pipeline(self) -> Pipeline:
        pipeline: Pipeline | None = getattr(self._tls, "pipeline", None)
        if pipeline is None:
            triggers = self._make_triggers() if self._make_triggers is not None else None
            hook = OutputHook(self._emit, enqueue=self._enqueue, results=self.config.output_results, triggers=triggers)
            pipeline = self._make_pipeline([hook])
            self._tls.pipeline = pipeline
        return pipeline

    def _apply(self, batch: list[Delivery]) -> IngestReport:
        """Runs in a worker thread: one batch, one pipeline chunk, one transaction."""
        items = [(i, decode_delivery(d, i)) for i, d in enumerate(batch, start=1)]
        meta: dict[str, Delivery] = {}
        for (_, item), d in zip(items, batch, strict=True):
            if isinstance(item, dict) and isinstance(item.get("event_id"), str):
                meta[item["event_id"]] = d
        self._tls.meta = meta
        try:
            return self._pipeline().ingest(items)
        finally:
            self._tls.meta = {}

    def _emit(self, records: list[dict[str, Any]]) -> None:
        """Called by the output hook right before the batch commits (in the worker thread)."""
        meta: dict[str, Delivery] = getattr(self._tls, "meta", {})
        now_ms = int(time.time() * 1000)
        for r in records:
            d = meta.get(str(r.get("event_id")))
            if d is not None:
                r["source_id"] = d.id
                r["published_ms"] = d.published_ms
            r["emitted_ms"] = now_ms
        if self.sink is not None:
            assert self._loop is not None
            future = asyncio.run_coroutine_threadsafe(self.sink.send(records), self._loop)
            try:
                future.result(timeout=60)
            except Exception as exc:
                # Not committing is the point: the batch is retried like any store outage
                # and its outputs are published again, never lost.
                raise StoreError(
                    f"publishing outputs to {self.sink.description} failed: {exc}", code="output_unavailable"
                ) from exc
        with self._lock:
            self.stats.outputs += len(records)
