"""Request and response bodies shared by several routers.

Score fields are nullable: the visibility policy may hide them for a caller, and then
``redacted`` names the policy (``null`` when everything is visible).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AnalysisOut",
    "CueOut",
    "HealthOut",
    "IndexedAnalysisOut",
    "ItemError",
    "SentenceOut",
    "UrgencyOut",
]

Label = Literal["positive", "neutral", "negative", "mixed"]


class UrgencyOut(BaseModel):
    level: Literal["low", "medium", "high"]
    score: float


class SentenceOut(BaseModel):
    text: str
    start: int
    end: int
    label: Label
    probabilities: dict[str, float]
    score: float


class CueOut(BaseModel):
    kind: str
    span: str
    start: int
    end: int
    direction: str
    weight: float


class AnalysisOut(BaseModel):
    """One text's analysis (``Analysis.to_dict()``), with scores nullable for redaction."""

    label: Label | None = Field(description="positive, neutral, negative or mixed")
    probabilities: dict[str, float] | None = Field(description="P(positive/neutral/negative), summing to 1")
    score: float | None = Field(description="P(positive) - P(negative), in [-1, 1]")
    confidence: float | None
    needs_review: bool = Field(description="Low confidence or an unvalidated language: a person should look")
    review_reasons: list[str]
    emotions: dict[str, float] | None
    goemotions: dict[str, float] | None
    sarcasm: float | None
    urgency: UrgencyOut
    language: str
    sentences: list[SentenceOut]
    cues: list[CueOut]
    model_version: str
    category: str | None = Field(default=None, description="Issue category (billing, login/access, ...)")
    redacted: str | None = Field(default=None, description="The visibility policy that hid the scores, if any")


class IndexedAnalysisOut(AnalysisOut):
    index: int = Field(description="Position of the text in the request")


class ItemError(BaseModel):
    """Why one item of a batch was not processed (the rest were)."""

    index: int
    code: str
    message: str
    field: str | None = None


class TrendOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    level: float | None = None
    slope: float | None = None
    declining: bool | None = None


class HealthOut(BaseModel):
    """A customer's health report (``HealthReport.to_dict()``), nullable for redaction."""

    model_config = ConfigDict(extra="allow")

    customer_id: str
    health: float | None = None
    band: str | None = None
    trend: TrendOut | None = None
    signals: dict[str, Any] | None = None
    factors: list[dict[str, Any]] = Field(default_factory=list)
    flags: list[Any] = Field(default_factory=list)
    as_of: datetime | None = None
    redacted: str | None = None
