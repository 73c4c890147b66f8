"""``create_app(settings) -> FastAPI``: the HTTP API, one router per resource.

Nothing heavy happens here: the database is migrated, the model loaded and the webhook
dispatcher started in the lifespan (and lazily on first use when an app is driven without
one, e.g. by a schema fuzzer), so building an app for its OpenAPI schema is instant.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from tonewatch._version import __version__
from tonewatch.settings import Settings

from ._drift_schedule import DriftSchedule
from ._middleware import RequestContextMiddleware
from ._problems import install_error_handlers
from ._services import Services
from ._webhooks import RetryPolicy
from .routes import ROUTERS

if TYPE_CHECKING:
    from tonewatch.ingest import AnalyzerLike
    from tonewatch.store import Store

__all__ = ["create_app"]

_log = logging.getLogger("tonewatch.api")

_DESCRIPTION = """\
Score customer-support messages, follow each customer's trajectory and health, and run
proactive support (review queue, rules, audit log, webhooks).

Authenticate with `Authorization: Bearer <key>` (create keys with `tonewatch keys create --role ROLE`).
Every error is `{"error": {"code", "message", "field"}}` with a stable `code`.
Scores are shown according to the organisation's visibility policy; hidden scores are `null`
and `redacted` names the policy.
"""


def _warm_up(services: Services) -> None:
    """Migrate and load the model before the first request; failures show up in /readyz."""
    try:
        _ = services.store
    except Exception:
        _log.exception("database not ready at start-up")
    try:
        services.load_model()
    except Exception:
        _log.exception("model not ready at start-up")


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    analyzer: AnalyzerLike | None = None,
    webhook_policy: RetryPolicy | None = None,
    tracing: bool = False,
    warm_up: bool = True,
) -> FastAPI:
    """Build the API for ``settings`` (default: from the environment).

    ``store`` and ``analyzer`` let an embedding program share ones it already has;
    ``webhook_policy`` tunes delivery retries; ``tracing`` turns on OpenTelemetry (the
    ``otel`` extra, else :class:`~tonewatch.MissingExtraError`).
    """
    settings = settings or Settings()
    services = Services(settings, store=store, analyzer=analyzer, webhook_policy=webhook_policy)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            await run_in_threadpool(_warm_up, services)
        await services.webhooks.start()
        drift = DriftSchedule(services)
        drift.start()
        try:
            yield
        finally:
            await drift.stop()
            await services.webhooks.stop()

    app = FastAPI(
        title="tonewatch",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "sentiment", "description": "Score texts and conversations"},
            {"name": "customers", "description": "Events, customers, trajectories and health"},
            {"name": "proactive", "description": "Review queue, rules, feedback and audit log"},
            {"name": "webhooks", "description": "Signed notifications to other systems"},
            {"name": "admin", "description": "API keys and model versions"},
            {"name": "operations", "description": "Health, readiness and metrics"},
        ],
    )
    app.state.services = services
    install_error_handlers(app)
    from tonewatch.dashboard import FORM_PATHS, mount_dashboard  # here: the dashboard imports this package

    app.add_middleware(
        RequestContextMiddleware,
        metrics=services.metrics,
        max_request_bytes=settings.max_request_bytes,
        yaml_paths=frozenset({"/v1/rules"}),
        form_prefixes=FORM_PATHS,
    )
    for router in ROUTERS:
        app.include_router(router)
    mount_dashboard(app)
    if tracing:
        from ._otel import instrument_app

        instrument_app(app)
    return app
