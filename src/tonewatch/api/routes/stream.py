"""``GET /v1/stream-sentiment``: Server-Sent Events of analyses, flags and review items as they happen.

SSE rather than WebSocket: it is one-way, works through proxies and with ``curl -N``, and
browsers reconnect on their own. Each subscriber's items pass through its own
:class:`~tonewatch.api.Viewer`, so an agent's stream carries what an agent may see.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from tonewatch.api._broadcast import StreamEvent, Subscription
from tonewatch.api._deps import ServicesDep, StreamReader, ViewerDep
from tonewatch.api._problems import responses
from tonewatch.api._services import Services
from tonewatch.api._visibility import Viewer

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["sentiment"])

EventType = Literal["analysis", "flag", "review"]


def _redact(event: StreamEvent, viewer: Viewer) -> dict[str, Any]:
    data = dict(event.data)
    if event.type == "analysis":
        data["analysis"] = viewer.analysis(data["analysis"])
    elif event.type == "flag":
        health = data.get("health")
        centred = (float(health) - 50.0) / 50.0 if isinstance(health, int | float) else None
        data = viewer.summary(data, score=centred)
    return data


def _frame(event: StreamEvent, viewer: Viewer) -> str:
    body = json.dumps(_redact(event, viewer), ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {event.id}\nevent: {event.type}\ndata: {body}\n\n"


async def _events(
    services: Services,
    sub: Subscription,
    viewer: Viewer,
    *,
    limit: int | None,
    heartbeat: float,
) -> AsyncIterator[str]:
    services.metrics.stream_clients.inc()
    try:
        yield ": connected\nretry: 3000\n\n"
        sent = 0
        while limit is None or sent < limit:
            event = await sub.get(heartbeat)
            if event is None:
                yield ": keep-alive\n\n"
                continue
            if sub.dropped:
                yield f"event: dropped\ndata: {json.dumps({'dropped': sub.dropped})}\n\n"
                sub.dropped = 0
            yield _frame(event, viewer)
            sent += 1
    finally:
        services.broadcaster.unsubscribe(sub)
        services.metrics.stream_clients.dec()


@router.get(
    "/stream-sentiment",
    summary="Live analyses and flags (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`event: analysis|flag|review` frames whose `data` is JSON",
        },
        **responses(401, 403, 422, 429),
    },
)
async def stream_sentiment(
    caller: StreamReader,
    viewer: ViewerDep,
    services: ServicesDep,
    customer_id: Annotated[list[str] | None, Query(max_length=100, description="Only these customers")] = None,
    channel: Annotated[list[str] | None, Query(max_length=10, description="Only these channels")] = None,
    types: Annotated[list[EventType] | None, Query(description="Only these event types")] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="Close after this many events")] = None,
    heartbeat: Annotated[float, Query(ge=0.05, le=300, description="Seconds between keep-alive comments")] = 15.0,
) -> StreamingResponse:
    """Events ingested through this server, as they are committed; filter by customer, channel or type."""
    sub = services.broadcaster.subscribe(customer_ids=customer_id, channels=channel, types=types)
    return StreamingResponse(
        _events(services, sub, viewer, limit=limit, heartbeat=heartbeat),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
