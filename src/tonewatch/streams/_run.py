"""Assembling a worker for a deployment: pipelines on the store, webhooks, signals.

Kept apart from the worker so the worker itself needs nothing but a source and a way to
build pipelines (tests and embedded use pass their own).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._outputs import EnqueueFn
from ._worker import PipelineFactory, Worker, WorkerStats

if TYPE_CHECKING:
    from tonewatch.ingest import AnalyzerLike, Hook, Pipeline
    from tonewatch.settings import Settings
    from tonewatch.store import Store

__all__ = ["pipeline_factory", "run_until_signal", "webhook_enqueuer"]

_log = logging.getLogger("tonewatch.streams.worker")


def pipeline_factory(
    store: Store,
    analyzer: AnalyzerLike,
    settings: Settings,
    *,
    batch_size: int,
    extra_hooks: Sequence[Hook] = (),
) -> PipelineFactory:
    """Pipelines whose chunk is a whole worker batch (one transaction per batch)."""
    from tonewatch.ingest import Pipeline

    def make(hooks: Sequence[Hook]) -> Pipeline:
        return Pipeline(
            store,
            analyzer,
            settings,
            hooks=[*extra_hooks, *hooks],
            chunk_size=max(batch_size, 1),
            batch_size=32,
        )

    return make


def webhook_enqueuer(store: Store) -> EnqueueFn | None:
    """The API's webhook outbox writer when its tables exist in this store, else None."""
    try:
        from sqlalchemy import inspect

        from tonewatch.api import _webhooks
        from tonewatch.api._models import WebhookDeliveryRow, WebhookSubscriptionRow
    except ImportError:
        return None
    try:
        tables = set(inspect(store.engine).get_table_names())
    except Exception:
        return None
    if {WebhookDeliveryRow.__tablename__, WebhookSubscriptionRow.__tablename__} <= tables:
        enqueue: EnqueueFn = _webhooks.enqueue
        return enqueue
    return None


async def run_until_signal(worker: Worker) -> WorkerStats:
    """Run ``worker``; SIGTERM and SIGINT stop it gracefully (a second one is not special)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, _stopper(worker, sig))
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-POSIX or not main thread
            pass
    try:
        return await worker.run()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _stopper(worker: Worker, sig: signal.Signals) -> Any:
    def stop() -> None:
        _log.info("received %s: finishing in-flight work", sig.name)
        worker.stop(sig.name)

    return stop
