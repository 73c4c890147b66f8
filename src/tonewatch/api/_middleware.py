"""The outermost layer: request ids, size/media-type/UTF-8 guards, metrics, one log line.

A pure ASGI middleware (not ``BaseHTTPMiddleware``) so it adds microseconds, streams
Server-Sent Events untouched, and can refuse an oversized body before reading it all. The
guards run before routing, so every endpoint gets the same limits and error shapes.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._logging import request_id_var
from ._metrics import ApiMetrics
from ._problems import error_response

__all__ = ["RequestContextMiddleware"]

_log = logging.getLogger("tonewatch.api")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"})
_UNTIMED_ROUTES = frozenset({"/v1/stream-sentiment"})

_Problem = Callable[[Scope, Receive, Send], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class RequestContextMiddleware:
    """Wraps every HTTP request; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ApiMetrics,
        max_request_bytes: int,
        yaml_paths: frozenset[str] = frozenset(),
        form_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_request_bytes = max_request_bytes
        self.yaml_paths = yaml_paths
        self.form_prefixes = form_prefixes  # the dashboard's HTML forms post urlencoded bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        rid = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        method: str = scope["method"]
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = [*message.get("headers", ()), (b"x-request-id", rid.encode("ascii"))]
                message = {**message, "headers": headers}
            await send(message)

        self.metrics.in_flight.inc()
        try:
            problem: _Problem | None = None
            if method in _BODY_METHODS:
                problem, receive = await self._guard_body(scope, receive)
            if problem is not None:
                await problem(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            _log.exception("unhandled error while serving %s %s", method, scope.get("path"))
            if not response_started:
                response = error_response(500, "internal_error", "internal server error; see the server log")
                await response(scope, receive, send_with_id)
        finally:
            self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(method, route, str(status)).inc()
            if route not in _UNTIMED_ROUTES:
                self.metrics.latency.labels(method, route).observe(elapsed)
            _log.info(
                "request",
                extra={
                    "method": method,
                    "path": scope.get("path"),
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "key_id": state.get("key_id"),
                    "role": state.get("role"),
                },
            )
            request_id_var.reset(token)

    async def _guard_body(self, scope: Scope, receive: Receive) -> tuple[_Problem | None, Receive]:
        """Read the body (bounded) and check its size, media type and encoding."""
        limit = self.max_request_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            return self._too_large(), receive
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return self._too_large(), receive
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if not body:
            return None, replay
        raw_type = _header(scope, b"content-type")
        if raw_type is not None:
            media, _, params = raw_type.partition(";")
            media = media.strip().lower()
            is_json = media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
            is_yaml = media in _YAML_TYPES and scope.get("path") in self.yaml_paths
            is_form = media == "application/x-www-form-urlencoded" and str(scope.get("path")).startswith(
                self.form_prefixes
            )
            if not (is_json or is_yaml or is_form):
                return self._problem(
                    415, "unsupported_media_type", f"unsupported media type {media!r}; send application/json"
                ), replay
            charset = re.search(r"charset\s*=\s*\"?([\w.-]+)", params, re.IGNORECASE)
            if charset and charset.group(1).lower().replace("_", "-") not in {"utf-8", "utf8"}:
                return self._problem(415, "unsupported_charset", "bodies must be UTF-8"), replay
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self._problem(400, "invalid_utf8", f"the body is not valid UTF-8 (byte {exc.start})"), replay
        return None, replay

    def _too_large(self) -> _Problem:
        return self._problem(
            413, "request_too_large", f"the request body is over the limit of {self.max_request_bytes} bytes"
        )

    @staticmethod
    def _problem(status: int, code: str, message: str) -> _Problem:
        return error_response(status, code, message)
