"""The ingest pipeline: validate -> mask -> analyze -> categorize -> store -> state -> health -> hooks.

Events are processed in chunks. Everything that can refuse an event runs before the
chunk's write transaction (``_prepare``), and each chunk is written in one transaction
(``_apply``), so a rejected event is never half applied and a crash loses at most the
chunk in flight, which re-ingesting restores (ingestion is idempotent by ``event_id``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import select

from tonewatch._errors import ConfigurationError, EventValidationError, StoreError
from tonewatch.store._models import Customer

from ._apply import ChunkWriter, save_snapshots
from ._hooks import CustomerUpdate, Hook
from ._prepare import AnalyzerLike, MaskFn, Prepared, Preparer
from ._replay import load_history
from ._report import IngestReport, Rejection, SweepReport
from ._state import HealthModel, snapshot_values

if TYPE_CHECKING:
    from tonewatch.settings import Settings
    from tonewatch.store._store import Store

__all__ = ["Pipeline"]

ProgressFn = Callable[[int], None]
AfterCommit = Callable[[Sequence[Prepared]], None]
_log = logging.getLogger("tonewatch.ingest")


def _numbered(events: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    """Give every item a line number: its own (from ``read_events``) or its 1-based position."""
    for position, item in enumerate(events, start=1):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int):
            yield item[0], item[1]
        elif isinstance(item, dict | BaseModel | EventValidationError):
            yield position, item
        else:
            yield position, EventValidationError("an event must be a JSON object", line=position)


class Pipeline:
    """Turns a stream of v1 events into stored, scored customer state.

    ``analyzer`` defaults to the model registry's active version
    (``tonewatch.learn.serving_analyzer``: the bundled model until one is promoted, or
    ``settings.model_dir`` when set); ``hooks`` are called with a :class:`CustomerUpdate`
    after every event folded into a customer's state (see ``_hooks``). ``after_commit``
    functions get each chunk's prepared events once its transaction has committed, outside
    it (the registry's shadow scoring); an analyzer with an ``after_commit`` method of its own
    gets them too. They must not block, and their failures are logged, never raised: the
    chunk is already stored. ``weights`` and ``segment_baselines`` go to
    ``CustomerState.report``; without ``weights`` the deployment's weights file is used when
    there is one (see ``_weights``). ``clock`` exists for tests and replays.
    """

    def __init__(
        self,
        store: Store,
        analyzer: AnalyzerLike | None = None,
        settings: Settings | None = None,
        hooks: Sequence[Hook] = (),
        *,
        chunk_size: int = 5000,
        batch_size: int = 32,
        weights: Any = None,
        segment_baselines: Mapping[str, Any] | None = None,
        mask: MaskFn | None = None,
        categorize: Callable[[str], str] | None = None,
        clock: Callable[[], datetime] | None = None,
        retries: int = 5,
        overlap: bool = True,
        after_commit: Sequence[AfterCommit] = (),
    ) -> None:
        if settings is None:
            from tonewatch.settings import Settings

            settings = Settings()
        if chunk_size < 1 or batch_size < 1:
            raise ConfigurationError("chunk_size and batch_size must be positive", field="chunk_size")
        self.store = store
        self.settings = settings
        self.hooks: list[Hook] = list(hooks)
        self.chunk_size = chunk_size
        self.batch_size = batch_size
        self.overlap = overlap
        self._analyzer = analyzer
        self._mask = mask
        self._categorize = categorize
        self._clock = clock or (lambda: datetime.now(UTC))
        self._retries = retries
        self._weights = weights
        self._baselines = segment_baselines
        self._model: HealthModel | None = None
        self._preparer: Preparer | None = None
        self._encrypt: Callable[[str], str] | None = None
        self._after_commit: list[AfterCommit] = list(after_commit)
        self._resolved: AnalyzerLike | None = None

    @property
    def model(self) -> HealthModel:
        """The health model (weights and baselines) every report of this pipeline uses."""
        if self._model is None:
            weights = self._weights
            if weights is None:
                from ._weights import load_weights

                weights = load_weights(self.settings)
            self._model = HealthModel(weights, self._baselines)
        return self._model

    def add_hook(self, hook: Hook) -> None:
        self.hooks.append(hook)

    def _prepare_stage(self) -> Preparer:
        if self._preparer is None:
            analyzer = self._analyzer
            if analyzer is None:
                from tonewatch.learn._serving import serving_analyzer

                analyzer = serving_analyzer(self.settings, self.store)
            own = getattr(analyzer, "after_commit", None)
            if callable(own) and own not in self._after_commit:
                self._after_commit.append(own)
            self._resolved = analyzer
            mask = self._mask
            if mask is None:
                from tonewatch.mask import mask_pii

                mask = mask_pii
            categorize = self._categorize
            if categorize is None:
                from tonewatch.score import categorize as categorize_text

                categorize = categorize_text
            if self.settings.store_raw_text:
                self._encrypt = self._raw_text_encrypter()
            self._preparer = Preparer(
                analyzer,
                mask,
                categorize,
                max_text_chars=self.settings.max_text_chars,
                batch_size=self.batch_size,
                keep_raw_text=self.settings.store_raw_text,
            )
        return self._preparer

    def _raw_text_encrypter(self) -> Callable[[str], str]:
        from tonewatch.mask import RawTextVault

        vault = RawTextVault.from_settings(self.settings)
        if vault is None:  # pragma: no cover - only called when store_raw_text is on
            raise ConfigurationError("store_raw_text is off", field="store_raw_text")
        return vault.encrypt

    def ingest(self, events: Iterable[Any], *, on_progress: ProgressFn | None = None) -> IngestReport:
        """Ingest events (dicts, parsed events, or ``(line, dict | error)`` pairs from ``read_events``).

        Returns counts of accepted, duplicate and rejected events; rejected events carry
        their line and reason and leave no trace in the store. With ``overlap`` (the
        default) the next chunk is prepared (validated, masked, scored) in a worker thread
        while the current one is written: inference releases the GIL, so scoring and
        storing proceed at the same time. Chunks are still written strictly in order.
        """
        report = IngestReport()
        started = time.perf_counter()
        numbered = _numbered(events)
        preparer = self._prepare_stage()
        if not self.overlap:
            while chunk := list(islice(numbered, self.chunk_size)):
                report += self._write_chunk(*preparer.prepare(chunk))
                if on_progress is not None:
                    on_progress(len(chunk))
        else:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tonewatch-prepare") as pool:
                chunk = list(islice(numbered, self.chunk_size))
                pending = pool.submit(preparer.prepare, chunk) if chunk else None
                while pending is not None:
                    prepared = pending.result()
                    size = len(chunk)
                    chunk = list(islice(numbered, self.chunk_size))
                    pending = pool.submit(preparer.prepare, chunk) if chunk else None
                    report += self._write_chunk(*prepared)
                    if on_progress is not None:
                        on_progress(size)
        report.seconds = time.perf_counter() - started
        return report

    def _write_chunk(self, prepared: list[Prepared], rejected: list[Rejection], duplicates: int) -> IngestReport:
        part = IngestReport(duplicate=duplicates, rejected=rejected)
        if not prepared:
            return part
        for attempt in range(self._retries + 1):
            try:
                with self.store.session() as session:
                    result = ChunkWriter(session, self.model, self.hooks, self._clock(), self._encrypt).write(prepared)
                break
            except StoreError as exc:
                if exc.code != "conflict" or attempt == self._retries:
                    raise
                # Another writer got there first (a new customer or event inserted at the same
                # time): retry with fresh state after a jittered back-off.
                time.sleep(random.uniform(0.02, 0.1) * 2**attempt)
        self._committed(prepared)
        part.accepted = result.accepted
        part.duplicate += result.duplicate
        part.customers = result.customers
        part.rebuilt = result.rebuilt
        return part

    def drain(self, timeout: float = 60.0) -> None:
        """Wait for the background work the analyzer started for committed chunks (shadow scoring).

        Long-running processes never need this; a short-lived one (``tonewatch ingest``) calls it
        before exiting, or what is still queued is lost with the process.
        """
        drain = getattr(self._resolved, "drain", None)
        if callable(drain) and not drain(timeout):
            _log.warning("background work of the analyzer did not finish within %.0fs", timeout)

    def _committed(self, prepared: list[Prepared]) -> None:
        for fn in self._after_commit:
            try:
                fn(prepared)
            except Exception:  # the chunk is stored; an observer's failure must not undo or repeat it
                _log.exception("after-commit function %r failed", fn)

    def sweep(
        self, as_of: datetime | None = None, *, page_size: int = 500, on_progress: ProgressFn | None = None
    ) -> SweepReport:
        """Recompute every customer's report as of ``as_of`` (default now) and call the hooks.

        The clock alone changes some signals (silence, renewal proximity), so a periodic
        sweep is what lets them fire without new events. A sweep at or after a customer's
        last event stores the new report and a snapshot; a sweep in the past only replays
        history up to ``as_of`` for the hooks and stores nothing of the customer.
        """
        when = (as_of or self._clock()).astimezone(UTC)
        started = time.perf_counter()
        out = SweepReport()
        after = ""
        while True:
            with self.store.session() as session:
                page = list(
                    session.scalars(
                        select(Customer)
                        .where(Customer.id > after, Customer.last_event_at.is_not(None))
                        .order_by(Customer.id)
                        .limit(page_size)
                    )
                )
                if not page:
                    break
                snapshots: dict[tuple[str, str], dict[str, Any]] = {}
                for customer in page:
                    out.persisted += self._sweep_one(session, customer, when, snapshots)
                save_snapshots(session, snapshots)
            out.customers += len(page)
            after = page[-1].id
            if on_progress is not None:
                on_progress(len(page))
        out.seconds = time.perf_counter() - started
        return out

    def _sweep_one(
        self, session: Any, customer: Customer, when: datetime, snapshots: dict[tuple[str, str], dict[str, Any]]
    ) -> int:
        model = self.model
        attrs = dict(customer.attributes or {})
        assert customer.last_event_at is not None
        persist = when >= customer.last_event_at and customer.state is not None
        if persist:
            assert customer.state is not None
            state = model.restore(customer.state)
        else:
            history = load_history(session, customer.id, until=when)
            if not history:
                return 0
            state = model.replay(customer.id, attrs, history)
        report = model.report(state, when, attrs)
        if self.hooks:
            previous = model.report(state, customer.as_of, attrs) if persist and customer.as_of else None
            update = CustomerUpdate(
                session=session,
                customer_id=customer.id,
                attributes=attrs,
                state=state,
                report=report,
                event=None,
                analysis=None,
                as_of=when,
                previous=previous,
                source="sweep",
            )
            for hook in self.hooks:
                hook(update)
        if not persist:
            return 0
        values = snapshot_values(report)
        customer.report = report.to_dict()
        customer.health = values["health"]
        customer.band = values["band"]
        customer.as_of = when
        customer.updated_at = self._clock()
        snapshots[(customer.id, when.date().isoformat())] = {"as_of": when, **values}
        return 1
