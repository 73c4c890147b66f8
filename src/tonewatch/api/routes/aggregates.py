"""``GET /v1/aggregates/sentiment``: customer sentiment by channel, category, language, band or period.

Aggregates are what the ``aggregate`` visibility policy allows, so every group smaller than
``aggregate_min_group`` is suppressed. Grouping by agent is refused outright: tonewatch
describes customers' experience and never ranks or scores the people who serve them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch.api._deps import AggregateReader, ServicesDep, ViewerDep
from tonewatch.api._problems import ApiError, responses
from tonewatch.api._types import IsoDateTime

__all__ = ["AGENT_GROUPINGS", "router"]

router = APIRouter(prefix="/v1/aggregates", tags=["customers"])

GroupBy = Literal["channel", "category", "language", "band", "day", "week", "month"]
AGENT_GROUPINGS = frozenset({"agent", "agent_id", "agents", "assignee", "author_agent", "team_member", "rep"})


class GroupOut(BaseModel):
    group: str | None
    count: int
    suppressed: bool
    mean_score: float | None
    shares: dict[str, float] | None


class AggregateOut(BaseModel):
    group_by: str
    min_group: int
    messages: int
    groups: list[GroupOut]


def _period(ts: datetime, key: str) -> str:
    if key == "day":
        return ts.date().isoformat()
    if key == "week":
        iso = ts.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return ts.strftime("%Y-%m")


def _groups(
    session: Session, key: str, since: datetime | None, until: datetime | None
) -> dict[str | None, list[tuple[str | None, float]]]:
    """(label, score) of customer messages per group."""
    from tonewatch.store import Customer, Message

    column = {
        "channel": Message.channel,
        "category": Message.category,
        "language": Message.language,
        "band": Customer.band,
    }.get(key, Message.timestamp)
    q = select(column, Message.label, Message.score).where(Message.author == "customer", Message.score.is_not(None))
    if key == "band":
        q = q.join(Customer, Customer.id == Message.customer_id)
    if since is not None:
        q = q.where(Message.timestamp >= since)
    if until is not None:
        q = q.where(Message.timestamp < until)
    groups: dict[str | None, list[tuple[str | None, float]]] = {}
    for value, label, score in session.execute(q):
        group = _period(value, key) if isinstance(value, datetime) else value
        if score is not None:
            groups.setdefault(group, []).append((label, float(score)))
    return groups


@router.get(
    "/sentiment",
    response_model=AggregateOut,
    summary="Customer sentiment by group (small groups suppressed; never by agent)",
    responses=responses(400, 401, 403, 422, 429),
)
def sentiment_aggregate(
    caller: AggregateReader,
    viewer: ViewerDep,
    services: ServicesDep,
    group_by: Annotated[
        str,
        Query(
            description="channel, category, language, band, day, week or month (never an agent: 400)",
            json_schema_extra={"enum": list(get_args(GroupBy))},
        ),
    ] = "channel",
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
) -> Any:
    """Counts, mean score and label shares of customer messages per group."""
    key = group_by.strip().lower()
    if key in AGENT_GROUPINGS:
        raise ApiError(
            400,
            "agent_aggregate_refused",
            "sentiment is never aggregated by agent: tonewatch does not rank or score the people who serve customers",
            field="group_by",
        )
    allowed = get_args(GroupBy)
    if key not in allowed:
        raise ApiError(422, "invalid_value", f"group_by must be one of: {', '.join(allowed)}", field="group_by")
    with services.store.session(readonly=True) as session:
        groups = _groups(session, key, since, until)
    total = sum(len(v) for v in groups.values())
    out: list[dict[str, Any]] = []
    for group, items in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        n = len(items)
        if not viewer.group_visible(n):
            out.append({"group": group, "count": n, "suppressed": True, "mean_score": None, "shares": None})
            continue
        labels = [label for label, _ in items]
        out.append(
            {
                "group": group,
                "count": n,
                "suppressed": False,
                "mean_score": round(sum(s for _, s in items) / n, 4),
                "shares": {lab: round(labels.count(lab) / n, 4) for lab in sorted({str(x) for x in labels})},
            }
        )
    return {"group_by": key, "min_group": viewer.min_group, "messages": total, "groups": out}
