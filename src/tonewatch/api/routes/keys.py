"""``/v1/keys``: admins create, list and revoke API keys over HTTP (as ``tonewatch keys`` does)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field

from tonewatch.api._deps import KeyManager, ServicesDep
from tonewatch.api._keys import ApiKeyInfo, Role, create_key, list_keys, revoke_key
from tonewatch.api._problems import responses
from tonewatch.audit import AuditLog

__all__ = ["router"]

router = APIRouter(prefix="/v1/keys", tags=["admin"])


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    name: str | None = Field(default=None, max_length=200)


class KeyOut(BaseModel):
    id: str
    role: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself; shown once, only its hash is stored")


def _out(info: ApiKeyInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "role": info.role,
        "name": info.name,
        "created_at": info.created_at,
        "revoked_at": info.revoked_at,
    }


@router.post(
    "",
    response_model=NewKeyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a key",
    responses=responses(400, 401, 403, 413, 415, 422, 429),
)
def create(body: KeyIn, caller: KeyManager, services: ServicesDep) -> Any:
    with services.store.session() as session:
        new = create_key(session, body.role, name=body.name)
        AuditLog(session).record(caller.actor, "api_key.create", f"api_key:{new.info.id}", {"role": body.role})
    return {**_out(new.info), "key": new.key}


@router.get(
    "", response_model=list[KeyOut], summary="List keys (never the secrets)", responses=responses(401, 403, 429)
)
def list_all(caller: KeyManager, services: ServicesDep) -> Any:
    with services.store.session(readonly=True) as session:
        return [_out(i) for i in list_keys(session)]


@router.delete(
    "/{key_id}",
    response_model=KeyOut,
    summary="Revoke a key",
    responses=responses(401, 403, 404, 429),
)
def revoke(key_id: Annotated[str, Path(min_length=1, max_length=32)], caller: KeyManager, services: ServicesDep) -> Any:
    with services.store.session() as session:
        info = revoke_key(session, key_id)
        AuditLog(session).record(caller.actor, "api_key.revoke", f"api_key:{key_id}", {"role": info.role})
    services.forget_key(key_id)
    return _out(info)
