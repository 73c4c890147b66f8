"""Reading the date attributes of a customer (``signup_date``, ``renewal_date``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

__all__ = ["as_date", "date_attr"]


def as_date(value: Any) -> date | None:
    """The date in an attribute value (a date, a datetime taken in UTC, or an ISO string), else None."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def date_attr(value: Any) -> str | None:
    """The ISO date in an attribute value (a date or a timestamp string), or None when absent or unreadable."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return None
