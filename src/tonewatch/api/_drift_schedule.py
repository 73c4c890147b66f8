"""The API server's own drift check: every ``drift_check_minutes``, compare windows and record.

Drift alerts are only useful if someone computes drift; a cron line is easy to forget, so the
server does it by itself (``tonewatch drift report`` stays for ad-hoc windows). Several server
processes share one database: a check is skipped while the newest stored report is younger than
90 % of the interval, so N workers do not store N reports. Alerts fire once per crossing
(``record_drift`` compares with the previous report), so a duplicate could not spam anyone anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from ._services import Services

__all__ = ["DRIFT_ACTOR", "DriftSchedule", "run_drift_check"]

DRIFT_ACTOR = "server:drift"
_log = logging.getLogger("tonewatch.api.drift")


def run_drift_check(services: Services, *, now: datetime | None = None) -> int | None:
    """Compute and record one drift report unless a recent one exists; the stored id, or None if skipped."""
    from sqlalchemy import func, select

    from tonewatch.learn import compute_drift, record_drift
    from tonewatch.learn._drift_tables import DriftReportRow

    now = now or datetime.now(UTC)
    interval = timedelta(minutes=services.settings.drift_check_minutes)
    store = services.store
    with store.session(readonly=True) as session:
        newest = session.scalar(select(func.max(DriftReportRow.computed_at)))
        if newest is not None and interval > timedelta(0):
            newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
            if now - newest < interval * 0.9:
                return None
        report = compute_drift(session, services.settings, now=now)
    with store.session() as session:
        recorded = record_drift(session, report, actor=DRIFT_ACTOR)
    if recorded.raised:
        services.webhooks.wake()
    return recorded.id


class DriftSchedule:
    """A background task that runs :func:`run_drift_check` every interval (first run after one interval)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._task: asyncio.Task[None] | None = None

    @property
    def interval_s(self) -> float:
        return self._services.settings.drift_check_minutes * 60.0

    def start(self) -> None:
        if self.interval_s > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="tonewatch-drift")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await run_in_threadpool(run_drift_check, self._services)
            except Exception:  # a failed check must not stop the next one, nor the server
                _log.exception("drift check failed")
