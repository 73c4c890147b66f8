"""Initial schema: customer data (customers, events, messages, tickets, surveys, usage,
outcomes, health snapshots, feedback) and the hash-chained audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tonewatch.store._base import JSONType, UTCDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _customer_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE")


def _event_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["event_id"], ["events.event_id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)").bindparams(h="0" * 64))
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("details", JSONType, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index("ix_audit_log_action_seq", "audit_log", ["action", "seq"])
    op.create_index("ix_audit_log_subject_seq", "audit_log", ["subject", "seq"])

    op.create_table(
        "customers",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("attributes", JSONType, nullable=False),
        sa.Column("state", JSONType, nullable=True),
        sa.Column("health", sa.Float(), nullable=True),
        sa.Column("band", sa.String(16), nullable=True),
        sa.Column("report", JSONType, nullable=True),
        sa.Column("last_event_at", UTCDateTime(), nullable=True),
        sa.Column("last_event_id", sa.String(200), nullable=True),
        sa.Column("as_of", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("erased_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index(op.f("ix_customers_band"), "customers", ["band"])
    op.create_index(op.f("ix_customers_health"), "customers", ["health"])

    op.create_table(
        "events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("ingested_at", UTCDateTime(), nullable=False),
        _customer_fk(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
    )
    op.create_index("ix_events_customer_ts", "events", ["customer_id", "timestamp", "event_id"])
    op.create_index("ix_events_kind_ts", "events", ["kind", "timestamp"])

    op.create_table(
        "health_snapshots",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("health", sa.Float(), nullable=False),
        sa.Column("band", sa.String(16), nullable=False),
        sa.Column("level", sa.Float(), nullable=True),
        sa.Column("declining", sa.Boolean(), nullable=True),
        _customer_fk(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_snapshots")),
        sa.UniqueConstraint("customer_id", "day", name="uq_health_snapshots_customer_day"),
    )
    op.create_index("ix_health_snapshots_as_of", "health_snapshots", ["as_of"])

    op.create_table(
        "tickets",
        sa.Column("ticket_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("category", sa.String(60), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        _customer_fk(),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_tickets")),
    )
    op.create_index(op.f("ix_tickets_customer_id"), "tickets", ["customer_id"])
    op.create_index(op.f("ix_tickets_status"), "tickets", ["status"])

    op.create_table(
        "messages",
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("ticket_id", sa.String(200), nullable=True),
        sa.Column("conversation_id", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(200), nullable=True),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_purged_at", UTCDateTime(), nullable=True),
        sa.Column("raw_text_encrypted", sa.Text(), nullable=True),
        sa.Column("pii_kinds", JSONType, nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("category", sa.String(60), nullable=True),
        sa.Column("label", sa.String(16), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=True),
        sa.Column("urgency", sa.String(8), nullable=True),
        sa.Column("analysis", JSONType, nullable=True),
        sa.Column("model_version", sa.String(80), nullable=True),
        _customer_fk(),
        _event_fk(),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_messages")),
    )
    op.create_index(op.f("ix_messages_category"), "messages", ["category"])
    op.create_index("ix_messages_customer_ts", "messages", ["customer_id", "timestamp"])
    op.create_index("ix_messages_review", "messages", ["needs_review", "timestamp"])
    op.create_index(op.f("ix_messages_ticket_id"), "messages", ["ticket_id"])
    op.create_index("ix_messages_ts", "messages", ["timestamp"])

    op.create_table(
        "outcomes",
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        _customer_fk(),
        _event_fk(),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_outcomes")),
    )
    op.create_index("ix_outcomes_customer_ts", "outcomes", ["customer_id", "timestamp"])
    op.create_index("ix_outcomes_outcome_ts", "outcomes", ["outcome", "timestamp"])

    op.create_table(
        "surveys",
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("survey", sa.String(8), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=True),
        sa.Column("normalized", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("comment_label", sa.String(16), nullable=True),
        sa.Column("comment_score", sa.Float(), nullable=True),
        _customer_fk(),
        _event_fk(),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_surveys")),
    )
    op.create_index("ix_surveys_customer_ts", "surveys", ["customer_id", "timestamp"])

    op.create_table(
        "usage",
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("metric", sa.String(100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        _customer_fk(),
        _event_fk(),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_usage")),
    )
    op.create_index("ix_usage_customer_metric_ts", "usage", ["customer_id", "metric", "timestamp"])

    op.create_table(
        "feedback",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("label", sa.String(16), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("category", sa.String(60), nullable=True),
        sa.Column("emotions", JSONType, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("model_version", sa.String(80), nullable=True),
        _customer_fk(),
        sa.ForeignKeyConstraint(["event_id"], ["messages.event_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index(op.f("ix_feedback_customer_id"), "feedback", ["customer_id"])
    op.create_index(op.f("ix_feedback_event_id"), "feedback", ["event_id"])


def downgrade() -> None:
    for table in (
        "feedback",
        "usage",
        "surveys",
        "outcomes",
        "messages",
        "tickets",
        "health_snapshots",
        "events",
        "customers",
        "audit_log",
        "audit_head",
    ):
        op.drop_table(table)
