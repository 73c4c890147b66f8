"""Reading the date attributes of a customer (``signup_date``, ``renewal_date``)."""

from __future__ import annotations

from datetime import date
from typing import Any

__all__ = ["date_attr"]


def date_attr(value: Any) -> str | None:
    """The ISO date in an attribute value (a date or a timestamp string), or None when absent or unreadable."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return None
