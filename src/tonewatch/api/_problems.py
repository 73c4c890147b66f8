"""Every error the API returns has one shape: ``{"error": {"code", "message", "field"}}``.

Clients branch on ``code`` (stable, documented in ``docs/api.md``), show ``message`` and
highlight ``field``. Errors from the service layer (:mod:`tonewatch._errors`) keep their
own code and status; FastAPI's validation and routing errors are translated here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from tonewatch._errors import TonewatchError

__all__ = [
    "ERROR_RESPONSES",
    "ApiError",
    "ErrorBody",
    "ErrorDetail",
    "error_payload",
    "error_response",
    "install_error_handlers",
    "responses",
]

_log = logging.getLogger("tonewatch.api")


class ApiError(TonewatchError):
    """An HTTP-level refusal with its own status (size limits, media type, rate limit...)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, code=code, field=field)
        self.status = status
        self.headers = dict(headers or {})


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request: invalid JSON or UTF-8, a refused grouping",
    401: "Missing or unknown API key",
    403: "The key's role may not do this, or the visibility policy forbids it",
    404: "Unknown resource",
    409: "The change conflicts with the resource's state",
    413: "Request, text or batch over the limit",
    415: "Unsupported media type (send application/json)",
    422: "Well-formed JSON that breaks the schema",
    429: "Rate limit of this key exceeded (see Retry-After)",
    503: "The database or model is unavailable",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _DESCRIPTIONS.items()
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of an operation, for its OpenAPI entry."""
    return {s: ERROR_RESPONSES[s] for s in statuses}


def error_payload(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(
    status: int, code: str, message: str, field: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_payload(code, message, field), status_code=status, headers=dict(headers or {}))


_TYPE_CODES: dict[str, str] = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "string_too_short": "empty_text",
    "string_too_long": "value_too_long",
    "too_short": "too_few_items",
    "too_long": "too_many_items",
    "literal_error": "invalid_value",
    "enum": "invalid_value",
    "url_parsing": "invalid_url",
    "url_scheme": "invalid_url",
    "datetime_parsing": "invalid_timestamp",
    "datetime_from_date_parsing": "invalid_timestamp",
    "datetime_type": "invalid_timestamp",
    "timezone_aware": "invalid_timestamp",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "finite_number": "out_of_range",
    "string_pattern_mismatch": "invalid_value",
    "value_error": "invalid_value",
    "assertion_error": "invalid_value",
}


def _field(loc: Sequence[Any]) -> str | None:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or None


def _validation_error(exc: RequestValidationError) -> tuple[int, str, str, str | None]:
    errors = list(exc.errors())
    if not errors:
        return 422, "invalid_input", "the request does not match the schema", None
    err = errors[0]
    kind = str(err.get("type", ""))
    loc = err.get("loc", ())
    if kind == "json_invalid":
        ctx = err.get("ctx") or {}
        return 400, "invalid_json", f"invalid JSON: {ctx.get('error', 'decode error')}", None
    if kind.endswith("_type") and kind not in _TYPE_CODES:
        code = "invalid_type"
    else:
        code = _TYPE_CODES.get(kind, "invalid_value")
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    field = _field(loc)
    if field:
        message = f"{field}: {message}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return 422, code, message, field


async def _tonewatch_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TonewatchError)
    headers = exc.headers if isinstance(exc, ApiError) else None
    if exc.status >= 500:
        _log.error("request failed: %s", exc.message, extra={"code": exc.code}, exc_info=exc)
    return error_response(exc.status, exc.code, exc.message, exc.field, headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    status, code, message, field = _validation_error(exc)
    return error_response(status, code, message, field)


_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        code = "invalid_body"
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no route {request.url.path}"
    return error_response(exc.status_code, code, message, None, exc.headers)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal server error; see the server log for the request id")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TonewatchError, _tonewatch_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _unhandled)
