"""Durations written the way people write them in a playbook: ``14d``, ``4h``, ``2w``, ``30m``.

Rule windows and cooldowns are whole units on purpose: ``1.5d`` invites off-by-one debates
that ``36h`` settles.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_UNITS: dict[str, timedelta] = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_PATTERN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")


def parse_duration(text: object) -> timedelta:
    """``"14d"`` -> 14 days; raises ``ValueError`` with the accepted forms otherwise."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise ValueError(f"expected a duration like '14d', '4h', '2w' or '30m', got {text!r}")
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"expected a duration like '14d', '4h', '2w' or '30m', got {text!r}")
    amount = int(match.group(1))
    if amount <= 0:
        raise ValueError(f"a duration must be positive, got {text!r}")
    return amount * _UNITS[match.group(2)]


def format_duration(value: timedelta) -> str:
    """The inverse of :func:`parse_duration` in days, hours or minutes (``14d``, not ``2w``)."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        size = int(_UNITS[unit].total_seconds())
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
