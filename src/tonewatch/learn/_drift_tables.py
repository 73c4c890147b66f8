"""The drift reports table: each recorded ``tonewatch drift report`` run, newest last.

Keeping every run (not just the latest) lets alerts fire on the *transition* into drift
(a cron job re-running the check every hour does not re-announce the same drift), and gives
the dashboard and the metrics endpoint the latest verdict without recomputing it.
Only aggregates are stored (counts, shares, frequent new words), never message text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tonewatch.store._base import Base, JSONType, UTCDateTime

__all__ = ["DriftReportRow"]

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class DriftReportRow(Base):
    """One drift report: its windows, the alerts active then, and the whole report as JSON."""

    __tablename__ = "drift_reports"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    reference_start: Mapped[datetime] = mapped_column(UTCDateTime)
    reference_end: Mapped[datetime] = mapped_column(UTCDateTime)
    current_start: Mapped[datetime] = mapped_column(UTCDateTime)
    current_end: Mapped[datetime] = mapped_column(UTCDateTime)
    reference_messages: Mapped[int] = mapped_column(Integer)
    current_messages: Mapped[int] = mapped_column(Integer)
    alerts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    report: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_drift_reports_computed_at", "computed_at"),)
