"""The customer-data tables: what the ingest pipeline writes and every later stage reads.

Free text is stored masked only (``Message.text``, ``Survey.comment``, ``Ticket.subject``);
the unmasked message text exists only as ``Message.raw_text_encrypted`` and only when the
operator opted in. Event rows keep the masked payload, so a customer's state can be rebuilt
from the store alone (out-of-order arrival, ``--as-of`` replays, erasure).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ._base import Base, JSONType, UTCDateTime

__all__ = [
    "Customer",
    "EventRow",
    "Feedback",
    "HealthSnapshot",
    "Message",
    "Outcome",
    "Survey",
    "Ticket",
    "Usage",
]

_ID = 200
# An auto-increment key that is a real INTEGER PRIMARY KEY (rowid) on SQLite and BIGINT elsewhere.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class Customer(Base):
    """One customer: merged attributes plus the persisted streaming state and latest report.

    ``version`` is the optimistic-concurrency counter: two writers that loaded the same row
    cannot both save it; the second gets a conflict and retries with fresh state.
    """

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    health: Mapped[float | None] = mapped_column(Float, index=True)
    band: Mapped[str | None] = mapped_column(String(16), index=True)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Sort key of the last event folded into ``state``; an older arrival means a rebuild.
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_event_id: Mapped[str | None] = mapped_column(String(_ID))
    # The time ``report`` was computed as of (last event, or the last sweep).
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class EventRow(Base):
    """Every accepted event, masked; ``event_id`` is what makes ingestion idempotent."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(_ID), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_events_customer_ts", "customer_id", "timestamp", "event_id"),
        Index("ix_events_kind_ts", "kind", "timestamp"),
    )


class Message(Base):
    """A conversation message with its analysis; ``text`` is masked and NULL once purged."""

    __tablename__ = "messages"

    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    ticket_id: Mapped[str | None] = mapped_column(String(_ID), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(_ID))
    channel: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(_ID))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str | None] = mapped_column(Text)
    text_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A Fernet token (ASCII) of the unmasked text, only when ``store_raw_text`` is on.
    raw_text_encrypted: Mapped[str | None] = mapped_column(Text)
    pii_kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    language: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(60), index=True)
    label: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    needs_review: Mapped[bool | None] = mapped_column(Boolean)
    urgency: Mapped[str | None] = mapped_column(String(8))
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    model_version: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (
        Index("ix_messages_customer_ts", "customer_id", "timestamp"),
        Index("ix_messages_ts", "timestamp"),
        Index("ix_messages_review", "needs_review", "timestamp"),
    )


class Ticket(Base):
    """Current state of a ticket, folded from its ticket events (latest timestamp wins)."""

    __tablename__ = "tickets"

    ticket_id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    subject: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(60))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)


class Survey(Base):
    """A CSAT or NPS answer; ``normalized`` maps both scales to 0..1 for trends."""

    __tablename__ = "surveys"

    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    survey: Mapped[str] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    scale: Mapped[int | None] = mapped_column(Integer)
    normalized: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    comment_label: Mapped[str | None] = mapped_column(String(16))
    comment_score: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_surveys_customer_ts", "customer_id", "timestamp"),)


class Usage(Base):
    """One product-usage measurement (logins, seats, API calls...)."""

    __tablename__ = "usage"

    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    metric: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_usage_customer_metric_ts", "customer_id", "metric", "timestamp"),)


class Outcome(Base):
    """What finally happened to a customer; the ground truth for fitting and impact reports."""

    __tablename__ = "outcomes"

    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_outcomes_customer_ts", "customer_id", "timestamp"),
        Index("ix_outcomes_outcome_ts", "outcome", "timestamp"),
    )


class HealthSnapshot(Base):
    """Health at the end of one day for one customer: the series behind trends and charts."""

    __tablename__ = "health_snapshots"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(String(10))
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    health: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(16))
    level: Mapped[float | None] = mapped_column(Float)
    declining: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        UniqueConstraint("customer_id", "day", name="uq_health_snapshots_customer_day"),
        Index("ix_health_snapshots_as_of", "as_of"),
    )


class Feedback(Base):
    """A person's correction of an analysis: training data for the next model and a quality metric."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("messages.event_id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(_ID))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str | None] = mapped_column(String(60))
    emotions: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(80))
