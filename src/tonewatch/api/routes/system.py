"""Liveness, readiness and Prometheus metrics (no key needed: orchestrators and scrapers call them).

``/healthz`` answers as long as the process serves requests; ``/readyz`` checks what a
request needs (the database answers, the model is loaded), so a load balancer only sends
traffic to instances that can score. Neither reveals customer data, and ``/metrics`` holds
only counts and distributions.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from tonewatch._version import __version__
from tonewatch.api._deps import ServicesDep
from tonewatch.api._services import Services

__all__ = ["router"]

router = APIRouter(tags=["operations"])


class HealthzOut(BaseModel):
    status: str
    version: str


class CheckOut(BaseModel):
    ok: bool
    detail: str


class ReadyzOut(BaseModel):
    status: str
    checks: dict[str, CheckOut]


@router.get("/healthz", response_model=HealthzOut, summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok", "version": __version__}


def _checks(services: Services) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        with services.store.session(readonly=True) as session:
            session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "detail": services.store.url}
    except Exception as exc:  # readiness reports any failure instead of raising
        checks["database"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    try:
        version = services.load_model()
        checks["model"] = {"ok": True, "detail": version}
    except Exception as exc:
        checks["model"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    return checks


@router.get(
    "/readyz",
    response_model=ReadyzOut,
    summary="Readiness: database reachable, model loaded",
    responses={503: {"model": ReadyzOut, "description": "Not ready; `checks` says what failed"}},
)
async def readyz(services: ServicesDep) -> Any:
    """200 when the database answers and the model is loaded; 503 with the failing check otherwise."""
    checks = await run_in_threadpool(_checks, services)
    ready = all(c["ok"] for c in checks.values())
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Exposition format"}},
)
async def metrics(services: ServicesDep) -> Response:
    """Request latency histograms per route, inference time, label/emotion/confidence distributions, queues."""
    body = await run_in_threadpool(services.metrics.render)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
