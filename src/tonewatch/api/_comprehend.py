"""The AWS Comprehend DetectSentiment / BatchDetectSentiment response shapes.

Users of Comprehend switch by changing the URL and adding ``?format=comprehend``. Our
probabilities cover positive/neutral/negative and ``mixed`` is a label with its own
confidence, so ``Mixed`` is that confidence when the label is mixed (0 otherwise) and the
other three are scaled to share the rest: the four still sum to 1, as in Comprehend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ComprehendBatchError",
    "ComprehendBatchItem",
    "ComprehendBatchOut",
    "ComprehendOut",
    "ComprehendScore",
    "comprehend_error_code",
    "to_comprehend",
]


class ComprehendScore(BaseModel):
    Positive: float
    Negative: float
    Neutral: float
    Mixed: float


class ComprehendOut(BaseModel):
    """DetectSentiment's response (plus ``redacted`` when the visibility policy hid the scores)."""

    Sentiment: str | None = Field(description="POSITIVE, NEGATIVE, NEUTRAL or MIXED")
    SentimentScore: ComprehendScore | None
    redacted: str | None = None


class ComprehendBatchItem(ComprehendOut):
    Index: int


class ComprehendBatchError(BaseModel):
    Index: int
    ErrorCode: str
    ErrorMessage: str


class ComprehendBatchOut(BaseModel):
    """BatchDetectSentiment's response."""

    ResultList: list[ComprehendBatchItem]
    ErrorList: list[ComprehendBatchError]


_ERROR_CODES = {"text_too_long": "TEXT_SIZE_LIMIT_EXCEEDED", "empty_text": "INVALID_REQUEST"}


def comprehend_error_code(code: str) -> str:
    """Comprehend's name for one of our item error codes."""
    return _ERROR_CODES.get(code, code.upper())


def to_comprehend(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """One (possibly redacted) analysis dict in DetectSentiment's shape."""
    label = analysis.get("label")
    probs = analysis.get("probabilities")
    if label is None or probs is None:
        return {"Sentiment": None, "SentimentScore": None, "redacted": analysis.get("redacted")}
    confidence = float(analysis.get("confidence") or 0.0)
    mixed = confidence if label == "mixed" else 0.0
    rest = 1.0 - mixed
    return {
        "Sentiment": str(label).upper(),
        "SentimentScore": {
            "Positive": round(float(probs.get("positive", 0.0)) * rest, 4),
            "Negative": round(float(probs.get("negative", 0.0)) * rest, 4),
            "Neutral": round(float(probs.get("neutral", 0.0)) * rest, 4),
            "Mixed": round(mixed, 4),
        },
        "redacted": analysis.get("redacted"),
    }
