"""The Overview page: how customers feel, week by week, and what needs attention this week.

Everything here is an aggregate over customers' messages, so cells over fewer than
``aggregate_min_group`` messages are suppressed for every viewer (the API's rule). The
list of customers who entered at-risk names only those whose health this viewer may read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tonewatch.api._visibility import Viewer
from tonewatch.score._analysis import EMOTIONS

from ._charts import ChartSpec, Dataset
from ._common import BAD_BANDS, customer_labels, mean, share, week_labels, week_of, week_starts

__all__ = ["GROUPINGS", "Grouping", "Overview", "build_overview"]

Grouping = Literal["channel", "segment", "category"]
GROUPINGS: tuple[Grouping, ...] = ("channel", "segment", "category")
_TOP_GROUPS = 6
_REST = "(all other groups)"


@dataclass
class Overview:
    """What the Overview template shows."""

    by: Grouping
    weeks: int
    charts: list[ChartSpec] = field(default_factory=list)
    kpis: list[dict[str, Any]] = field(default_factory=list)
    entering: list[dict[str, Any]] = field(default_factory=list)
    entering_count: int = 0
    entering_hidden: int = 0
    breaches: list[dict[str, Any]] = field(default_factory=list)
    overdue_open: int = 0
    breached_week: int = 0
    min_group: int = 5


def _message_rows(session: Session, since: datetime, until: datetime) -> list[Any]:
    from tonewatch.store import Message

    q = select(
        Message.timestamp,
        Message.customer_id,
        Message.channel,
        Message.category,
        Message.score,
        Message.needs_review,
        Message.analysis["emotions"],
    ).where(
        Message.author == "customer",
        Message.score.is_not(None),
        Message.timestamp >= since,
        Message.timestamp <= until,
    )
    return list(session.execute(q))


def _group_of(row: Any, by: Grouping, segments: Mapping[str, Mapping[str, Any]]) -> str:
    if by == "channel":
        return str(row.channel or "unknown")
    if by == "category":
        return str(row.category or "uncategorised")
    return str(segments.get(row.customer_id, {}).get("segment") or "unknown")


def _sentiment_charts(
    rows: list[Any], by: Grouping, weeks: list[Any], viewer: Viewer, segments: Any
) -> list[ChartSpec]:
    volume: Counter[str] = Counter()
    for r in rows:
        volume[_group_of(r, by, segments)] += 1
    top = [g for g, _ in volume.most_common(_TOP_GROUPS)]
    index = {w: i for i, w in enumerate(weeks)}
    names = [*top, _REST]  # _REST cannot collide with a real group (categories include "other")
    scores: dict[str, list[list[float]]] = {g: [[] for _ in weeks] for g in names}
    for r in rows:
        g = _group_of(r, by, segments)
        i = index.get(week_of(r.timestamp))
        if i is not None:
            scores[g if g in top else _REST][i].append(float(r.score))
    groups = [g for g in names if any(scores[g])]
    labels = week_labels(weeks)
    trend = ChartSpec(
        f"sentiment-by-{by}",
        f"Mean customer sentiment by {by}, per week",
        "line",
        labels,
        [
            Dataset(g, [mean(cell) if viewer.group_visible(len(cell)) else None for cell in scores[g]], color=n)
            for n, g in enumerate(groups)
        ],
        y_title="mean score (-1 to +1)",
        y_min=-1,
        y_max=1,
        note=f"Weeks with fewer than {viewer.min_group} messages in a group are not shown.",
    )
    vol = ChartSpec(
        f"volume-by-{by}",
        f"Customer messages by {by}, per week",
        "bar",
        labels,
        [Dataset(g, [float(len(cell)) for cell in scores[g]], kind="bar", color=n) for n, g in enumerate(groups)],
        y_title="messages",
        stacked=True,
    )
    return [trend, vol]


def _weekly_charts(rows: list[Any], weeks: list[Any], viewer: Viewer) -> list[ChartSpec]:
    index = {w: i for i, w in enumerate(weeks)}
    n = [0] * len(weeks)
    low = [0] * len(weeks)
    emotion_sums: dict[str, list[float]] = {e: [0.0] * len(weeks) for e in EMOTIONS}
    for r in rows:
        i = index.get(week_of(r.timestamp))
        if i is None:
            continue
        n[i] += 1
        low[i] += int(bool(r.needs_review))
        emotions = r[6] if isinstance(r[6], Mapping) else {}
        for e in EMOTIONS:
            value = emotions.get(e)
            if isinstance(value, int | float):
                emotion_sums[e][i] += float(value)
    labels = week_labels(weeks)
    visible = [viewer.group_visible(c) for c in n]
    emotions_chart = ChartSpec(
        "emotions",
        "Emotions in customer messages (mean probability), per week",
        "line",
        labels,
        [
            Dataset(e, [s / c if ok else None for s, c, ok in zip(emotion_sums[e], n, visible, strict=True)], color=k)
            for k, e in enumerate(EMOTIONS)
        ],
        y_title="mean probability",
        y_min=0,
        percent=True,
    )
    low_chart = ChartSpec(
        "low-confidence",
        "Share of results with low confidence (sent for review), per week",
        "line",
        labels,
        [
            Dataset(
                "low-confidence share",
                [share(lo, c) if ok else None for lo, c, ok in zip(low, n, visible, strict=True)],
            )
        ],
        y_title="share of messages",
        y_min=0,
        percent=True,
    )
    return [emotions_chart, low_chart]


def _kpis(rows: list[Any], now: datetime, viewer: Viewer) -> list[dict[str, Any]]:
    week_ago, fortnight = now - timedelta(days=7), now - timedelta(days=14)
    this = [r for r in rows if r.timestamp > week_ago]
    last = [r for r in rows if fortnight < r.timestamp <= week_ago]

    def level(items: list[Any]) -> float | None:
        return mean(float(r.score) for r in items) if viewer.group_visible(len(items)) else None

    now_level, before = level(this), level(last)
    low = share(sum(1 for r in this if r.needs_review), len(this)) if viewer.group_visible(len(this)) else None
    return [
        {"label": "Customer messages, last 7 days", "value": len(this), "format": "number"},
        {
            "label": "Mean sentiment, last 7 days",
            "value": now_level,
            "format": "signed",
            "change": None if now_level is None or before is None else now_level - before,
        },
        {"label": "Low-confidence share, last 7 days", "value": low, "format": "percent"},
    ]


def _entering(session: Session, viewer: Viewer, now: datetime) -> tuple[list[dict[str, Any]], int, int]:
    """Customers whose band became at-risk or critical in the last 7 days (visible ones listed)."""
    from tonewatch.api._lookup import has_open_ticket
    from tonewatch.store import Customer, HealthSnapshot

    since_day = (now - timedelta(days=7)).date().isoformat()
    look_back = (now - timedelta(days=60)).date().isoformat()
    rows = session.execute(
        select(HealthSnapshot.customer_id, HealthSnapshot.day, HealthSnapshot.band)
        .where(HealthSnapshot.day >= look_back)
        .order_by(HealthSnapshot.customer_id, HealthSnapshot.day)
    )
    before: dict[str, str] = {}
    entered: dict[str, str] = {}
    for cid, day, band in rows:
        if day < since_day:
            before[cid] = band
        elif band in BAD_BANDS and before.get(cid) not in BAD_BANDS and cid not in entered:
            entered[cid] = day
    if not entered:
        return [], 0, 0
    names = customer_labels(session, entered)
    listed: list[dict[str, Any]] = []
    hidden = 0
    for customer in session.scalars(select(Customer).where(Customer.id.in_(list(entered)))):
        if customer.erased_at is not None or not customer.report:
            continue
        closed = True if viewer.policy != "post_conversation" else not has_open_ticket(session, customer.id)
        report = viewer.health({**customer.report, "customer_id": customer.id}, closed=closed)
        if report["redacted"] is not None:
            hidden += 1
            continue
        listed.append(
            {
                "customer_id": customer.id,
                "name": names.get(customer.id, {}).get("name"),
                "segment": names.get(customer.id, {}).get("segment"),
                "entered": entered[customer.id],
                "health": report.get("health"),
                "band": report.get("band"),
                "previous": before.get(customer.id),
            }
        )
    listed.sort(key=lambda c: (c["health"] if isinstance(c["health"], int | float) else 999, c["customer_id"]))
    return listed, len(entered), hidden


def _breaches(session: Session, now: datetime) -> tuple[list[dict[str, Any]], int, int]:
    """Open review items past their SLA deadline, and items that missed it in the last 7 days."""
    from tonewatch.review import OPEN, ReviewItemRow

    overdue_rows = session.scalars(
        select(ReviewItemRow)
        .where(ReviewItemRow.status.in_(list(OPEN)), ReviewItemRow.due < now)
        .order_by(ReviewItemRow.due)
        .limit(8)
    ).all()
    overdue = int(
        session.scalar(
            select(func.count())
            .select_from(ReviewItemRow)
            .where(ReviewItemRow.status.in_(list(OPEN)), ReviewItemRow.due < now)
        )
        or 0
    )
    week_ago = now - timedelta(days=7)
    late = int(
        session.scalar(
            select(func.count())
            .select_from(ReviewItemRow)
            .where(
                ReviewItemRow.decided_at.is_not(None),
                ReviewItemRow.decided_at > week_ago,
                ReviewItemRow.decided_at > ReviewItemRow.due,
            )
        )
        or 0
    )
    names = customer_labels(session, {r.customer_id for r in overdue_rows})
    items = [
        {
            "id": r.id,
            "customer_id": r.customer_id,
            "name": names.get(r.customer_id, {}).get("name"),
            "action": r.action,
            "rule": r.rule_id,
            "due": r.due,
            "overdue_hours": round((now - r.due).total_seconds() / 3600, 1),
        }
        for r in overdue_rows
    ]
    return items, overdue, late


def build_overview(
    session: Session, viewer: Viewer, *, now: datetime, by: Grouping = "channel", weeks: int = 12
) -> Overview:
    starts = week_starts(now, weeks)
    rows = _message_rows(session, datetime.combine(starts[0], datetime.min.time(), now.tzinfo), now)
    segments = customer_labels(session, {r.customer_id for r in rows}) if by == "segment" else {}
    out = Overview(by=by, weeks=weeks, min_group=viewer.min_group)
    out.charts = [*_sentiment_charts(rows, by, starts, viewer, segments), *_weekly_charts(rows, starts, viewer)]
    out.kpis = _kpis(rows, now, viewer)
    out.entering, out.entering_count, out.entering_hidden = _entering(session, viewer, now)
    out.breaches, out.overdue_open, out.breached_week = _breaches(session, now)
    return out
