"""SLA deadlines in business hours: "4 business hours" from Friday 16:00 is Monday 12:00.

Counted in the team's time zone (``settings.timezone``) over ``settings.business_days`` between
``settings.business_hours``, so a review item created at night is not overdue by morning.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tonewatch._errors import ConfigurationError

__all__ = ["business_deadline", "next_business_time"]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"unknown time zone {name!r}", field="timezone") from None


def _check(hours: tuple[int, int], days: Sequence[int]) -> None:
    open_h, close_h = hours
    if not (0 <= open_h < close_h <= 24):
        raise ConfigurationError(f"business_hours must be (open, close) with 0 <= open < close <= 24, got {hours}")
    if not days or any(d not in range(7) for d in days):
        raise ConfigurationError(f"business_days must be weekday numbers 0-6 (Monday is 0), got {tuple(days)}")


def _bounds(day: datetime, hours: tuple[int, int], zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day.date(), time(hours[0]), zone)
    end = datetime.combine(day.date(), time(0), zone) + timedelta(hours=hours[1])
    return start, end


def next_business_time(
    moment: datetime, *, hours: tuple[int, int] = (9, 17), days: Sequence[int] = (0, 1, 2, 3, 4), tz: str = "UTC"
) -> datetime:
    """``moment`` if it falls in business hours, else the next opening time (UTC)."""
    return business_deadline(moment, 0.0, hours=hours, days=days, tz=tz)


def business_deadline(
    start: datetime,
    business_hours: float,
    *,
    hours: tuple[int, int] = (9, 17),
    days: Sequence[int] = (0, 1, 2, 3, 4),
    tz: str = "UTC",
) -> datetime:
    """``start`` plus ``business_hours`` counted only inside business hours; returned in UTC."""
    _check(hours, days)
    zone = _zone(tz)
    cursor = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(zone)
    remaining = timedelta(hours=max(0.0, business_hours))
    for _ in range(3660):  # ten years of days: ends long before for any sane SLA
        open_at, close_at = _bounds(cursor, hours, zone)
        if cursor.weekday() in days and cursor < close_at:
            cursor = max(cursor, open_at)
            available = close_at - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(UTC)
            remaining -= available
        cursor = datetime.combine(cursor.date() + timedelta(days=1), time(0), zone)
    raise ConfigurationError("business-hours deadline did not converge; check business_days")  # pragma: no cover
