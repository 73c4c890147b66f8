"""Structured JSON logs: one object per line, with the request id when there is one.

Log shippers (Loki, Elasticsearch, CloudWatch) index JSON fields directly; the request id
joins a client's ``X-Request-ID`` to the server's lines for that request.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "configure_json_logging", "request_id_var"]

request_id_var: ContextVar[str | None] = ContextVar("tonewatch_request_id", default=None)

# Attributes every LogRecord has; anything else passed via ``extra=`` becomes a JSON field.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object (``ts``, ``level``, ``logger``, ``msg``, extras)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid is not None:
            out["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_json_logging(level: str = "info") -> None:
    """Send tonewatch and uvicorn logs to stderr as JSON lines (the ``serve`` default)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("tonewatch", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # uvicorn's own access log duplicates our request line; keep it quiet.
    logging.getLogger("uvicorn.access").disabled = True
