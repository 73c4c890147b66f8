"""``/v1/customers``: one customer's timeline, trajectory, signals and health; lists by band.

Everything comes from the store as the pipeline left it (the persisted report is the one
``tonewatch health`` prints). Scores pass through the caller's :class:`Viewer`: message
analyses per message (its ticket closed or not), health and trajectory per customer (an
open ticket means a conversation in progress).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch._errors import NotFoundError, PermissionDeniedError
from tonewatch.api._deps import CustomerReader, ServicesDep, ViewerDep
from tonewatch.api._lookup import CLOSED_STATUSES, closed_tickets, has_open_ticket
from tonewatch.api._problems import responses
from tonewatch.api._schemas import AnalysisOut, HealthOut
from tonewatch.api._visibility import Viewer

__all__ = ["router"]

router = APIRouter(prefix="/v1/customers", tags=["customers"])

Band = Literal["healthy", "watch", "at-risk", "critical"]
CustomerId = Annotated[str, Path(min_length=1, max_length=200, description="The customer's id")]


class TimelineItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: str
    event_id: str
    timestamp: datetime
    channel: str | None = None
    author: str | None = None
    ticket_id: str | None = None
    text: str | None = None
    category: str | None = None
    analysis: AnalysisOut | None = None


class SnapshotOut(BaseModel):
    day: str
    health: float | None
    band: str | None
    level: float | None
    declining: bool | None


class TrajectoryOut(BaseModel):
    trend: dict[str, Any] | None
    daily: list[SnapshotOut]
    redacted: str | None = None


class CustomerOut(BaseModel):
    customer_id: str
    attributes: dict[str, Any]
    last_event_at: datetime | None
    open_tickets: int
    health: HealthOut | None
    trajectory: TrajectoryOut
    signals: dict[str, Any] | None
    timeline: list[TimelineItem]


class CustomerSummary(BaseModel):
    customer_id: str
    last_event_at: datetime | None
    health: HealthOut | None


class CustomerListOut(BaseModel):
    items: list[CustomerSummary]
    next_offset: int | None


def _customer_or_404(session: Session, customer_id: str) -> Any:
    from tonewatch.store import Customer

    row = session.get(Customer, customer_id)
    if row is None or row.erased_at is not None:
        raise NotFoundError(f"no customer {customer_id!r}", code="unknown_customer", field="customer_id")
    return row


def _timeline(session: Session, customer_id: str, viewer: Viewer, limit: int) -> list[dict[str, Any]]:
    from tonewatch.store import EventRow, Message, Survey

    events = session.scalars(
        select(EventRow)
        .where(EventRow.customer_id == customer_id)
        .order_by(EventRow.timestamp.desc(), EventRow.event_id.desc())
        .limit(limit)
    ).all()
    ids = [e.event_id for e in events]
    messages = {m.event_id: m for m in session.scalars(select(Message).where(Message.event_id.in_(ids)))}
    surveys = {s.event_id: s for s in session.scalars(select(Survey).where(Survey.event_id.in_(ids)))}
    closed = closed_tickets(session, [m.ticket_id for m in messages.values()])
    out: list[dict[str, Any]] = []
    for e in events:
        item: dict[str, Any] = {"kind": e.kind, "event_id": e.event_id, "timestamp": e.timestamp}
        payload = e.payload or {}
        if e.kind == "message" and e.event_id in messages:
            m = messages[e.event_id]
            item.update(
                channel=m.channel,
                author=m.author,
                ticket_id=m.ticket_id,
                text=m.text,
                category=m.category,
                analysis=None
                if m.analysis is None
                else viewer.analysis(m.analysis, closed=m.ticket_id in closed if m.ticket_id else None),
            )
        elif e.kind == "survey" and e.event_id in surveys:
            s = surveys[e.event_id]
            hidden = viewer.hidden_reason(score=s.comment_score) if s.comment_score is not None else None
            item.update(
                survey=s.survey,
                rating=s.score,
                scale=s.scale,
                comment=s.comment,
                comment_sentiment=None
                if hidden or s.comment_label is None
                else {"label": s.comment_label, "score": s.comment_score},
            )
        elif e.kind == "ticket":
            item.update(
                ticket_id=payload.get("ticket_id"), status=payload.get("status"), category=payload.get("category")
            )
        elif e.kind == "usage":
            item.update(metric=payload.get("metric"), value=payload.get("value"))
        elif e.kind == "outcome":
            item.update(outcome=payload.get("outcome"))
        elif e.kind == "customer":
            item.update(attributes=payload.get("attributes"))
        out.append(item)
    return out


@router.get(
    "/{customer_id}",
    response_model=CustomerOut,
    summary="A customer: timeline, trajectory, signals and health with its factors",
    responses=responses(401, 403, 404, 422, 429),
)
def get_customer(
    customer_id: CustomerId,
    caller: CustomerReader,
    viewer: ViewerDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Timeline events, newest first")] = 100,
) -> Any:
    from tonewatch.store import HealthSnapshot, Ticket

    with services.store.session(readonly=True) as session:
        row = _customer_or_404(session, customer_id)
        open_tickets = len(
            session.scalars(
                select(Ticket.ticket_id).where(Ticket.customer_id == customer_id, Ticket.status.not_in(CLOSED_STATUSES))
            ).all()
        )
        report = dict(row.report or {})
        health = None
        if report:
            report.setdefault("customer_id", customer_id)
            report["as_of"] = row.as_of
            health = viewer.health(report, closed=open_tickets == 0)
        hidden = health["redacted"] if health is not None else None
        snaps = session.scalars(
            select(HealthSnapshot)
            .where(HealthSnapshot.customer_id == customer_id)
            .order_by(HealthSnapshot.day.desc())
            .limit(90)
        ).all()
        daily = [
            {"day": s.day, "health": s.health, "band": s.band, "level": s.level, "declining": s.declining}
            for s in reversed(snaps)
        ]
        if hidden is not None:
            daily = [{"day": d["day"], "health": None, "band": None, "level": None, "declining": None} for d in daily]
        return {
            "customer_id": customer_id,
            "attributes": dict(row.attributes or {}),
            "last_event_at": row.last_event_at,
            "open_tickets": open_tickets,
            "health": health,
            "trajectory": {
                "trend": None if hidden is not None else report.get("trend"),
                "daily": daily,
                "redacted": hidden,
            },
            "signals": None if hidden is not None else report.get("signals"),
            "timeline": _timeline(session, customer_id, viewer, limit),
        }


@router.get(
    "",
    response_model=CustomerListOut,
    summary="Customers, most at risk first (filter by band)",
    responses=responses(401, 403, 422, 429),
)
def list_customers(
    caller: CustomerReader,
    viewer: ViewerDep,
    services: ServicesDep,
    band: Annotated[Band | None, Query(description="Only customers in this health band")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    """Sorted by health (lowest first) for callers who may see health; by id otherwise (order would leak it)."""
    from tonewatch.store import Customer

    never = viewer.hidden_reason(score=1.0, closed=True) is not None
    if band is not None and never:
        raise PermissionDeniedError(
            f"the {viewer.policy} visibility policy hides customers' health from this key, so it cannot filter by band",
            code="visibility_policy",
            field="band",
        )
    with services.store.session(readonly=True) as session:
        q = select(Customer).where(Customer.erased_at.is_(None))
        if band is not None:
            q = q.where(Customer.band == band)
        if viewer.sees_everything:
            q = q.order_by(Customer.health.is_(None), Customer.health, Customer.id)
        else:
            q = q.order_by(Customer.id)
        rows = session.scalars(q.offset(offset).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = []
        for row in rows:
            report = dict(row.report or {})
            health = None
            if report:
                report.setdefault("customer_id", row.id)
                report["as_of"] = row.as_of
                closed = True if viewer.policy != "post_conversation" else not has_open_ticket(session, row.id)
                health = viewer.health(report, closed=closed)
                if band is not None and health["redacted"] is not None:
                    continue  # a hidden score must not be revealed by membership in a band
            items.append({"customer_id": row.id, "last_event_at": row.last_event_at, "health": health})
        return {"items": items, "next_offset": offset + limit if more else None}
