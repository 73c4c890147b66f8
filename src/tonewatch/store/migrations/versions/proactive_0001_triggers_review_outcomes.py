"""Proactive support tables: trigger firings, automatic-action effects, the outbox, the review
queue and outcome links.

Revision ID: proactive_0001
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tonewatch.store._base import JSONType, UTCDateTime

revision: str = "proactive_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("proactive",)
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _customer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["customer_id"], ["customers.id"], name=op.f(f"fk_{table}_customer_id_customers"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "trigger_firings",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(80), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("fired_at", UTCDateTime(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("low_confidence", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("playbook", sa.String(200), nullable=False),
        sa.Column("evidence", JSONType, nullable=False),
        sa.Column("actions", JSONType, nullable=False),
        _customer_fk("trigger_firings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_firings")),
        sa.UniqueConstraint("rule_id", "customer_id", "bucket", name="uq_trigger_firings_rule_customer_bucket"),
    )
    op.create_index("ix_trigger_firings_customer_fired", "trigger_firings", ["customer_id", "fired_at"])
    op.create_index("ix_trigger_firings_rule_fired", "trigger_firings", ["rule_id", "fired_at"])

    op.create_table(
        "customer_tags",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("tag", sa.String(60), nullable=False),
        sa.Column("rule_id", sa.String(80), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _customer_fk("customer_tags"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_tags")),
        sa.UniqueConstraint("customer_id", "tag", name="uq_customer_tags_customer_tag"),
    )
    op.create_table(
        "customer_queue_priority",
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(80), nullable=True),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        _customer_fk("customer_queue_priority"),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_queue_priority")),
    )
    op.create_table(
        "dashboard_alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("rule_id", sa.String(80), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        _customer_fk("dashboard_alerts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_alerts")),
    )
    op.create_index("ix_dashboard_alerts_created", "dashboard_alerts", ["created_at"])
    op.create_table(
        "outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("rule_id", sa.String(80), nullable=True),
        sa.Column("review_item_id", sa.BigInteger(), nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(40), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        _customer_fk("outbox"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_customer_created", "outbox", ["customer_id", "created_at"])

    op.create_table(
        "review_items",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("rule_id", sa.String(80), nullable=True),
        sa.Column("firing_id", sa.BigInteger(), nullable=True),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("route_reason", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column("evidence", JSONType, nullable=False),
        sa.Column("draft", sa.Text(), nullable=True),
        sa.Column("draft_source", sa.String(16), nullable=True),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("snoozed_until", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        _customer_fk("review_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
    )
    op.create_index("ix_review_items_status_priority_due", "review_items", ["status", "priority", "due"])
    op.create_index("ix_review_items_customer", "review_items", ["customer_id", "created_at"])

    op.create_table(
        "outcome_links",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("firing_id", BigId, nullable=False),
        sa.Column("rule_id", sa.String(80), nullable=False),
        sa.Column("fired_at", UTCDateTime(), nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("actions", JSONType, nullable=False),
        sa.Column("lead_days", sa.Float(), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        _customer_fk("outcome_links"),
        sa.ForeignKeyConstraint(
            ["firing_id"],
            ["trigger_firings.id"],
            name=op.f("fk_outcome_links_firing_id_trigger_firings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_links")),
        sa.UniqueConstraint("event_id", "firing_id", name="uq_outcome_links_event_firing"),
    )
    op.create_index("ix_outcome_links_rule", "outcome_links", ["rule_id", "occurred_at"])
    op.create_index("ix_outcome_links_customer", "outcome_links", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_outcome_links_customer", table_name="outcome_links")
    op.drop_index("ix_outcome_links_rule", table_name="outcome_links")
    op.drop_table("outcome_links")
    op.drop_index("ix_review_items_customer", table_name="review_items")
    op.drop_index("ix_review_items_status_priority_due", table_name="review_items")
    op.drop_table("review_items")
    op.drop_index("ix_outbox_customer_created", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_dashboard_alerts_created", table_name="dashboard_alerts")
    op.drop_table("dashboard_alerts")
    op.drop_table("customer_queue_priority")
    op.drop_table("customer_tags")
    op.drop_index("ix_trigger_firings_rule_fired", table_name="trigger_firings")
    op.drop_index("ix_trigger_firings_customer_fired", table_name="trigger_firings")
    op.drop_table("trigger_firings")
