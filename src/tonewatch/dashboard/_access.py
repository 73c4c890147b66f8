"""Who is looking at a page: the signed-in key (cookie) or a script's bearer key.

Roles and permissions are the API's (:data:`tonewatch.api._auth.PERMISSIONS`) and scores
pass through the API's :class:`~tonewatch.api.Viewer`, so a page never shows a role more
than the matching endpoint would return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tonewatch.api._auth import PERMISSIONS
from tonewatch.api._keys import ROLES
from tonewatch.api._visibility import Viewer

from ._session import SESSION_COOKIE, read_session

if TYPE_CHECKING:
    from tonewatch.api._auth import Principal
    from tonewatch.api._services import Services

__all__ = ["NAV", "AccessDenied", "NavItem", "Visitor", "home_for", "identify", "may"]


@dataclass(frozen=True, slots=True)
class NavItem:
    path: str
    title: str
    permission: str


# The pages, in menu order, with the API permission whose data each one shows.
NAV: tuple[NavItem, ...] = (
    NavItem("/", "Overview", "aggregates.read"),
    NavItem("/at-risk", "At-risk customers", "customers.read"),
    NavItem("/review", "Review queue", "review.read"),
    NavItem("/rules", "Rules", "rules.read"),
    NavItem("/model", "Model health", "aggregates.read"),
    NavItem("/reports/monthly", "Monthly report", "aggregates.read"),
)


def may(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def home_for(role: str) -> str:
    """The first page a role may open (agents land on the review queue)."""
    return next((item.path for item in NAV if may(role, item.permission)), "/login")


class AccessDenied(Exception):
    """A request the dashboard refuses: 401 (bad bearer key) or 403 (role)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Visitor:
    """The person or script behind a request, as the visibility policy sees them."""

    key_id: str
    role: str
    name: str | None
    viewer: Viewer
    via: Literal["session", "bearer"]
    csrf: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names them: the same form the API uses."""
        return self.principal.actor

    @property
    def principal(self) -> Principal:
        from tonewatch.api._auth import Principal

        return Principal(self.key_id, self.role, self.name)

    def may(self, permission: str) -> bool:
        return may(self.role, permission)

    def require(self, permission: str) -> None:
        if not self.may(permission):
            raise AccessDenied(403, f"the {self.role} role cannot open this page")

    @property
    def nav(self) -> list[NavItem]:
        return [item for item in NAV if self.may(item.permission)]

    @property
    def home(self) -> str:
        return home_for(self.role)


def _key_active(services: Services, key_id: str, role: str) -> bool:
    from tonewatch.api._models import ApiKeyRow

    with services.store.session(readonly=True) as session:
        row = session.get(ApiKeyRow, key_id)
        return row is not None and row.revoked_at is None and row.role == role


async def identify(request: Request, services: Services) -> Visitor | None:
    """The visitor, None when nobody is signed in; a bad bearer key is refused outright."""
    settings = services.settings
    header = request.headers.get("authorization")
    if header:
        scheme, _, credential = header.partition(" ")
        key = credential.strip()
        if scheme.lower() != "bearer" or not key:
            raise AccessDenied(401, "use the Bearer scheme: Authorization: Bearer <key>")
        info = services.cached_key(key) or await run_in_threadpool(services.verify_key, key)
        if info is None:
            raise AccessDenied(401, "unknown or revoked API key")
        if services.limiter.acquire(info.id) > 0:
            raise AccessDenied(429, "rate limit exceeded for this key; try again shortly")
        return Visitor(info.id, info.role, info.name, Viewer.for_role(info.role, settings), "bearer")
    data = read_session(request.cookies.get(SESSION_COOKIE), settings.secret_key)
    if data is None or data.role not in ROLES:
        return None
    if not await run_in_threadpool(_key_active, services, data.key_id, data.role):
        return None
    return Visitor(data.key_id, data.role, data.name, Viewer.for_role(data.role, settings), "session", data.csrf)
