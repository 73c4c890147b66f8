"""Continuous learning: recorded drift reports.

Revision ID: learn_0001
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tonewatch.store._base import JSONType, UTCDateTime

revision: str = "learn_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("learn",)
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "drift_reports",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("reference_start", UTCDateTime(), nullable=False),
        sa.Column("reference_end", UTCDateTime(), nullable=False),
        sa.Column("current_start", UTCDateTime(), nullable=False),
        sa.Column("current_end", UTCDateTime(), nullable=False),
        sa.Column("reference_messages", sa.Integer(), nullable=False),
        sa.Column("current_messages", sa.Integer(), nullable=False),
        sa.Column("alerts", JSONType, nullable=False),
        sa.Column("report", JSONType, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_reports")),
    )
    op.create_index("ix_drift_reports_computed_at", "drift_reports", ["computed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_drift_reports_computed_at", table_name="drift_reports")
    op.drop_table("drift_reports")
