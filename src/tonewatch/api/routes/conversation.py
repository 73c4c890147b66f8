"""``POST /v1/analyze-conversation``: a whole conversation (chat, email thread, call transcript).

Speech-to-text transcripts are just turns. All turns are scored in one batched forward
pass; the summary (:mod:`tonewatch.api._conversation`) reads the customer's turns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tonewatch._errors import InputError
from tonewatch.api._conversation import summarize_conversation
from tonewatch.api._deps import Classifier, ServicesDep, ViewerDep
from tonewatch.api._lookup import conversation_closed
from tonewatch.api._problems import ApiError, responses
from tonewatch.api._schemas import AnalysisOut
from tonewatch.api._types import IsoDateTime
from tonewatch.ingest.events import Channel
from tonewatch.score import check_text

__all__ = ["ConversationOut", "ConversationRequest", "router"]

router = APIRouter(prefix="/v1", tags=["sentiment"])


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Literal["customer", "agent"]
    text: str
    timestamp: IsoDateTime | None = None


class ConversationRequest(BaseModel):
    """Turns in order; metadata is optional."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "turns": [
                        {"speaker": "customer", "text": "Hi, my invoice is wrong."},
                        {"speaker": "agent", "text": "Sorry about that, let me check."},
                        {"speaker": "customer", "text": "This is the third time. I am done with you."},
                    ]
                }
            ]
        },
    )

    turns: list[Turn] = Field(description="Ordered turns (at most `max_batch`)")
    conversation_id: str | None = Field(default=None, min_length=1, max_length=200)
    ticket_id: str | None = Field(default=None, min_length=1, max_length=200)
    customer_id: str | None = Field(default=None, min_length=1, max_length=200)
    channel: Channel | None = None
    language: str | None = Field(default=None, min_length=2, max_length=8)


class TurnOut(BaseModel):
    index: int
    speaker: Literal["customer", "agent"]
    timestamp: datetime | None
    analysis: AnalysisOut


class PointOut(BaseModel):
    turn: int
    score: float
    label: str


class DropOut(BaseModel):
    from_turn: int
    to_turn: int
    from_score: float
    to_score: float
    delta: float


class FactorOut(BaseModel):
    name: str
    points: float
    reason: str


class RiskOut(BaseModel):
    score: float
    level: Literal["low", "medium", "high"]
    factors: list[FactorOut]


class ConversationOut(BaseModel):
    turns: list[TurnOut]
    customer_turns: int
    opening: PointOut | None = Field(description="The customer's first turn")
    closing: PointOut | None = Field(description="The customer's last turn")
    sharpest_drop: DropOut | None = Field(description="Largest fall between consecutive customer turns")
    label: str | None
    mean_score: float | None
    emotions: dict[str, float] | None
    escalation_risk: RiskOut | None
    redacted: str | None = None


@router.post(
    "/analyze-conversation",
    response_model=ConversationOut,
    summary="Analyse a conversation turn by turn",
    responses=responses(400, 401, 403, 413, 415, 422, 429),
)
async def analyze_conversation(
    body: ConversationRequest, caller: Classifier, viewer: ViewerDep, services: ServicesDep
) -> Any:
    """Per-turn analysis, opening vs closing sentiment, the sharpest drop, label, emotions, escalation risk."""
    if not body.turns:
        raise InputError("a conversation needs at least one turn", code="empty_batch", field="turns")
    if len(body.turns) > services.settings.max_batch:
        raise ApiError(
            413,
            "batch_too_large",
            f"{len(body.turns)} turns; the limit is {services.settings.max_batch}",
            field="turns",
        )
    max_chars = services.settings.max_text_chars
    texts = [check_text(t.text, max_chars=max_chars, field=f"turns.{i}.text") for i, t in enumerate(body.turns)]
    closed = await run_in_threadpool(conversation_closed, services, viewer, body.ticket_id)
    analyses = await run_in_threadpool(services.analyze, texts, languages=[body.language] * len(texts))
    summary = summarize_conversation([(t.speaker, a) for t, a in zip(body.turns, analyses, strict=True)])
    turns = [
        {
            "index": i,
            "speaker": t.speaker,
            "timestamp": t.timestamp,
            "analysis": viewer.analysis(a.to_dict(), closed=closed),
        }
        for i, (t, a) in enumerate(zip(body.turns, analyses, strict=True))
    ]
    out = viewer.summary(summary, score=summary["mean_score"], closed=closed)
    out["turns"] = turns
    return out
