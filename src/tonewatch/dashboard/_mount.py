"""Putting the dashboard on an app: its routes at ``/`` and its static files at ``/static``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

from tonewatch.settings import Settings

from ._render import STATIC_DIR
from ._routes import build_router

__all__ = ["FORM_PATHS", "STATIC_PATH", "mount_dashboard", "router"]

STATIC_PATH = "/static"
# Paths whose HTML forms post application/x-www-form-urlencoded bodies (the API's guard admits them).
FORM_PATHS: tuple[str, ...] = ("/login", "/logout", "/review/", "/messages/")


def router() -> APIRouter:
    """The dashboard's routes (hidden from the OpenAPI schema); they read ``app.state.services``."""
    return build_router()


def mount_dashboard(app: FastAPI, settings: Settings | None = None) -> None:
    """Serve the dashboard from ``app``.

    ``create_app`` calls this. Another FastAPI app can host the dashboard too: without the
    API's services on ``app.state`` one is created for ``settings``.
    """
    if getattr(app.state, "services", None) is None:
        from tonewatch.api._services import Services

        app.state.services = Services(settings or Settings())
    app.include_router(router())
    app.mount(STATIC_PATH, StaticFiles(directory=str(STATIC_DIR)), name="dashboard-static")
