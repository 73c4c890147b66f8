"""The firing ledger: one row each time a rule fired for a customer.

The unique key (rule, customer, cooldown bucket) is what makes firing idempotent: a replayed
event, a second sweep or two workers racing on the same customer cannot fire a rule twice in
one cooldown period; the database refuses the duplicate row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tonewatch.store._base import Base, JSONType, UTCDateTime

__all__ = ["FiringRow"]

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class FiringRow(Base):
    """A rule fired for a customer (``holdout`` firings are recorded but not acted on)."""

    __tablename__ = "trigger_firings"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(80))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    bucket: Mapped[int] = mapped_column(BigInteger)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    trigger: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str | None] = mapped_column(String(200))
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    low_confidence: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    playbook: Mapped[str] = mapped_column(String(200), default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # What became of each action: executed / queued (review item id) / withheld (holdout).
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    __table_args__ = (
        UniqueConstraint("rule_id", "customer_id", "bucket", name="uq_trigger_firings_rule_customer_bucket"),
        Index("ix_trigger_firings_customer_fired", "customer_id", "fired_at"),
        Index("ix_trigger_firings_rule_fired", "rule_id", "fired_at"),
    )
