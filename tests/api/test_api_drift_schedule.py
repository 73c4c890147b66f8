"""The server computes drift by itself on a schedule, and several servers do not store duplicates."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from api_support import Api
from sqlalchemy import select

from tonewatch.api._drift_schedule import DRIFT_ACTOR, run_drift_check
from tonewatch.learn._drift_tables import DriftReportRow


def _reports(api: Api) -> list[DriftReportRow]:
    with api.services.store.session(readonly=True) as session:
        return list(session.scalars(select(DriftReportRow).order_by(DriftReportRow.id)))


def test_the_server_records_drift_on_its_schedule(make_api: Callable[..., Api]) -> None:
    api = make_api(drift_check_minutes=0.01)  # every 0.6 s
    deadline = time.monotonic() + 20
    while not _reports(api) and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = _reports(api)
    assert rows, "no drift report was recorded by the server"
    assert rows[0].created_by == DRIFT_ACTOR
    assert rows[0].report["current"]["messages"] == 0  # an empty store still gets a (verdict-less) report


def test_a_recent_report_makes_other_servers_skip(make_api: Callable[..., Api]) -> None:
    api = make_api(drift_check_minutes=60)
    now = datetime.now(UTC)
    first = run_drift_check(api.services, now=now)
    assert first is not None
    assert run_drift_check(api.services, now=now + timedelta(minutes=30)) is None  # a second worker, same hour
    later = run_drift_check(api.services, now=now + timedelta(minutes=55))  # past 90 % of the interval
    assert later is not None
    assert later != first
    assert [r.created_by for r in _reports(api)] == [DRIFT_ACTOR, DRIFT_ACTOR]


def test_zero_turns_the_schedule_off(make_api: Callable[..., Api]) -> None:
    api = make_api(drift_check_minutes=0)
    time.sleep(1.0)
    assert _reports(api) == []
