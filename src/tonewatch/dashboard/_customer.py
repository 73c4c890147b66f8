"""The Customer page: trajectory, timeline, health factors, and what was done about them.

The page starts from exactly what ``GET /v1/customers/{id}`` returns to this viewer (the
same function builds both), so every score the API would hide is already gone. Charts are
drawn from that redacted answer; the smoothed level and change points are recomputed with
the pipeline's own :class:`~tonewatch.trajectory.Trajectory` and shown only when the API
shows this viewer the customer's trajectory.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._charts import ChartSpec, Dataset

if TYPE_CHECKING:
    from tonewatch.api._services import Services

    from ._access import Visitor

__all__ = ["CustomerPage", "build_customer", "replay_trajectory"]

_TIMELINE = 400
_USAGE_DAYS = 180


@dataclass
class CustomerPage:
    customer_id: str
    data: dict[str, Any]
    charts: list[ChartSpec] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    change_points: list[datetime] = field(default_factory=list)
    firings: list[dict[str, Any]] = field(default_factory=list)
    review_items: list[dict[str, Any]] = field(default_factory=list)
    messages_sent: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    # event id -> the visitor's own current label (filled only for roles that may label messages)
    own_labels: dict[str, str] = field(default_factory=dict)


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _as_dt(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def replay_trajectory(session: Session, customer_id: str) -> tuple[list[tuple[datetime, float]], list[datetime]]:
    """The smoothed level after each scored text and the change detector's alarms, as the pipeline folds them.

    The stored history is replayed through a fresh :class:`~tonewatch.health.CustomerState`
    (the object the pipeline keeps per customer), so the line and the alarms are exactly
    those behind the stored report, whatever the state chooses to feed its trajectory.
    """
    from tonewatch.health import CustomerState
    from tonewatch.ingest import load_history
    from tonewatch.store import Customer

    row = session.get(Customer, customer_id)
    state = CustomerState(customer_id, dict(row.attributes or {}) if row is not None else None)
    levels: list[tuple[datetime, float]] = []
    alarms: list[datetime] = []
    for stored in load_history(session, customer_id):
        seen = state.trajectory.n
        state.update(stored.event, analysis=stored.analysis, category=stored.category)
        trajectory = state.trajectory
        ts = stored.event.timestamp
        if trajectory.n == seen or trajectory.level is None or ts is None:
            continue
        levels.append((ts, trajectory.level))
        if trajectory.detector.drift_detected:
            alarms.append(ts)
    return levels, alarms


def _trajectory_chart(page: CustomerPage, session: Session) -> ChartSpec:
    data = page.data
    message_points: list[tuple[int, float]] = []
    survey_points: list[tuple[int, float]] = []
    for item in data["timeline"]:
        ts = _as_dt(item["timestamp"])
        analysis = item.get("analysis")
        if item["kind"] == "message" and item.get("author") == "customer" and analysis:
            score = analysis.get("score")
            if isinstance(score, int | float):
                message_points.append((_ms(ts), float(score)))
        elif item["kind"] == "survey" and isinstance(item.get("comment_sentiment"), dict):
            score = item["comment_sentiment"].get("score")
            if isinstance(score, int | float):
                survey_points.append((_ms(ts), float(score)))
    datasets = [
        Dataset("message score", points=sorted(message_points), kind="points", color=0),
        Dataset("survey comment score", points=sorted(survey_points), kind="points", color=2),
    ]
    if data["trajectory"]["redacted"] is None and data["health"] is not None:
        levels, alarms = replay_trajectory(session, page.customer_id)
        page.change_points = alarms
        level_at = dict(levels)
        datasets.append(Dataset("smoothed level", points=[(_ms(t), v) for t, v in levels], kind="line", color=1))
        datasets.append(
            Dataset("change point", points=[(_ms(t), level_at.get(t, 0.0)) for t in alarms], kind="marker", color=5)
        )
    return ChartSpec(
        "trajectory",
        "Sentiment trajectory: each message, the smoothed level and detected change points",
        "time",
        datasets=[d for d in datasets if d.points],
        y_title="score (-1 to +1)",
        y_min=-1,
        y_max=1,
        hidden_by=data["trajectory"]["redacted"],
    )


def _health_chart(data: dict[str, Any]) -> ChartSpec:
    points = [
        (_ms(datetime.fromisoformat(d["day"]).replace(tzinfo=UTC)), float(d["health"]))
        for d in data["trajectory"]["daily"]
        if isinstance(d.get("health"), int | float)
    ]
    return ChartSpec(
        "health-history",
        "Health score, end of each day",
        "time",
        datasets=[Dataset("health", points=points, kind="line", color=1)] if points else [],
        y_title="health (0-100)",
        y_min=0,
        y_max=100,
        hidden_by=data["trajectory"]["redacted"],
    )


def _usage_chart(session: Session, customer_id: str, now: datetime) -> ChartSpec:
    from tonewatch.store import Usage

    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    q = (
        select(Usage.metric, Usage.timestamp, Usage.value)
        .where(Usage.customer_id == customer_id, Usage.timestamp >= now - timedelta(days=_USAGE_DAYS))
        .order_by(Usage.timestamp)
    )
    for metric, ts, value in session.execute(q):
        series[str(metric)].append((_ms(_as_dt(ts)), float(value)))
    return ChartSpec(
        "usage",
        f"Product usage, last {_USAGE_DAYS} days",
        "time",
        datasets=[Dataset(m, points=p, kind="line", color=i) for i, (m, p) in enumerate(sorted(series.items()))],
        y_title="value",
    )


def _actions(page: CustomerPage, session: Session, visitor: Visitor) -> None:
    from tonewatch.act._models import AlertRow, OutboxRow
    from tonewatch.outcomes import OutcomeLinkRow
    from tonewatch.review import ReviewItemRow
    from tonewatch.store import Outcome
    from tonewatch.triggers import FiringRow

    cid = page.customer_id
    links: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for link in session.scalars(select(OutcomeLinkRow).where(OutcomeLinkRow.customer_id == cid)):
        links[link.firing_id].append({"outcome": link.outcome, "value": link.value, "lead_days": link.lead_days})
    firings = session.scalars(
        select(FiringRow).where(FiringRow.customer_id == cid).order_by(FiringRow.fired_at.desc()).limit(50)
    )
    page.firings = [
        {
            "id": f.id,
            "rule": f.rule_id,
            "fired_at": f.fired_at,
            "trigger": f.trigger,
            "holdout": f.holdout,
            "actions": list(f.actions or []),
            "outcomes": links.get(f.id, []),
        }
        for f in firings
    ]
    items = session.scalars(
        select(ReviewItemRow)
        .where(ReviewItemRow.customer_id == cid)
        .order_by(ReviewItemRow.created_at.desc())
        .limit(50)
    )
    page.review_items = [
        {
            "id": r.id,
            "action": r.action,
            "rule": r.rule_id,
            "status": r.status,
            "created_at": r.created_at,
            "decided_by": r.decided_by,
            "reason": r.reason,
            "decision": r.decision,
        }
        for r in items
    ]
    sent = session.scalars(
        select(OutboxRow).where(OutboxRow.customer_id == cid).order_by(OutboxRow.created_at.desc()).limit(20)
    )
    page.messages_sent = [
        {
            "subject": o.subject,
            "recipient": o.recipient,
            "status": o.status,
            "approved_by": o.approved_by,
            "automatic": o.automatic,
            "created_at": o.created_at,
        }
        for o in sent
    ]
    page.outcomes = [
        {"outcome": o.outcome, "timestamp": o.timestamp}
        for o in session.scalars(select(Outcome).where(Outcome.customer_id == cid).order_by(Outcome.timestamp))
    ]
    alerts = session.scalars(
        select(AlertRow).where(AlertRow.customer_id == cid).order_by(AlertRow.created_at.desc()).limit(20)
    )
    page.alerts = [
        {"severity": a.severity, "message": a.message, "created_at": a.created_at, "rule": a.rule_id} for a in alerts
    ]
    if not visitor.viewer.sees_everything:
        page.firings = visitor.viewer.scrub(page.firings)


def build_customer(services: Services, visitor: Visitor, customer_id: str, *, now: datetime) -> CustomerPage:
    """Raises :class:`~tonewatch.NotFoundError` for an unknown or erased customer, as the API does."""
    from tonewatch.api.routes.customers import get_customer

    data: dict[str, Any] = get_customer(customer_id, visitor.principal, visitor.viewer, services, limit=_TIMELINE)
    page = CustomerPage(customer_id, data)
    page.timeline = [item for item in data["timeline"] if item["kind"] not in ("usage", "customer")]
    with services.store.session(readonly=True) as session:
        page.charts = [_trajectory_chart(page, session), _health_chart(data), _usage_chart(session, customer_id, now)]
        _actions(page, session, visitor)
        if visitor.may("feedback.write"):
            from ._labelling import own_labels

            ids = (item["event_id"] for item in page.timeline if item["kind"] == "message")
            page.own_labels = own_labels(session, visitor.actor, ids)
    return page
