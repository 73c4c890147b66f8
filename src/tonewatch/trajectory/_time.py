"""Time helpers shared by the streaming customer objects.

Streaming state keeps timestamps as POSIX seconds (floats): arithmetic on windows is cheap,
and a float survives a JSON round trip bit for bit, so ``to_state``/``from_state`` is exact.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from functools import lru_cache

__all__ = ["DAY", "WEEK", "from_epoch", "iso_date", "iso_time", "to_epoch"]

DAY = 86_400.0
WEEK = 7 * DAY


def to_epoch(moment: datetime) -> float:
    """POSIX seconds of ``moment``; a naive datetime is taken as UTC, like event timestamps."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    """The timezone-aware UTC datetime of POSIX ``seconds``."""
    return datetime.fromtimestamp(seconds, UTC)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=8192)
def _day_iso(day_number: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + day_number).isoformat()


def iso_date(seconds: float) -> str:
    """``YYYY-MM-DD`` of POSIX ``seconds`` (UTC): the granularity evidence is shown at.

    Reports format many dates; a day-number cache makes that nearly free.
    """
    return _day_iso(math.floor(seconds / DAY))


def iso_time(seconds: float) -> str:
    """ISO 8601 UTC timestamp with a ``Z`` suffix, for machine-readable signal values."""
    return from_epoch(seconds).isoformat().replace("+00:00", "Z")
