"""API keys: creation (printed once), verification, listing and revocation.

A key reads ``tw_<id>_<secret>``. The ``id`` finds the row without scanning; only a salted
sha256 of the whole key is stored, and comparisons are constant-time. Keys are random
256-bit secrets, so a slow password hash would add latency to every request for no gain.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch._errors import InputError, NotFoundError

from ._models import ApiKeyRow

__all__ = [
    "ROLES",
    "ApiKeyInfo",
    "NewApiKey",
    "Role",
    "create_key",
    "key_id_of",
    "list_keys",
    "revoke_key",
    "verify_key",
]

Role = Literal["agent", "lead", "qa", "analyst", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
_PREFIX = "tw"


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """What the server knows about a key, minus its secret."""

    id: str
    role: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKeyInfo:
        return cls(row.id, row.role, row.name, row.created_at, row.revoked_at)


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly created key; ``key`` is shown once and never stored."""

    info: ApiKeyInfo
    key: str


def _digest(salt: str, key: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + key.encode("utf-8")).hexdigest()


def create_key(session: Session, role: str, *, name: str | None = None) -> NewApiKey:
    """Insert a new key with ``role``; the caller shows ``NewApiKey.key`` once."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}", code="invalid_role", field="role")
    key_id = secrets.token_hex(6)
    key = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    salt = secrets.token_hex(16)
    row = ApiKeyRow(
        id=key_id,
        role=role,
        name=name,
        salt=salt,
        key_hash=_digest(salt, key),
        created_at=datetime.now(UTC),
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return NewApiKey(ApiKeyInfo.from_row(row), key)


def key_id_of(key: str) -> str | None:
    """The public id inside a key, or None when it is not shaped like one of ours."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


def verify_key(session: Session, key: str) -> ApiKeyInfo | None:
    """The key's info when it exists, matches and is not revoked; None otherwise."""
    key_id = key_id_of(key)
    if key_id is None or len(key_id) > 32:
        return None
    row = session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _digest(row.salt, key)):
        return None
    return ApiKeyInfo.from_row(row)


def list_keys(session: Session) -> list[ApiKeyInfo]:
    rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))
    return [ApiKeyInfo.from_row(r) for r in rows]


def revoke_key(session: Session, key_id: str) -> ApiKeyInfo:
    """Mark a key revoked (kept for the audit trail); unknown ids are a NotFoundError."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFoundError(f"no API key {key_id!r}", code="key_not_found", field="key_id")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    return ApiKeyInfo.from_row(row)
