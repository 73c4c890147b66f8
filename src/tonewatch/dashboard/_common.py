"""Small helpers every page builder shares: weeks, means, suppression, customer names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

__all__ = [
    "BAD_BANDS",
    "CLOSED_STATUSES",
    "customer_labels",
    "mean",
    "month_bounds",
    "previous_month",
    "share",
    "week_labels",
    "week_of",
    "week_starts",
]

BAD_BANDS = frozenset({"at-risk", "critical"})
CLOSED_STATUSES = frozenset({"resolved", "closed"})


def week_of(ts: datetime) -> date:
    """The Monday (UTC) of the week ``ts`` falls in: the bucket of every weekly chart."""
    d = ts.astimezone(UTC).date()
    return d - timedelta(days=d.weekday())


def week_starts(now: datetime, weeks: int) -> list[date]:
    """The Mondays of the last ``weeks`` weeks, oldest first, ending with ``now``'s week."""
    last = week_of(now)
    return [last - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def week_labels(starts: Sequence[date]) -> list[str]:
    return [d.isoformat() for d in starts]


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return None if not items else sum(items) / len(items)


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``"2026-10"`` -> [start, end) in UTC; a malformed month is a ValueError."""
    year, _, mon = month.partition("-")
    if len(year) != 4 or len(mon) != 2 or not year.isdigit() or not mon.isdigit():
        raise ValueError(f"{month!r} is not a month such as 2026-10")
    y, m = int(year), int(mon)
    if not 1 <= m <= 12 or not 1970 <= y <= 9998:
        raise ValueError(f"{month!r} is not a month such as 2026-10")
    start = datetime(y, m, 1, tzinfo=UTC)
    end = datetime(y + 1, 1, 1, tzinfo=UTC) if m == 12 else datetime(y, m + 1, 1, tzinfo=UTC)
    return start, end


def previous_month(month: str) -> str:
    start, _ = month_bounds(month)
    prev = start - timedelta(days=1)
    return f"{prev.year:04d}-{prev.month:02d}"


def customer_labels(session: Session, customer_ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
    """Display attributes (name, segment, plan) of some customers, in one query."""
    from tonewatch.store import Customer

    ids = sorted(set(customer_ids))
    out: dict[str, Mapping[str, Any]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for cid, attrs in session.execute(select(Customer.id, Customer.attributes).where(Customer.id.in_(chunk))):
            a = dict(attrs or {})
            out[cid] = {k: a.get(k) for k in ("name", "segment", "plan", "language", "renewal_date")}
    return out
