"""Jinja2 rendering with the filters the templates share and the headers every page gets.

The environment is built on first use (templates are read from the package folder), with
autoescaping on: every value a page shows came from customers' messages or an operator's
input and is escaped unless a template says otherwise.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.responses import HTMLResponse

from ._charts import ChartSpec

__all__ = ["SECURITY_HEADERS", "STATIC_DIR", "TEMPLATE_DIR", "html_page", "render"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

# Scripts and styles only from this server: the chart library is vendored, nothing loads from a CDN.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_lock = threading.Lock()
_env: jinja2.Environment | None = None


def _signed(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _percent(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}%}"


def _hours(value: float | None) -> str:
    """``53.5`` -> ``2 d 5 h``; ``0.75`` -> ``45 min``."""
    if value is None:
        return "–"
    minutes = round(abs(value) * 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def _when(value: datetime | str | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return _when(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat()


def _tojson_attr(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` island (``</`` cannot close the tag)."""
    text = json.dumps(value, separators=(",", ":"), default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _chart_dict(spec: ChartSpec) -> dict[str, Any]:
    return spec.to_dict()


def environment() -> jinja2.Environment:
    global _env
    if _env is None:
        with _lock:
            if _env is None:
                env = jinja2.Environment(
                    loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                    autoescape=jinja2.select_autoescape(("html", "j2")),
                    trim_blocks=True,
                    lstrip_blocks=True,
                )
                env.filters.update(
                    signed=_signed,
                    number=_number,
                    percent=_percent,
                    hours=_hours,
                    when=_when,
                    iso=_iso,
                    json_island=_tojson_attr,
                    chart_dict=_chart_dict,
                )
                _env = env
    return _env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def html_page(
    template: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """A rendered page with the security headers."""
    return HTMLResponse(
        render(template, **context), status_code=status, headers={**SECURITY_HEADERS, **(headers or {})}
    )
