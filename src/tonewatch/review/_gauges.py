"""Review-queue gauges for the metrics endpoint: open items by tier and status, and SLA breaches.

A queue nobody works is worse than no queue: these numbers are what an on-call lead watches.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ._models import ReviewItemRow
from ._states import OPEN

__all__ = ["queue_gauges"]

Gauge = tuple[str, str, Mapping[str, str], float]


def queue_gauges(session: Session, now: datetime | None = None) -> list[Gauge]:
    """``(name, help, labels, value)`` samples for open and overdue review items."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    out: list[Gauge] = []
    rows = session.execute(
        select(ReviewItemRow.tier, ReviewItemRow.status, func.count())
        .where(ReviewItemRow.status.in_(sorted(OPEN)))
        .group_by(ReviewItemRow.tier, ReviewItemRow.status)
    )
    for tier, status, count in rows:
        out.append(
            (
                "tonewatch_review_open",
                "Open review items by tier and status",
                {"tier": tier, "status": status},
                float(count),
            )
        )
    overdue = session.execute(
        select(func.count())
        .select_from(ReviewItemRow)
        .where(ReviewItemRow.status == "pending", ReviewItemRow.due < when)
    ).scalar_one()
    out.append(("tonewatch_review_overdue", "Pending review items past their SLA deadline", {}, float(overdue)))
    return out
