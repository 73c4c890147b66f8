"""Labelling and drift: ``GET /v1/feedback/disagreements`` and ``GET /v1/drift``.

Disagreements are labelled data (masked message text with people's labels), so they are
admin-only like ``GET /v1/feedback``; the model's own reading in them passes through the
visibility policy like every other score. The drift report holds aggregates only (counts,
shares, frequent new words), readable by the roles that read aggregates; it is the latest
report recorded by ``tonewatch drift report`` (computing one here would let any caller start
a scan of the message table).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tonewatch._errors import InputError, NotFoundError
from tonewatch.api._deps import AggregateReader, FeedbackReader, ServicesDep, ViewerDep
from tonewatch.api._problems import responses
from tonewatch.api._types import IsoDateTime

__all__ = ["router"]

router = APIRouter()


def _utc(value: datetime, field: str) -> datetime:
    """Aware UTC; a date-time that does not exist in UTC (year 1 at +14:00) is bad input, not a 5xx."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise InputError(f"{field} is outside the supported range", code="invalid_timestamp", field=field) from None


class VoteOut(BaseModel):
    actor: str
    label: str
    at: datetime
    why: str | None


class AgreementOut(BaseModel):
    labelled: int = Field(description="Messages with at least one label")
    multi_reviewed: int = Field(description="Messages labelled by two or more people")
    reviewer_pairs: int
    reviewer_agreement: float | None = Field(description="Share of reviewer pairs that gave the same label")
    gold: int = Field(description="Messages with a majority label")
    model_agreement: float | None = Field(description="Share of gold labels equal to the model's label")
    ties: int
    reviewer_disagreements: int
    model_disagreements: int


class DisagreementOut(BaseModel):
    event_id: str
    customer_id: str
    timestamp: datetime
    text: str | None = Field(description="The masked message text (null once purged)")
    channel: str
    language: str | None
    kind: Literal["reviewers", "model"] = Field(description="reviewers split, or reviewers overrule the model")
    model_label: str | None
    model_confidence: float | None
    model_version: str | None
    gold: str | None = Field(description="Majority label; null on a tie")
    agreement: float
    votes: list[VoteOut]
    redacted: str | None = Field(description="The visibility policy that hides the model's reading, if any")


class DisagreementsOut(BaseModel):
    agreement: AgreementOut
    items: list[DisagreementOut]


@router.get(
    "/v1/feedback/disagreements",
    response_model=DisagreementsOut,
    tags=["proactive"],
    summary="Labels that disagree (admin)",
    responses=responses(401, 403, 422, 429),
)
def list_disagreements(
    caller: FeedbackReader,
    viewer: ViewerDep,
    services: ServicesDep,
    kind: Annotated[Literal["all", "reviewers", "model"], Query(description="Which disagreements")] = "all",
    since: Annotated[IsoDateTime | None, Query(description="Only messages labelled since")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """Reviewer splits first, then messages where reviewers agree with each other but not with the model.

    ``agreement`` summarises every labelled message in the period.
    """
    from tonewatch.api._lookup import closed_tickets
    from tonewatch.learn import agreement_stats, labelled_items, pick_disagreements

    start = None if since is None else _utc(since, "since")
    with services.store.session(readonly=True) as session:
        items = labelled_items(session, since=start)
        chosen = pick_disagreements(items, kind=None if kind == "all" else kind, limit=limit)
        closed = (
            closed_tickets(session, (i.ticket_id for i in chosen)) if viewer.policy == "post_conversation" else set()
        )
    return {
        "agreement": agreement_stats(items).to_dict(),
        "items": [i.as_seen_by(viewer, closed=(i.ticket_id in closed) if i.ticket_id else None) for i in chosen],
    }


@router.get(
    "/v1/drift",
    tags=["operations"],
    summary="The latest recorded drift report",
    responses=responses(401, 403, 404, 429),
)
def latest_drift_report(caller: AggregateReader, services: ServicesDep) -> dict[str, Any]:
    """What ``tonewatch drift report`` last recorded (the ``drift.json`` form plus its ``id``); 404 before the first."""
    from tonewatch.learn import latest_drift

    with services.store.session(readonly=True) as session:
        latest = latest_drift(session)
    if latest is None:
        raise NotFoundError("no drift report recorded yet: run `tonewatch drift report`")
    report_id, report = latest
    return {"id": report_id, **report.to_dict()}
