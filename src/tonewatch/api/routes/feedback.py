"""``/v1/feedback``: a person's correction of an analysis, kept for retraining and audited.

Writing feedback is open to the people who read messages; reading it back is admin-only,
because it is labelled training data (masked message text plus the person's label).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from tonewatch._errors import NotFoundError
from tonewatch.api._deps import FeedbackReader, FeedbackWriter, ServicesDep
from tonewatch.api._problems import responses
from tonewatch.audit import AuditLog
from tonewatch.score import EMOTIONS

__all__ = ["router"]

router = APIRouter(prefix="/v1/feedback", tags=["proactive"])

Label = Literal["positive", "neutral", "negative", "mixed"]
Emotion = Literal["frustration", "anger", "confusion", "disappointment", "worry", "gratitude", "joy", "neutral"]


class FeedbackIn(BaseModel):
    """The corrected reading of one stored message; give at least one of label, score, emotions, category.

    ``emotions`` lists the emotions present; it is stored as a full 0/1 vector over the support
    taxonomy (the shape of ``Analysis.emotions``), so an emotion left out is a labelled absence.
    """

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=200, description="The message's event id")
    label: Label | None = None
    score: float | None = Field(default=None, ge=-1, le=1, description="Corrected P(pos) - P(neg)")
    emotions: list[Emotion] | None = Field(default=None, max_length=8, description="Emotions actually present")
    category: str | None = Field(default=None, min_length=1, max_length=60)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _something(self) -> FeedbackIn:
        if self.label is None and self.score is None and self.emotions is None and self.category is None:
            raise ValueError("give at least one of label, score, emotions or category")
        return self


class FeedbackOut(BaseModel):
    id: int
    event_id: str
    customer_id: str
    actor: str
    created_at: datetime
    label: str | None
    score: float | None
    emotions: list[str] | None
    category: str | None
    note: str | None
    model_version: str | None


class LabelledOut(FeedbackOut):
    text: str | None = Field(description="The masked message text (null once purged)")


def _out(row: Any) -> dict[str, Any]:
    emotions = row.emotions
    return {
        "id": row.id,
        "event_id": row.event_id,
        "customer_id": row.customer_id,
        "actor": row.actor,
        "created_at": row.created_at,
        "label": row.label,
        "score": row.score,
        "emotions": None if emotions is None else sorted(e for e, v in emotions.items() if v),
        "category": row.category,
        "note": row.note,
        "model_version": row.model_version,
    }


@router.post(
    "",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    summary="Correct an analysis",
    responses=responses(400, 401, 403, 404, 413, 415, 422, 429),
)
def post_feedback(body: FeedbackIn, caller: FeedbackWriter, services: ServicesDep) -> Any:
    """Stored for the next training run and recorded in the audit log (labels and ids, never text)."""
    from tonewatch.store import Feedback, Message

    with services.store.session() as session:
        message = session.get(Message, body.event_id)
        if message is None:
            raise NotFoundError(f"no stored message {body.event_id!r}", code="unknown_message", field="event_id")
        row = Feedback(
            event_id=message.event_id,
            customer_id=message.customer_id,
            actor=caller.actor,
            created_at=datetime.now(UTC),
            label=body.label,
            score=body.score,
            category=body.category,
            emotions=None if body.emotions is None else {e: float(e in body.emotions) for e in EMOTIONS},
            note=body.note,
            model_version=message.model_version,
        )
        session.add(row)
        session.flush()
        AuditLog(session).record(
            caller.actor,
            "feedback.recorded",
            f"message:{message.event_id}",
            {
                "feedback": row.id,
                "customer": message.customer_id,
                "label": body.label,
                "model_label": message.label,
                "emotions": None if body.emotions is None else sorted(set(body.emotions)),
                "category": body.category,
                "model_version": message.model_version,
            },
        )
        return _out(row)


@router.get(
    "",
    response_model=list[LabelledOut],
    summary="Labelled data for retraining (admin)",
    responses=responses(401, 403, 422, 429),
)
def list_feedback(
    caller: FeedbackReader,
    services: ServicesDep,
    after_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    from tonewatch.store import Feedback, Message

    with services.store.session(readonly=True) as session:
        rows = session.execute(
            select(Feedback, Message.text)
            .join(Message, Message.event_id == Feedback.event_id)
            .where(Feedback.id > after_id)
            .order_by(Feedback.id)
            .limit(limit)
        ).all()
        return [{**_out(f), "text": text} for f, text in rows]
