"""Webhooks: signed JSON to subscribers, from a persisted outbox, with retries and a dead letter.

Why an outbox: the row announcing a flag or a review decision is written in the same
transaction as the change itself, so nothing is announced that did not happen and nothing
that happened is lost when a receiver (or this server) is down. A dispatcher task sends due
rows, backing off exponentially per delivery; after ``max_attempts`` failures the row is
``dead`` and waits for a person to redeliver it.

Signature (Stripe-style, so existing verification code is easy to adapt)::

    X-Tonewatch-Timestamp: 1732400000
    X-Tonewatch-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

Receivers recompute the HMAC over the raw body and refuse timestamps outside their replay
window (:func:`verify_signature` does both).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tonewatch._errors import InputError, InvalidTransitionError, NotFoundError

from ._models import WebhookDeliveryRow, WebhookSubscriptionRow

if TYPE_CHECKING:
    from tonewatch.store import Store

    from ._metrics import ApiMetrics

__all__ = [
    "EVENT_TYPES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "RetryPolicy",
    "WebhookDispatcher",
    "create_subscription",
    "enqueue",
    "envelope",
    "outbox_counts",
    "redeliver",
    "sign",
    "verify_signature",
]

EVENT_TYPES: tuple[str, ...] = ("flag", "review.created", "review.decision", "drift.alert", "ping")
SIGNATURE_HEADER = "X-Tonewatch-Signature"
TIMESTAMP_HEADER = "X-Tonewatch-Timestamp"
_log = logging.getLogger("tonewatch.api.webhooks")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """True when ``signature`` signs ``body`` at ``timestamp`` and that time is within ``tolerance``.

    The tolerance is the replay window: a captured request re-sent later is refused.
    """
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    ts = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    expected = sign(secret, ts, body)
    return any(hmac.compare_digest(expected, "v1=" + part.removeprefix("v1=")) for part in signature.split(","))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: ``base_delay * 2**(attempt-1)`` seconds between tries, capped."""

    max_attempts: int = 8
    base_delay: float = 2.0
    max_delay: float = 3600.0
    timeout: float = 5.0
    poll_interval: float = 2.0
    batch: int = 50

    def delay(self, attempts: int) -> float:
        raw = min(self.max_delay, self.base_delay * float(2 ** max(0, attempts - 1)))
        return raw * random.uniform(1.0, 1.25)  # jitter, not security


def _check_url(url: str) -> str:
    invalid = InputError("webhook url must be an absolute http(s) URL", code="invalid_url", field="url")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise invalid
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise invalid from None
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise invalid
    return url


def create_subscription(
    session: Session, url: str, event_types: list[str], *, actor: str, description: str | None = None
) -> tuple[WebhookSubscriptionRow, str]:
    """Add a subscriber; returns the row and its signing secret (shown once)."""
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise InputError(
            f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}", code="invalid_value", field="event_types"
        )
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = WebhookSubscriptionRow(
        url=_check_url(url),
        secret=secret,
        event_types=sorted(set(event_types or EVENT_TYPES)),
        active=True,
        description=description,
        created_at=datetime.now(UTC),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row, secret


def envelope(event_type: str, data: Mapping[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """What receivers get: a unique id (for de-duplication), the type, the time and the data."""
    return {
        "id": uuid.uuid4().hex,
        "type": event_type,
        "created_at": (now or datetime.now(UTC)).isoformat(),
        "data": dict(data),
    }


def enqueue(
    session: Session,
    event_type: str,
    data: Mapping[str, Any],
    *,
    subscription_id: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Add one outbox row per active subscriber of ``event_type`` (or just ``subscription_id``).

    Returns the new delivery ids. Called inside the caller's transaction: the rows commit
    (and are sent) only if the change they announce commits.
    """
    when = now or datetime.now(UTC)
    q = select(WebhookSubscriptionRow).where(WebhookSubscriptionRow.active.is_(True))
    if subscription_id is not None:
        q = q.where(WebhookSubscriptionRow.id == subscription_id)
    rows: list[WebhookDeliveryRow] = []
    for sub in session.scalars(q).all():
        if subscription_id is None and event_type not in (sub.event_types or EVENT_TYPES):
            continue
        row = WebhookDeliveryRow(
            subscription_id=sub.id,
            event_type=event_type,
            payload=envelope(event_type, data, now=when),
            status="pending",
            attempts=0,
            next_attempt_at=when,
            created_at=when,
        )
        session.add(row)
        rows.append(row)
    if rows:
        session.flush()
    return [r.id for r in rows]


def redeliver(session: Session, delivery_id: int) -> WebhookDeliveryRow:
    """Put a dead (or delivered) delivery back in the queue with a fresh attempt budget."""
    row = session.get(WebhookDeliveryRow, delivery_id)
    if row is None:
        raise NotFoundError(f"no webhook delivery {delivery_id}", code="delivery_not_found", field="delivery_id")
    if row.status == "pending":
        raise InvalidTransitionError("the delivery is already pending", field="delivery_id")
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = datetime.now(UTC)
    row.delivered_at = None
    session.flush()
    return row


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(WebhookDeliveryRow.status, func.count()).group_by(WebhookDeliveryRow.status))
    return {str(status): int(n) for status, n in rows}


@dataclass(frozen=True, slots=True)
class _Claim:
    id: int
    url: str
    secret: str
    event_type: str
    body: bytes
    attempts: int


class WebhookDispatcher:
    """Sends due outbox rows; one per process, started and stopped by the app lifespan."""

    def __init__(self, store_of: Callable[[], Store], metrics: ApiMetrics, policy: RetryPolicy | None = None) -> None:
        self._store_of = store_of
        self._metrics = metrics
        self.policy = policy or RetryPolicy()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def wake(self) -> None:
        """Ask for an immediate pass (thread-safe); called after a commit that enqueued rows."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def start(self) -> None:
        """Start sending; a second lifespan of the same app (e.g. a test client) reuses the first one's task."""
        if self._task is not None and not self._task.done():
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._client = httpx.AsyncClient(timeout=self.policy.timeout, follow_redirects=False, trust_env=False)
        self._task = asyncio.create_task(self._run(), name="tonewatch-webhooks")

    async def stop(self) -> None:
        """Stop sending (only from the loop that started it); pending rows wait in the table."""
        if self._loop is not asyncio.get_running_loop():
            return
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                sent = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.warning("webhook pass failed; retrying", exc_info=True)
                sent = 0
            if sent >= self.policy.batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.policy.poll_interval)
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Send every due delivery once; returns how many were attempted."""
        claims = await asyncio.to_thread(self._claim)
        if not claims:
            return 0
        client = self._client or httpx.AsyncClient(timeout=self.policy.timeout, trust_env=False)
        try:
            results = await asyncio.gather(*(self._send(client, c) for c in claims))
        finally:
            if client is not self._client:
                await client.aclose()
        await asyncio.to_thread(self._record, list(zip(claims, results, strict=True)))
        return len(claims)

    def _claim(self) -> list[_Claim]:
        """Take due rows, pushing their next attempt past the send timeout (a lease)."""
        now = datetime.now(UTC)
        lease = now + timedelta(seconds=self.policy.timeout * 2 + 5)
        store = self._store_of()
        with store.session(readonly=True) as session:  # cheap look first: no write lock while idle
            due = session.scalar(
                select(WebhookDeliveryRow.id)
                .where(WebhookDeliveryRow.status == "pending", WebhookDeliveryRow.next_attempt_at <= now)
                .limit(1)
            )
        if due is None:
            return []
        with store.session() as session:
            stmt = (
                select(WebhookDeliveryRow, WebhookSubscriptionRow)
                .join(WebhookSubscriptionRow, WebhookSubscriptionRow.id == WebhookDeliveryRow.subscription_id)
                .where(WebhookDeliveryRow.status == "pending", WebhookDeliveryRow.next_attempt_at <= now)
                .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
                .limit(self.policy.batch)
                .with_for_update(skip_locked=True, of=WebhookDeliveryRow)
            )
            claims = []
            for delivery, sub in session.execute(stmt).all():
                delivery.next_attempt_at = lease
                body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
                claims.append(_Claim(delivery.id, sub.url, sub.secret, delivery.event_type, body, delivery.attempts))
            return claims

    async def _send(self, client: httpx.AsyncClient, claim: _Claim) -> tuple[int | None, str | None]:
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tonewatch-webhooks",
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(claim.secret, ts, claim.body),
            "X-Tonewatch-Event": claim.event_type,
            "X-Tonewatch-Delivery": str(claim.id),
        }
        try:
            response = await client.post(claim.url, content=claim.body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"receiver answered HTTP {response.status_code}"

    def _record(self, results: list[tuple[_Claim, tuple[int | None, str | None]]]) -> None:
        now = datetime.now(UTC)
        with self._store_of().session() as session:
            for claim, (status, error) in results:
                row = session.get(WebhookDeliveryRow, claim.id)
                if row is None:  # subscription deleted meanwhile
                    continue
                row.attempts = claim.attempts + 1
                row.last_status = status
                if error is None:
                    row.status = "delivered"
                    row.delivered_at = now
                    row.last_error = None
                    self._metrics.webhook_deliveries.labels("delivered").inc()
                    continue
                row.last_error = error
                self._metrics.webhook_failures.inc()
                if row.attempts >= self.policy.max_attempts:
                    row.status = "dead"
                    self._metrics.webhook_deliveries.labels("dead").inc()
                    _log.warning("webhook delivery %s is dead after %s attempts: %s", row.id, row.attempts, error)
                else:
                    row.next_attempt_at = now + timedelta(seconds=self.policy.delay(row.attempts))
                    self._metrics.webhook_deliveries.labels("retry").inc()
