"""``/v1/review-queue``: proposed actions waiting for a person, and the person's decisions.

Thin over :class:`tonewatch.review.ReviewQueue`, which validates every transition and
audits it; the API adds the caller's identity, the visibility policy on the evidence,
and a ``review.decision`` webhook written in the same transaction as the decision.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tonewatch._errors import InputError, NotFoundError
from tonewatch.api._deps import ReviewActor, ReviewCreator, ReviewReader, ServicesDep, ViewerDep
from tonewatch.api._hooks import review_announcement
from tonewatch.api._problems import responses
from tonewatch.api._services import Services
from tonewatch.api._types import IsoDateTime
from tonewatch.api._visibility import Viewer, redact_review_item
from tonewatch.api._webhooks import enqueue

__all__ = ["router"]

router = APIRouter(prefix="/v1/review-queue", tags=["proactive"])

_MAX_ID = 2**62
StatusFilter = Literal["pending", "approved", "edited", "sent", "rejected", "snoozed", "decided", "open", "all"]
ItemId = Annotated[int, Path(ge=1, le=_MAX_ID, description="Review item id")]
_Text = Annotated[str, Field(min_length=1, max_length=20_000)]
_Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class ReviewItemOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    customer_id: str
    rule: str | None
    tier: str
    action: str
    status: str
    priority: int
    priority_name: str
    due: datetime
    overdue: bool
    created_at: datetime
    route_reason: str
    summary: str
    recommendation: str | None
    evidence: dict[str, Any]
    draft: str | None
    draft_source: str | None
    final_text: str | None
    decision: str | None
    reason: str | None
    snoozed_until: datetime | None
    decided_by: str | None


class ReviewItemIn(BaseModel):
    """A person (lead, QA, admin) queues an action by hand, e.g. after reading a customer's timeline."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=200)
    action: Literal[
        "check_in",
        "notify_account_manager",
        "acknowledge",
        "retention_offer",
        "discount",
        "executive_escalation",
        "tag",
        "set_priority",
        "alert",
    ]
    priority: Literal["urgent", "high", "normal", "low"] = "normal"
    summary: str = Field(default="", max_length=5000)
    recommendation: str | None = Field(default=None, max_length=5000)
    draft: str | None = Field(default=None, max_length=20_000)
    params: dict[str, Any] = Field(default_factory=dict)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: _Reason | None = None


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: _Text = Field(description="The message as it should be sent")
    reason: _Reason | None = None


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: _Reason = Field(description="Why (required: it is how the playbook gets better)")


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: IsoDateTime | None = Field(default=None, description="When the item comes back (UTC if no offset)")
    hours: float | None = Field(default=None, gt=0, le=24 * 365, description="Or: this many hours from now")
    reason: _Reason | None = None

    @model_validator(mode="after")
    def _one(self) -> SnoozeIn:
        if (self.until is None) == (self.hours is None):
            raise ValueError("give exactly one of `until` or `hours`")
        return self


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: _Text = Field(description="What was decided (human-tier items)")
    reason: _Reason | None = None
    message: str | None = Field(default=None, max_length=20_000, description="Words to send to the customer")


def _queue(session: Session, services: Services) -> Any:
    from tonewatch.review import ReviewQueue

    return ReviewQueue(session, services.settings)


def _present(item: Any, viewer: Viewer) -> dict[str, Any]:
    return redact_review_item(viewer, item.to_dict(), item.action)


@router.get(
    "",
    response_model=list[ReviewItemOut],
    summary="List review items (overdue first)",
    responses=responses(401, 403, 422, 429),
)
def list_items(
    caller: ReviewReader,
    viewer: ViewerDep,
    services: ServicesDep,
    item_status: Annotated[StatusFilter, Query(alias="status")] = "open",
    customer_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    rule: Annotated[str | None, Query(min_length=1, max_length=80)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Open items by default (pending and snoozed); `status=all` for everything."""
    wanted: str | list[str] | None = None if item_status == "open" else item_status
    with services.store.session(readonly=True) as session:
        items = _queue(session, services).list(
            status=wanted, customer_id=customer_id, rule_id=rule, overdue=overdue, limit=limit
        )
        return [_present(i, viewer) for i in items]


@router.post(
    "",
    response_model=ReviewItemOut,
    status_code=status.HTTP_201_CREATED,
    summary="Queue an action by hand",
    responses=responses(400, 401, 403, 404, 413, 415, 422, 429),
)
def create_item(body: ReviewItemIn, caller: ReviewCreator, viewer: ViewerDep, services: ServicesDep) -> Any:
    from tonewatch.act import PRIORITIES, effective_tier
    from tonewatch.store import Customer

    with services.store.session() as session:
        if session.get(Customer, body.customer_id) is None:
            raise NotFoundError(f"no customer {body.customer_id!r}", code="unknown_customer", field="customer_id")
        item = _queue(session, services).create(
            customer_id=body.customer_id,
            action=body.action,
            tier=effective_tier(body.action),
            priority=PRIORITIES[body.priority],
            params=body.params,
            summary=body.summary,
            recommendation=body.recommendation,
            draft=body.draft,
            draft_source="person" if body.draft else None,
            route_reason="manual",
            actor=caller.actor,
        )
        enqueue(session, "review.created", review_announcement(item))
        out = _present(item, viewer)
    services.webhooks.wake()
    return out


@router.get(
    "/{item_id}", response_model=ReviewItemOut, summary="One review item", responses=responses(401, 403, 404, 429)
)
def get_item(item_id: ItemId, caller: ReviewReader, viewer: ViewerDep, services: ServicesDep) -> Any:
    with services.store.session(readonly=True) as session:
        return _present(_queue(session, services).get(item_id), viewer)


def _transition(services: Services, viewer: Viewer, verb: str, item_id: int, **kwargs: Any) -> dict[str, Any]:
    with services.store.session() as session:
        queue = _queue(session, services)
        item = getattr(queue, verb)(item_id, **kwargs)
        enqueue(session, "review.decision", {**review_announcement(item), "verb": verb})
        return _present(item, viewer)


async def _act(services: Services, viewer: Viewer, verb: str, item_id: int, **kwargs: Any) -> Any:
    out = await run_in_threadpool(_transition, services, viewer, verb, item_id, **kwargs)
    services.webhooks.wake()
    return out


_ACTION_ERRORS = responses(400, 401, 403, 404, 409, 413, 415, 422, 429)


@router.post(
    "/{item_id}/approve", response_model=ReviewItemOut, summary="Approve as proposed", responses=_ACTION_ERRORS
)
async def approve(
    item_id: ItemId, caller: ReviewActor, viewer: ViewerDep, services: ServicesDep, body: ReasonIn | None = None
) -> Any:
    """Approve-tier items only; an outreach message is sent at once with the approver's name on it."""
    return await _act(services, viewer, "approve", item_id, actor=caller.actor, reason=body.reason if body else None)


@router.post(
    "/{item_id}/edit", response_model=ReviewItemOut, summary="Edit the draft and send it", responses=_ACTION_ERRORS
)
async def edit(item_id: ItemId, body: EditIn, caller: ReviewActor, viewer: ViewerDep, services: ServicesDep) -> Any:
    return await _act(services, viewer, "edit", item_id, text=body.text, actor=caller.actor, reason=body.reason)


@router.post(
    "/{item_id}/reject", response_model=ReviewItemOut, summary="Reject with a reason", responses=_ACTION_ERRORS
)
async def reject(item_id: ItemId, body: RejectIn, caller: ReviewActor, viewer: ViewerDep, services: ServicesDep) -> Any:
    return await _act(services, viewer, "reject", item_id, actor=caller.actor, reason=body.reason)


@router.post("/{item_id}/snooze", response_model=ReviewItemOut, summary="Put off until later", responses=_ACTION_ERRORS)
async def snooze(item_id: ItemId, body: SnoozeIn, caller: ReviewActor, viewer: ViewerDep, services: ServicesDep) -> Any:
    if body.until is not None:
        until = body.until if body.until.tzinfo else body.until.replace(tzinfo=UTC)
    else:
        assert body.hours is not None
        until = datetime.now(UTC) + timedelta(hours=body.hours)
    try:
        until = until.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise InputError("`until` is out of range", field="until") from exc
    return await _act(services, viewer, "snooze", item_id, actor=caller.actor, until=until, reason=body.reason)


@router.post(
    "/{item_id}/decide", response_model=ReviewItemOut, summary="Record a human-tier decision", responses=_ACTION_ERRORS
)
async def decide(item_id: ItemId, body: DecideIn, caller: ReviewActor, viewer: ViewerDep, services: ServicesDep) -> Any:
    return await _act(
        services,
        viewer,
        "decide",
        item_id,
        actor=caller.actor,
        decision=body.decision,
        reason=body.reason,
        message=body.message,
    )
