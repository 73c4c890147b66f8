"""``POST /v1/events``: one event or a batch into the ingest pipeline, with a result per item.

A batch is never all-or-nothing: invalid events are reported with their index, code and
field while the others are stored (the pipeline is idempotent by ``event_id``, so a client
may simply resend a whole batch after fixing the rejected items). A single event that is
rejected answers 422 with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from tonewatch._errors import EventValidationError, InputError
from tonewatch.api._deps import Ingester, ServicesDep
from tonewatch.api._problems import ApiError, responses
from tonewatch.api._services import Services

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["customers"])

_EXAMPLE = {
    "kind": "message",
    "event_id": "m-1001",
    "customer_id": "c-42",
    "timestamp": "2026-11-20T09:30:00Z",
    "channel": "email",
    "text": "Third time asking: my invoice is still wrong.",
    "ticket_id": "t-7",
}


class EventResult(BaseModel):
    index: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    code: str | None = None
    reason: str | None = None
    field: str | None = None


class IngestOut(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    customers_updated: int
    results: list[EventResult]


def _event_id(item: Any) -> str | None:
    if isinstance(item, dict):
        value = item.get("event_id")
        return value if isinstance(value, str) else None
    return None


def _ingest(services: Services, items: list[Any]) -> dict[str, Any]:
    from tonewatch.ingest import CustomerEvent, customer_event_id, parse_event
    from tonewatch.store import EventRow

    ids: list[str | None] = []
    for item in items:
        eid = _event_id(item)
        if eid is None and isinstance(item, dict) and item.get("kind") == "customer":
            try:
                parsed = parse_event(item)
                eid = customer_event_id(parsed) if isinstance(parsed, CustomerEvent) else None
            except EventValidationError:
                eid = None
        ids.append(eid)
    known = {i for i in ids if i}
    with services.store.session(readonly=True) as session:
        existing = (
            set(session.scalars(select(EventRow.event_id).where(EventRow.event_id.in_(known)))) if known else set()
        )
    report = services.ingest(items)
    rejected = {r.line: r for r in report.rejected if r.line is not None}
    seen: set[str] = set(existing)
    results: list[dict[str, Any]] = []
    for index, eid in enumerate(ids):
        rej = rejected.get(index + 1)
        if rej is not None:
            results.append(
                {
                    "index": index,
                    "event_id": eid,
                    "status": "rejected",
                    "code": rej.code,
                    "reason": rej.reason,
                    "field": rej.field,
                }
            )
            continue
        status = "duplicate" if eid is not None and eid in seen else "accepted"
        if eid is not None:
            seen.add(eid)
        results.append({"index": index, "event_id": eid, "status": status})
    for outcome in ("accepted", "duplicate", "rejected"):
        services.metrics.events.labels(outcome).inc(sum(1 for r in results if r["status"] == outcome))
    return {
        "accepted": report.accepted,
        "duplicate": report.duplicate,
        "rejected": len(report.rejected),
        "customers_updated": report.customers,
        "results": results,
    }


@router.post(
    "/events",
    response_model=IngestOut,
    summary="Ingest one event or a batch",
    responses=responses(400, 401, 403, 413, 415, 422, 429, 503),
)
async def post_events(
    caller: Ingester,
    services: ServicesDep,
    body: Annotated[
        dict[str, Any] | list[Any],
        Body(
            description='One v1 event object, `{"events": [...]}`, or a JSON array of events (see docs/events.md)',
            examples=[_EXAMPLE, {"events": [_EXAMPLE]}],
        ),
    ],
) -> Any:
    """Validate, mask, score and store events; customers' health and the rules update in the same transaction."""
    single = isinstance(body, dict) and "events" not in body
    if isinstance(body, list):
        items: list[Any] = body
    elif single:
        items = [body]
    else:
        wrapped = body.get("events")
        if not isinstance(wrapped, list):
            raise InputError("`events` must be an array of events", code="invalid_type", field="events")
        items = wrapped
    if not items:
        raise InputError("no events in the request", code="empty_batch", field="events")
    if len(items) > services.settings.max_batch:
        raise ApiError(
            413,
            "batch_too_large",
            f"{len(items)} events; the batch limit is {services.settings.max_batch}",
            field="events",
        )
    out = await run_in_threadpool(_ingest, services, items)
    if single and out["results"][0]["status"] == "rejected":
        r = out["results"][0]
        if r["code"] == "text_too_long":
            raise ApiError(413, r["code"], r["reason"] or "text too long", field=r["field"])
        raise EventValidationError(r["reason"] or "invalid event", field=r["field"], code=r["code"])
    return out
