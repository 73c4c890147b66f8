"""``/v1/webhooks``: subscriptions, the delivery log, dead letters and manual redelivery (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from tonewatch._errors import InvalidTransitionError, NotFoundError
from tonewatch.api._deps import ServicesDep, WebhookManager
from tonewatch.api._models import WebhookDeliveryRow, WebhookSubscriptionRow
from tonewatch.api._problems import responses
from tonewatch.api._services import Services
from tonewatch.api._webhooks import EVENT_TYPES, create_subscription, enqueue, redeliver
from tonewatch.audit import AuditLog

__all__ = ["router"]

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

EventType = Literal["flag", "review.created", "review.decision", "drift.alert", "ping"]
_MAX_ID = 2**62


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http(s) URL that receives POSTed JSON")
    event_types: list[EventType] = Field(default_factory=list, description="Empty means every type")
    description: str | None = Field(default=None, max_length=200)


class SubscriptionOut(BaseModel):
    id: int
    url: str
    event_types: list[str]
    active: bool
    description: str | None
    created_at: datetime
    created_by: str


class NewSubscriptionOut(SubscriptionOut):
    secret: str = Field(description="Signing secret; shown once")


class DeliveryOut(BaseModel):
    id: int
    subscription_id: int
    event_type: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


def _sub(row: WebhookSubscriptionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "event_types": list(row.event_types or EVENT_TYPES),
        "active": row.active,
        "description": row.description,
        "created_at": row.created_at,
        "created_by": row.created_by,
    }


def _delivery(row: WebhookDeliveryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "subscription_id": row.subscription_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "delivered_at": row.delivered_at,
        "payload": row.payload,
    }


@router.post(
    "",
    response_model=NewSubscriptionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe a receiver",
    responses=responses(400, 401, 403, 413, 415, 422, 429),
)
def create_webhook(body: SubscriptionIn, caller: WebhookManager, services: ServicesDep) -> Any:
    """Returns the signing secret once: receivers verify `X-Tonewatch-Signature` with it."""
    with services.store.session() as session:
        row, secret = create_subscription(
            session, body.url, list(body.event_types), actor=caller.actor, description=body.description
        )
        AuditLog(session).record(
            caller.actor, "webhook.subscribe", f"webhook:{row.id}", {"event_types": row.event_types}
        )
        return {**_sub(row), "secret": secret}


@router.get("", response_model=list[SubscriptionOut], summary="List subscriptions", responses=responses(401, 403, 429))
def list_webhooks(caller: WebhookManager, services: ServicesDep) -> Any:
    with services.store.session(readonly=True) as session:
        rows = session.scalars(select(WebhookSubscriptionRow).order_by(WebhookSubscriptionRow.id)).all()
        return [_sub(r) for r in rows]


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a subscription (and its pending deliveries)",
    responses=responses(401, 403, 404, 429),
)
def delete_webhook(
    subscription_id: Annotated[int, Path(ge=1, le=_MAX_ID)], caller: WebhookManager, services: ServicesDep
) -> None:
    with services.store.session() as session:
        row = session.get(WebhookSubscriptionRow, subscription_id)
        if row is None:
            raise NotFoundError(f"no webhook subscription {subscription_id}", field="subscription_id")
        session.delete(row)
        AuditLog(session).record(caller.actor, "webhook.unsubscribe", f"webhook:{subscription_id}", {})


def _ping(services: Services, subscription_id: int, actor: str) -> int:
    with services.store.session() as session:
        row = session.get(WebhookSubscriptionRow, subscription_id)
        if row is None:
            raise NotFoundError(f"no webhook subscription {subscription_id}", field="subscription_id")
        ids = enqueue(
            session, "ping", {"subscription_id": subscription_id, "requested_by": actor}, subscription_id=row.id
        )
        if not ids:
            raise InvalidTransitionError("the subscription is inactive", field="subscription_id")
        return ids[0]


@router.post(
    "/{subscription_id}/ping",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a test delivery",
    responses=responses(401, 403, 404, 409, 429),
)
async def ping_webhook(
    subscription_id: Annotated[int, Path(ge=1, le=_MAX_ID)], caller: WebhookManager, services: ServicesDep
) -> Any:
    delivery_id = await run_in_threadpool(_ping, services, subscription_id, caller.actor)
    services.webhooks.wake()
    return await run_in_threadpool(_get_delivery, services, delivery_id)


def _get_delivery(services: Services, delivery_id: int) -> dict[str, Any]:
    with services.store.session(readonly=True) as session:
        row = session.get(WebhookDeliveryRow, delivery_id)
        if row is None:
            raise NotFoundError(f"no webhook delivery {delivery_id}", field="delivery_id")
        return _delivery(row)


@router.get(
    "/deliveries",
    response_model=list[DeliveryOut],
    summary="Delivery log (status=dead lists the dead letters)",
    responses=responses(401, 403, 422, 429),
)
def list_deliveries(
    caller: WebhookManager,
    services: ServicesDep,
    delivery_status: Annotated[Literal["pending", "delivered", "dead"] | None, Query(alias="status")] = None,
    subscription_id: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    with services.store.session(readonly=True) as session:
        q = select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id.desc()).limit(limit)
        if delivery_status is not None:
            q = q.where(WebhookDeliveryRow.status == delivery_status)
        if subscription_id is not None:
            q = q.where(WebhookDeliveryRow.subscription_id == subscription_id)
        return [_delivery(r) for r in session.scalars(q)]


def _redeliver(services: Services, delivery_id: int, actor: str) -> dict[str, Any]:
    with services.store.session() as session:
        row = redeliver(session, delivery_id)
        AuditLog(session).record(actor, "webhook.redeliver", f"webhook_delivery:{delivery_id}", {})
        return _delivery(row)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a dead (or delivered) delivery again",
    responses=responses(401, 403, 404, 409, 429),
)
async def redeliver_delivery(
    delivery_id: Annotated[int, Path(ge=1, le=_MAX_ID)], caller: WebhookManager, services: ServicesDep
) -> Any:
    out = await run_in_threadpool(_redeliver, services, delivery_id, caller.actor)
    services.webhooks.wake()
    return out
