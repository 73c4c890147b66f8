"""``GET /v1/audit``: the hash-chained log of what tonewatch and people decided and did.

Pages by ``after_seq`` (the chain's own order, stable under concurrent appends). Entry
details are free-form, so score-like keys in them are hidden from callers the visibility
policy keeps from scores; ``/v1/audit/verify`` re-checks the whole chain.
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tonewatch._errors import AuditIntegrityError
from tonewatch.api._deps import AuditReader, ServicesDep, ViewerDep
from tonewatch.api._problems import ErrorDetail, responses
from tonewatch.api._types import IsoDateTime
from tonewatch.audit import AuditLog

__all__ = ["router"]

router = APIRouter(prefix="/v1/audit", tags=["proactive"])


class AuditEntryOut(BaseModel):
    seq: int
    ts: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    next_after_seq: int | None


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    error: ErrorDetail | None = None


@router.get(
    "", response_model=AuditPageOut, summary="Audit entries in chain order", responses=responses(401, 403, 422, 429)
)
def list_audit(
    caller: AuditReader,
    viewer: ViewerDep,
    services: ServicesDep,
    after_seq: Annotated[int, Query(ge=0, le=2**62, description="Entries after this sequence number")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[str | None, Query(min_length=1, max_length=100, description="e.g. review.approved")] = None,
    subject: Annotated[str | None, Query(min_length=1, max_length=1000, description="e.g. customer:c-42")] = None,
    since: IsoDateTime | None = None,
) -> Any:
    with services.store.session(readonly=True) as session:
        log = AuditLog(session)
        entries = list(
            islice(log.iter_entries(subject=subject, action=action, since=since, after_seq=after_seq), limit + 1)
        )
    more = len(entries) > limit
    entries = entries[:limit]
    out = []
    for e in entries:
        d = e.to_dict()
        d["details"] = viewer.scrub(d["details"])
        out.append(d)
    return {"entries": out, "next_after_seq": entries[-1].seq if more and entries else None}


@router.get("/verify", response_model=VerifyOut, summary="Verify the hash chain", responses=responses(401, 403, 429))
def verify_audit(caller: AuditReader, services: ServicesDep) -> Any:
    """`ok: false` names the first entry at fault (altered, deleted, reordered or cut from the end)."""
    with services.store.session(readonly=True) as session:
        log = AuditLog(session)
        try:
            n = log.verify()
        except AuditIntegrityError as exc:
            return {"ok": False, "entries": log.count(), "error": exc.to_dict()}
    return {"ok": True, "entries": n, "error": None}
