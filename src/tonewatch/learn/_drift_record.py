"""Recording drift reports and raising their alerts: audit log, webhook outbox, metrics.

An alert is announced once, when a measure *enters* drift (it was not alerting in the
previously recorded report): a check scheduled every hour must not page someone every hour
for the same drift. The alert stays visible while it lasts (the ``tonewatch_drift_alert``
gauge, the dashboard) and is announced again only after it has cleared and come back.
The announcement (audit entry and ``drift.alert`` webhook) is written in the same
transaction as the report, so nothing is announced that was not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._drift import ALERT_MEASURES, DriftAlert, DriftReport
from ._drift_tables import DriftReportRow

__all__ = ["DRIFT_WEBHOOK_EVENT", "RecordedDrift", "drift_gauges", "latest_drift", "record_drift"]

DRIFT_WEBHOOK_EVENT = "drift.alert"


@dataclass(frozen=True, slots=True)
class RecordedDrift:
    """A stored report and the alerts it raised (those not already active before it)."""

    id: int
    report: DriftReport
    raised: list[DriftAlert]
    webhooks: int


def latest_drift(session: Session) -> tuple[int, DriftReport] | None:
    """The newest recorded report and its id, or None before the first ``drift report``."""
    row = session.scalars(select(DriftReportRow).order_by(DriftReportRow.id.desc()).limit(1)).first()
    if row is None:
        return None
    return row.id, DriftReport.from_dict(row.report)


def _announcement(row_id: int, report: DriftReport, raised: list[DriftAlert]) -> dict[str, Any]:
    """What the audit log and webhook receivers learn: numbers and window bounds, never words or text."""
    return {
        "report": row_id,
        "as_of": report.as_of.isoformat(),
        "reference": {**report.reference.window.to_dict(), "messages": report.reference.messages},
        "current": {**report.current.window.to_dict(), "messages": report.current.messages},
        "raised": [a.to_dict() for a in raised],
        "active": [a.measure for a in report.alerts],
        "model_versions": sorted(report.current.model_versions),
    }


def record_drift(session: Session, report: DriftReport, *, actor: str) -> RecordedDrift:
    """Store ``report``; alerts that were not active in the previous report go to the audit log and webhooks."""
    from tonewatch.api._webhooks import enqueue
    from tonewatch.audit import AuditLog

    previous = session.scalars(select(DriftReportRow).order_by(DriftReportRow.id.desc()).limit(1)).first()
    before = set(previous.alerts or []) if previous is not None else set()
    row = DriftReportRow(
        computed_at=report.computed_at,
        as_of=report.as_of,
        reference_start=report.reference.window.start,
        reference_end=report.reference.window.end,
        current_start=report.current.window.start,
        current_end=report.current.window.end,
        reference_messages=report.reference.messages,
        current_messages=report.current.messages,
        alerts=[a.measure for a in report.alerts],
        report=report.to_dict(),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    raised = [a for a in report.alerts if a.measure not in before]
    sent = 0
    if raised:
        data = _announcement(row.id, report, raised)
        AuditLog(session).record(actor, "drift.alert", f"drift:{row.id}", data)
        sent = len(enqueue(session, DRIFT_WEBHOOK_EVENT, data))
    return RecordedDrift(row.id, report, raised, sent)


def drift_gauges(session: Session, *, now: datetime | None = None) -> list[tuple[str, str, dict[str, str], float]]:
    """Prometheus samples from the latest recorded report (read at scrape time by the API).

    Measures without enough data are left out rather than reported as 0, which would read as
    "no drift".
    """
    latest = latest_drift(session)
    if latest is None:
        return []
    _, report = latest
    when = now or datetime.now(UTC)
    out: list[tuple[str, str, dict[str, str], float]] = [
        (
            "tonewatch_drift_report_age_seconds",
            "Seconds since the latest drift report was computed (run `tonewatch drift report` on a schedule)",
            {},
            max((when - report.computed_at).total_seconds(), 0.0),
        )
    ]
    active = {a.measure for a in report.alerts}
    for measure, value in report.measures().items():
        if value is not None:
            out.append(
                ("tonewatch_drift_measure", "Latest drift measures (PSI, shares)", {"measure": measure}, float(value))
            )
    for measure in ALERT_MEASURES:
        out.append(
            (
                "tonewatch_drift_alert",
                "1 while a drift measure is past its threshold in the latest report",
                {"measure": measure},
                1.0 if measure in active else 0.0,
            )
        )
    for window, stats in (("reference", report.reference), ("current", report.current)):
        out.append(
            ("tonewatch_drift_window_messages", "Messages in each drift window", {"window": window}, stats.messages)
        )
    return out
