"""Shared pieces of the database commands: ``--db``, opening the store, errors, times.

Bad input ends a command with a one-line message on stderr and exit status 2 (1 is kept
for "ran, but found problems", e.g. rejected events or a broken audit chain).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from tonewatch.settings import Settings
    from tonewatch.store import Store

__all__ = ["DB_OPTION", "fail", "open_store", "parse_duration", "parse_time", "settings_for"]

DB_OPTION = typer.Option("--db", help="Database URL (default: TONEWATCH_DB_URL or the embedded SQLite file)")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings_for(db: str | None) -> Settings:
    from tonewatch._errors import ConfigurationError
    from tonewatch.settings import Settings

    try:
        return Settings(db_url=db) if db else Settings()
    except ConfigurationError as exc:
        fail(exc.message)


def open_store(db: str | None, settings: Settings | None = None) -> Store:
    """The store named by ``--db`` (or the settings), migrated to the newest schema."""
    from tonewatch._errors import ConfigurationError, StoreError
    from tonewatch.store import Store

    settings = settings or settings_for(db)
    try:
        store = Store.from_settings(settings)
        store.create_all()
    except (ConfigurationError, StoreError) as exc:
        fail(exc.message)
    return store


def parse_time(value: str, option: str = "--as-of") -> datetime:
    """An ISO date or date-time; naive values are UTC, dates mean the end of that day."""
    text = value.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1) - timedelta(microseconds=1)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option}: {value!r} is not an ISO date or date-time (e.g. 2026-05-01 or 2026-05-01T10:00:00Z)")
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def parse_duration(value: str, option: str) -> timedelta:
    """``90d``, ``12h``, ``2w``..."""
    m = _DURATION.match(value)
    if not m or float(m.group(1)) <= 0:
        fail(f"{option}: {value!r} is not a duration such as 60d, 12h or 2w")
    return timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2)])
