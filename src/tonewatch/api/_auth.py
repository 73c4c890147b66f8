"""Who is calling and what their role may do: bearer keys, permissions, the rate limit.

Permissions are named after business intents (``classify``, ``rules.write``...) and mapped
to roles in one table, so reviewing who may do what is reading :data:`PERMISSIONS`. Model
and rule management and labelled data are admin-only.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from tonewatch._errors import PermissionDeniedError

from ._problems import ApiError
from ._services import Services

__all__ = ["PERMISSIONS", "Principal", "bearer", "get_principal", "get_services", "require"]

_ALL = frozenset({"agent", "lead", "qa", "analyst", "admin"})
_STAFF = frozenset({"agent", "lead", "qa", "admin"})
_SUPERVISORS = frozenset({"lead", "qa", "admin"})
_ADMIN = frozenset({"admin"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "classify": _ALL,
    "stream": _ALL,
    "ingest": frozenset({"agent", "lead", "admin"}),
    "customers.read": _ALL,
    "aggregates.read": frozenset({"lead", "qa", "analyst", "admin"}),
    "review.read": _STAFF,
    "review.act": _STAFF,
    "review.create": _SUPERVISORS,
    "rules.read": frozenset({"lead", "qa", "analyst", "admin"}),
    "rules.write": _ADMIN,
    "audit.read": _SUPERVISORS,
    "feedback.write": _STAFF,
    "feedback.read": _ADMIN,
    "webhooks.manage": _ADMIN,
    "keys.manage": _ADMIN,
    "models.read": _ADMIN,
}

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer tw_...`")


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: the key's public id and role."""

    key_id: str
    role: str
    name: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller: ``name [key:ID]`` for a named key, else ``key:ID``.

        The API and the dashboard both use this form, so one person's decisions, labels and
        changes read the same wherever they were made (and one-vote-per-reviewer counts them once).
        """
        base = f"key:{self.key_id}"
        return f"{self.name} [{base}]" if self.name else base


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": "Bearer"})


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    services: Annotated[Services, Depends(get_services)],
) -> Principal:
    """Authenticate the bearer key (401) and spend one token of its rate limit (429)."""
    if credentials is None:
        if request.headers.get("authorization"):
            raise _unauthorized("invalid_authorization", "use the Bearer scheme: Authorization: Bearer <key>")
        raise _unauthorized("missing_api_key", "an API key is required: Authorization: Bearer <key>")
    key = credentials.credentials.strip()
    info = services.cached_key(key)
    if info is None:
        info = await run_in_threadpool(services.verify_key, key)
    if info is None:
        raise _unauthorized("invalid_api_key", "unknown or revoked API key")
    wait = services.limiter.acquire(info.id)
    if wait > 0:
        services.metrics.rate_limited.inc()
        raise ApiError(
            429,
            "rate_limited",
            f"rate limit of {services.limiter.per_minute} requests per minute exceeded for this key",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    state = request.scope.setdefault("state", {})
    state["key_id"] = info.id
    state["role"] = info.role
    return Principal(info.id, info.role, info.name)


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only roles holding ``permission`` (403 otherwise)."""
    roles = PERMISSIONS[permission]

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(sorted(roles))
            raise PermissionDeniedError(
                f"the {principal.role!r} role may not use this endpoint ({permission}); allowed: {allowed}",
                field="authorization",
            )
        return principal

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency
