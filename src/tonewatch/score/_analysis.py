"""The typed result of scoring one text.

Every consumer (store, trajectory, triggers, API, dashboard) reads these fields, so they are
frozen and JSON-friendly: ``Analysis.to_dict()`` is the wire format of ``tonewatch score``
and of the HTTP API, and ``Analysis.from_dict()`` reads it back from the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "EMOTIONS",
    "LABELS",
    "SENTIMENTS",
    "Analysis",
    "Cue",
    "CueDirection",
    "Label",
    "SentenceResult",
    "Urgency",
    "UrgencyLevel",
]

Label = Literal["positive", "neutral", "negative", "mixed"]
UrgencyLevel = Literal["low", "medium", "high"]
CueDirection = Literal["positive", "negative", "neutral", "urgent"]

LABELS: tuple[Label, ...] = ("positive", "neutral", "negative", "mixed")
SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative")
# The support taxonomy, mapped from the 28 GoEmotions labels (see score/_emotions.py).
EMOTIONS: tuple[str, ...] = (
    "frustration",
    "anger",
    "confusion",
    "disappointment",
    "worry",
    "gratitude",
    "joy",
    "neutral",
)


def _frozen(d: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType({k: float(v) for k, v in d.items()})


@dataclass(frozen=True, slots=True)
class Cue:
    """One piece of evidence behind a result: what matched, where, and which way it pushed."""

    kind: str  # hedge, negation, sarcasm, repeat-contact, polite-escalation, intensifier, caps, punctuation-run...
    span: str
    start: int
    end: int
    direction: CueDirection
    weight: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "span": self.span,
            "start": self.start,
            "end": self.end,
            "direction": self.direction,
            "weight": round(self.weight, 4),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Cue:
        return cls(d["kind"], d["span"], int(d["start"]), int(d["end"]), d["direction"], float(d.get("weight", 0.0)))


@dataclass(frozen=True, slots=True)
class SentenceResult:
    """Sentiment of one sentence; ``start``/``end`` are character offsets into the original text."""

    text: str
    start: int
    end: int
    label: Label
    probabilities: Mapping[str, float]
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "score": round(self.score, 4),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SentenceResult:
        return cls(
            d["text"], int(d["start"]), int(d["end"]), d["label"], _frozen(d["probabilities"]), float(d["score"])
        )


@dataclass(frozen=True, slots=True)
class Urgency:
    level: UrgencyLevel
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "score": round(self.score, 4)}


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything tonewatch reads from one text.

    ``probabilities`` are over positive/neutral/negative and sum to 1; ``score`` is
    P(positive) - P(negative) in [-1, 1]; ``confidence`` is the calibrated probability of
    ``label`` (for ``mixed``, the confidence that both polarities are present).
    """

    label: Label
    probabilities: Mapping[str, float]
    score: float
    confidence: float
    needs_review: bool
    emotions: Mapping[str, float]
    goemotions: Mapping[str, float]
    sarcasm: float
    urgency: Urgency
    language: str
    sentences: tuple[SentenceResult, ...]
    cues: tuple[Cue, ...]
    model_version: str
    review_reasons: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``tonewatch score`` output line and the API response body)."""
        return {
            "label": self.label,
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "score": round(self.score, 4),
            "confidence": round(self.confidence, 4),
            "needs_review": self.needs_review,
            "review_reasons": list(self.review_reasons),
            "emotions": {k: round(v, 4) for k, v in self.emotions.items()},
            "goemotions": {k: round(v, 4) for k, v in self.goemotions.items()},
            "sarcasm": round(self.sarcasm, 4),
            "urgency": self.urgency.to_dict(),
            "language": self.language,
            "sentences": [s.to_dict() for s in self.sentences],
            "cues": [c.to_dict() for c in self.cues],
            "model_version": self.model_version,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Analysis:
        """Rebuild a stored analysis (the inverse of :meth:`to_dict`, up to rounding)."""
        return cls(
            label=d["label"],
            probabilities=_frozen(d["probabilities"]),
            score=float(d["score"]),
            confidence=float(d["confidence"]),
            needs_review=bool(d["needs_review"]),
            emotions=_frozen(d.get("emotions", {})),
            goemotions=_frozen(d.get("goemotions", {})),
            sarcasm=float(d.get("sarcasm", 0.0)),
            urgency=Urgency(d["urgency"]["level"], float(d["urgency"]["score"])),
            language=d.get("language", "und"),
            sentences=tuple(SentenceResult.from_dict(s) for s in d.get("sentences", ())),
            cues=tuple(Cue.from_dict(c) for c in d.get("cues", ())),
            model_version=d.get("model_version", "unknown"),
            review_reasons=tuple(d.get("review_reasons", ())),
        )
