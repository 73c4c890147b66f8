"""What automatic actions leave behind (tags, queue priority, dashboard alerts) and the outbox.

These rows are the effect of an action, read by the helpdesk integration and the dashboard;
the audit log holds the record of who or what caused them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tonewatch.store._base import Base, UTCDateTime

__all__ = ["AlertRow", "OutboxRow", "QueuePriorityRow", "TagRow"]

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class TagRow(Base):
    """An internal tag on a customer (one row per customer and tag)."""

    __tablename__ = "customer_tags"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(60))
    rule_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("customer_id", "tag", name="uq_customer_tags_customer_tag"),)


class QueuePriorityRow(Base):
    """The support-queue priority of a customer's conversations (1 = most urgent)."""

    __tablename__ = "customer_queue_priority"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str | None] = mapped_column(String(80))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertRow(Base):
    """A dashboard alert for the support team."""

    __tablename__ = "dashboard_alerts"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    rule_id: Mapped[str | None] = mapped_column(String(80))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_dashboard_alerts_created", "created_at"),)


class OutboxRow(Base):
    """A message on its way out; ``approved_by`` is NULL only for automatic, guardrail-clean text."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    rule_id: Mapped[str | None] = mapped_column(String(80))
    review_item_id: Mapped[int | None] = mapped_column(BigInteger)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_outbox_customer_created", "customer_id", "created_at"),)
