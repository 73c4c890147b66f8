"""The API's own tables: keys, webhook subscriptions and the webhook outbox.

Keys are stored as a salted sha256 of the whole key, never the key itself: a leaked
database does not let anyone call the API. The outbox is written in the same transaction
as the change it announces, so a receiver that is down (or a server that restarts) loses
nothing: the dispatcher keeps retrying from the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tonewatch.store._base import Base, JSONType, UTCDateTime

__all__ = ["ApiKeyRow", "WebhookDeliveryRow", "WebhookSubscriptionRow"]

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class ApiKeyRow(Base):
    """One API key: ``id`` is the public part printed in the key, ``key_hash`` the secret's digest."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    salt: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookSubscriptionRow(Base):
    """A receiver URL, the secret its payloads are signed with, and the event types it wants."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class WebhookDeliveryRow(Base):
    """One payload for one subscriber: pending until delivered, dead after too many failures."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "status"),
    )
