"""Links from what happened (an outcome, a CSAT answer) to the flags and actions before it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tonewatch.store._base import Base, JSONType, UTCDateTime

__all__ = ["OutcomeLinkRow"]

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class OutcomeLinkRow(Base):
    """One outcome or CSAT answer tied to one earlier firing (treated or holdout)."""

    __tablename__ = "outcome_links"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # "outcome" or "csat"
    outcome: Mapped[str] = mapped_column(String(16))  # churned/renewed/downgraded/expanded, or "csat"
    value: Mapped[float | None] = mapped_column(Float)  # CSAT normalised to 0..1
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    firing_id: Mapped[int] = mapped_column(ForeignKey("trigger_firings.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(80))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    holdout: Mapped[bool] = mapped_column(Boolean)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    lead_days: Mapped[float] = mapped_column(Float)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("event_id", "firing_id", name="uq_outcome_links_event_firing"),
        Index("ix_outcome_links_rule", "rule_id", "occurred_at"),
        Index("ix_outcome_links_customer", "customer_id"),
    )
