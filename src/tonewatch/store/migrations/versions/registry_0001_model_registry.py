"""Model registry: the serving pointer (active and shadow version), its history, shadow results.

Revision ID: registry_0001
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tonewatch.store._base import JSONType, UTCDateTime

revision: str = "registry_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("registry",)
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "model_serving",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("active_version", sa.String(80), nullable=True),
        sa.Column("shadow_version", sa.String(80), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_serving")),
    )
    op.execute(sa.text("INSERT INTO model_serving (id, revision) VALUES (1, 0)"))
    op.create_table(
        "model_history",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("version", sa.String(80), nullable=True),
        sa.Column("previous", sa.String(80), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("comparisons", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_history")),
    )
    op.create_index("ix_model_history_at", "model_history", ["at"])
    op.create_table(
        "shadow_results",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("version", sa.String(80), nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("probabilities", JSONType, nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("active_version", sa.String(80), nullable=False),
        sa.Column("active_label", sa.String(16), nullable=False),
        sa.Column("active_score", sa.Float(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.event_id"],
            name=op.f("fk_shadow_results_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_results")),
        sa.UniqueConstraint("event_id", "version", name="uq_shadow_results_event_version"),
    )
    op.create_index("ix_shadow_results_version", "shadow_results", ["version", "active_version"])


def downgrade() -> None:
    op.drop_index("ix_shadow_results_version", table_name="shadow_results")
    op.drop_table("shadow_results")
    op.drop_index("ix_model_history_at", table_name="model_history")
    op.drop_table("model_history")
    op.drop_table("model_serving")
