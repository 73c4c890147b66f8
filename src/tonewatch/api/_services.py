"""Everything one app instance needs, built lazily and shared by its routes.

``create_app`` only constructs this object (cheap, no I/O): the database engine, the
migrations and the model are created on first use or in the lifespan, so importing the app
or rendering its OpenAPI schema never touches a database or loads a model.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tonewatch.settings import Settings

from ._batcher import MicroBatcher
from ._broadcast import Broadcaster
from ._keys import ApiKeyInfo, verify_key
from ._metrics import ApiMetrics, GaugeSample
from ._ratelimit import RateLimiter
from ._visibility import Viewer
from ._webhooks import RetryPolicy, WebhookDispatcher, outbox_counts

if TYPE_CHECKING:
    from tonewatch.ingest import AnalyzerLike, IngestReport, Pipeline
    from tonewatch.learn._serving import ServingModels
    from tonewatch.score._analysis import Analysis
    from tonewatch.store import Store

__all__ = ["MeteredAnalyzer", "Services"]

_KEY_CACHE_SECONDS = 30.0


class MeteredAnalyzer:
    """An analyzer proxy that records inference time and result distributions."""

    def __init__(self, inner: AnalyzerLike, metrics: ApiMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    @property
    def model_version(self) -> str:
        return str(self._inner.model_version)

    def analyze(self, text: str, *, language: str | None = None) -> Analysis:
        started = time.perf_counter()
        result: Analysis = self._inner.analyze(text, language=language)
        self._metrics.observe_analyses([result], time.perf_counter() - started, kind="single")
        return result

    def analyze_batch(
        self, texts: Sequence[str], *, batch_size: int = 32, languages: Sequence[str | None] | None = None
    ) -> list[Analysis]:
        started = time.perf_counter()
        results: list[Analysis] = list(
            self._inner.analyze_batch(
                list(texts), batch_size=batch_size, languages=None if languages is None else list(languages)
            )
        )
        self._metrics.observe_analyses(results, time.perf_counter() - started, kind="batch")
        return results


class Services:
    """The per-app service container (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        analyzer: AnalyzerLike | None = None,
        webhook_policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = ApiMetrics()
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.broadcaster = Broadcaster()
        self.webhooks = WebhookDispatcher(lambda: self.store, self.metrics, webhook_policy)
        self._store = store
        self._store_ready = False
        self._analyzer = analyzer
        self._serving: ServingModels | None = None
        self._pipeline: Any = None
        self._pipeline_stamp: tuple[str, float] | None = None
        self._lock = threading.RLock()
        self._keys: dict[str, tuple[ApiKeyInfo, float]] = {}
        self.metrics.add_scrape_gauges(self._database_gauges)
        self.batcher = MicroBatcher(self._run_coalesced, max_batch=32)

    # -- database -------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The store, migrated to the newest schema on first use."""
        if not self._store_ready:
            with self._lock:
                if not self._store_ready:
                    if self._store is None:
                        from tonewatch.store import Store

                        self._store = Store.from_settings(self.settings)
                    self._store.create_all()
                    self._store_ready = True
        assert self._store is not None
        return self._store

    @property
    def store_ready(self) -> bool:
        return self._store_ready

    # -- model ----------------------------------------------------------------------------
    @property
    def analyzer(self) -> AnalyzerLike:
        """The model registry's active version (switches without a restart), or ``settings.model_dir``.

        Thread-safe; analyzers are shared per model folder across the process.
        """
        if self._analyzer is None:
            with self._lock:
                if self._analyzer is None:
                    if self.settings.model_dir is None:
                        from tonewatch.learn._serving import ServingModels

                        self._serving = ServingModels(self.settings, lambda: self.store, on_switch=self._switched)
                        self._analyzer = self._serving
                    else:
                        from tonewatch.score import get_analyzer

                        self._analyzer = get_analyzer(self.settings)
                        self.metrics.model_info.labels(str(self._analyzer.model_version)).set(1)
        return self._analyzer

    @property
    def serving(self) -> ServingModels | None:
        """The registry resolver behind :attr:`analyzer` (None with ``model_dir`` or an injected analyzer)."""
        _ = self.analyzer
        return self._serving

    def _switched(self, old: str | None, new: str) -> None:
        if old is not None:
            self.metrics.model_info.labels(old).set(0)
        self.metrics.model_info.labels(new).set(1)

    def load_model(self) -> str:
        """Load the model now (start-up, readiness) and return its version."""
        analyzer = self.analyzer
        if not getattr(analyzer, "loaded", True):
            getattr(analyzer, "load")()  # noqa: B009 - an Analyzer; other AnalyzerLikes load eagerly
        return str(analyzer.model_version)

    def analyze(self, texts: Sequence[str], *, languages: Sequence[str | None] | None = None) -> list[Analysis]:
        """Score texts with the shared analyzer, recording inference metrics."""
        if len(texts) == 1:
            return [self.metered.analyze(texts[0], language=languages[0] if languages else None)]
        return self.metered.analyze_batch(texts, languages=languages)

    def _run_coalesced(self, texts: Sequence[str], languages: Sequence[str | None]) -> list[Analysis]:
        self.metrics.batch_size.observe(len(texts))
        return self.analyze(texts, languages=languages)

    @property
    def metered(self) -> MeteredAnalyzer:
        """The analyzer wrapped so every call (API or pipeline) feeds the inference metrics."""
        return MeteredAnalyzer(self.analyzer, self.metrics)

    # -- ingestion ------------------------------------------------------------------------
    def rules_file(self, *, for_writing: bool = False) -> Path | None:
        """The playbook file in force: ``rules_path``, else ``home/rules.yaml`` once one was uploaded.

        None means the bundled starter playbook. ``for_writing`` always names a file.
        """
        if self.settings.rules_path is not None:
            return Path(self.settings.rules_path)
        uploaded = Path(self.settings.home) / "rules.yaml"
        return uploaded if for_writing or uploaded.exists() else None

    def _rules_stamp(self) -> tuple[str, float] | None:
        path = self.rules_file()
        if path is None:
            return None
        try:
            return str(path), path.stat().st_mtime
        except OSError:
            return str(path), -1.0

    def pipeline(self) -> Pipeline:
        """The ingest pipeline with this app's hooks; rebuilt when the playbook file changes.

        Checking the file's stamp on each call makes a playbook uploaded through any worker
        (or edited on disk) take effect everywhere without a restart.
        """
        stamp = self._rules_stamp()
        if self._pipeline is None or stamp != self._pipeline_stamp:
            with self._lock:
                if self._pipeline is None or stamp != self._pipeline_stamp:
                    from tonewatch.ingest import Pipeline

                    from ._hooks import ApiHook

                    # Webhook receivers are configured by admins: they get what an admin key may read.
                    receivers = Viewer.for_role("admin", self.settings)
                    api_hook = ApiHook(self.broadcaster, self.webhooks.wake, receivers=receivers)
                    hooks: list[Any] = [api_hook, *self._trigger_hooks()]
                    metered = self.metered
                    # shadow scoring sees each chunk once it has committed (see tonewatch.learn._shadow)
                    after_commit = [self._serving.after_commit] if self._serving is not None else []
                    self._pipeline = Pipeline(self.store, metered, self.settings, hooks, after_commit=after_commit)
                    self._pipeline_stamp = stamp
        pipeline: Pipeline = self._pipeline
        return pipeline

    def _trigger_hooks(self) -> list[Any]:
        """The rules engine on the playbook in force."""
        from tonewatch.triggers import TriggerHook, load_playbook

        return [TriggerHook(load_playbook(self.rules_file()), self.settings)]

    def ingest(self, items: Sequence[Any]) -> IngestReport:
        """Run events through the pipeline (in the caller's thread)."""
        pipeline = self.pipeline()
        try:
            return pipeline.ingest(items)
        finally:
            for hook in pipeline.hooks:
                fired = getattr(hook, "fired", None)
                if isinstance(fired, list):
                    fired.clear()  # the trigger hook keeps its firings for CLI summaries; a server must not

    def reset_pipeline(self) -> None:
        """Forget the pipeline so the next ingestion uses freshly loaded rules."""
        with self._lock:
            self._pipeline = None

    # -- keys -----------------------------------------------------------------------------
    def cached_key(self, key: str) -> ApiKeyInfo | None:
        entry = self._keys.get(_fingerprint(key))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def verify_key(self, key: str) -> ApiKeyInfo | None:
        """Check a key against the database and cache a hit briefly (revocation is immediate here)."""
        with self.store.session(readonly=True) as session:
            info = verify_key(session, key)
        if info is not None:
            self._keys[_fingerprint(key)] = (info, time.monotonic() + _KEY_CACHE_SECONDS)
        return info

    def forget_key(self, key_id: str) -> None:
        """Drop cached entries of a revoked key."""
        for fp, (info, _) in list(self._keys.items()):
            if info.id == key_id:
                self._keys.pop(fp, None)

    # -- metrics read at scrape time ------------------------------------------------------
    def _database_gauges(self) -> list[GaugeSample]:
        samples: list[GaugeSample] = []
        if not self._store_ready:
            return samples
        with self.store.session(readonly=True) as session:
            for status, n in outbox_counts(session).items():
                samples.append(
                    ("tonewatch_webhook_outbox", "Webhook deliveries by status", {"status": status}, float(n))
                )
            samples.extend(_review_gauges(session))
            samples.extend(_drift_gauges(session))
        return samples


def _review_gauges(session: Any) -> list[GaugeSample]:
    """Review-queue sizes by status and open items past their SLA deadline."""
    from sqlalchemy import func, select

    from tonewatch.review import OPEN, ReviewItemRow

    out: list[GaugeSample] = []
    rows = session.execute(select(ReviewItemRow.status, func.count()).group_by(ReviewItemRow.status))
    for status, n in rows:
        out.append(("tonewatch_review_queue_items", "Review items by status", {"status": str(status)}, float(n)))
    overdue = session.scalar(
        select(func.count())
        .select_from(ReviewItemRow)
        .where(ReviewItemRow.status.in_(OPEN), ReviewItemRow.due < datetime.now(UTC))
    )
    out.append(("tonewatch_review_sla_breaches", "Open review items past their SLA deadline", {}, float(overdue or 0)))
    return out


def _drift_gauges(session: Any) -> list[GaugeSample]:
    """The latest recorded drift report's measures and alerts (``tonewatch drift report`` writes it)."""
    from tonewatch.learn import drift_gauges

    return drift_gauges(session)


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
