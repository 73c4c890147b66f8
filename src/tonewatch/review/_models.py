"""The review queue table: actions waiting for a person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tonewatch.store._base import Base, JSONType, UTCDateTime

__all__ = ["ReviewItemRow"]

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class ReviewItemRow(Base):
    """One proposed action: its evidence, draft or recommendation, deadline and decision."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    rule_id: Mapped[str | None] = mapped_column(String(80))
    firing_id: Mapped[int | None] = mapped_column(BigInteger)
    tier: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    route_reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    draft: Mapped[str | None] = mapped_column(Text)
    draft_source: Mapped[str | None] = mapped_column(String(16))
    final_text: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_review_items_status_priority_due", "status", "priority", "due"),
        Index("ix_review_items_customer", "customer_id", "created_at"),
    )
