"""Which messages to label next (active learning): where a label teaches the model the most.

A reviewer's time is the scarce resource, so stored messages that nobody has labelled yet are
ranked by a priority in [0, 1]:

    priority = 0.5 * uncertainty + 0.3 * layer_disagreement + 0.2 * new_vocabulary

- ``uncertainty``: the mean of the normalised entropy of the model's three sentiment
  probabilities (1 = all equal) and ``min(1, 1.5 * (1 - confidence))`` (1 at confidence 1/3,
  the least a three-way argmax can have). The model is unsure: its label is a coin flip.
- ``layer_disagreement``: the tonal layer overruled the model's reading. 1 when sarcasm
  flipped a positive reading to negative (review reason ``sarcasm_flipped``), 0.6 for
  ``mixed_sentiment``, otherwise the probability mass the cues moved (their ``weight``;
  urgency-only cues excluded) over 0.5, capped at 1. Either layer may be wrong; a label
  says which.
- ``new_vocabulary``: the share of the message's words never seen in the drift reference
  window (``_drift.reference_vocabulary``): new slang or product names the model has
  never been trained on.

Diversity: candidates are taken greedily by priority and one is skipped when its normalised
text equals an already labelled or already chosen message, or when its word-shingle Jaccard
similarity to a chosen one is at least :data:`DUPLICATE_JACCARD` (the same complaint with
another order number is one lesson, not ten).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tonewatch._errors import InputError
from tonewatch.store import Feedback, Message

from ._drift import default_as_of, drift_windows, reference_vocabulary
from ._text import jaccard, normalise, shingles, words

if TYPE_CHECKING:
    from tonewatch.settings import Settings

__all__ = [
    "DUPLICATE_JACCARD",
    "WEIGHTS",
    "Suggestion",
    "SuggestionRun",
    "layer_disagreement",
    "suggest_labels",
    "uncertainty",
]

WEIGHTS: Mapping[str, float] = {"uncertainty": 0.5, "layers": 0.3, "vocabulary": 0.2}
DUPLICATE_JACCARD = 0.6
_MOVED_FULL = 0.5  # probability mass moved by cues that counts as a full disagreement
_MIXED = 0.6
_SENTIMENTS = ("positive", "neutral", "negative")
_SHOWN_NEW_WORDS = 5


def uncertainty(probabilities: Mapping[str, float], confidence: float | None) -> float:
    """How unsure the model is, in [0, 1] (see the module docstring)."""
    ps = [max(float(probabilities.get(k, 0.0)), 0.0) for k in _SENTIMENTS]
    total = sum(ps)
    entropy = 0.0
    if total > 0:
        entropy = -sum((p / total) * math.log(p / total) for p in ps if p > 0) / math.log(len(ps))
    low = 1.0 if confidence is None else min(1.0, max(0.0, 1.5 * (1.0 - float(confidence))))
    return (entropy + low) / 2.0


def layer_disagreement(analysis: Mapping[str, Any]) -> tuple[float, list[str]]:
    """How far the tonal layer moved the model's reading, in [0, 1], and why (see the module docstring)."""
    reasons_in = set(analysis.get("review_reasons") or ())
    moved = sum(
        float(c.get("weight") or 0.0)
        for c in analysis.get("cues") or ()
        if isinstance(c, Mapping) and c.get("direction") in _SENTIMENTS
    )
    value = min(1.0, moved / _MOVED_FULL)
    why: list[str] = []
    if moved >= 0.1:
        why.append(f"cues moved {moved:.2f} of the probability mass")
    if "mixed_sentiment" in reasons_in:
        value = max(value, _MIXED)
        why.append("mixed sentiment")
    if "sarcasm_flipped" in reasons_in:
        value = 1.0
        why.append("sarcasm flipped the model's positive reading")
    return value, why


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A message worth labelling, its priority and the reasons for it."""

    event_id: str
    customer_id: str
    timestamp: datetime
    text: str
    channel: str
    language: str | None
    model_label: str | None
    model_confidence: float | None
    priority: float
    components: Mapping[str, float]
    new_words: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_record(self) -> dict[str, Any]:
        """One line of ``label suggest --out``: what a labelling tool needs, with the why."""
        return {
            "id": self.event_id,
            "text": self.text,
            "model_label": self.model_label,
            "model_confidence": None if self.model_confidence is None else round(self.model_confidence, 4),
            "priority": round(self.priority, 4),
            "components": {k: round(v, 4) for k, v in self.components.items()},
            "reasons": list(self.reasons),
            "new_words": list(self.new_words),
            "channel": self.channel,
            "language": self.language,
            "timestamp": self.timestamp.isoformat(),
        }


@dataclass
class SuggestionRun:
    """The picks and how the pool was narrowed down."""

    suggestions: list[Suggestion] = field(default_factory=list)
    pool: int = 0
    duplicates: int = 0
    reference_words: int = 0


def _reasons(u: float, confidence: float | None, layer_why: list[str], vocab: float, new: list[str]) -> list[str]:
    out: list[str] = []
    if u >= 0.5:
        conf = "?" if confidence is None else f"{confidence:.2f}"
        out.append(f"uncertain (confidence {conf})")
    out.extend(layer_why)
    if vocab >= 0.2 and new:
        out.append(f"{vocab:.0%} new words: {', '.join(new[:_SHOWN_NEW_WORDS])}")
    return out or ["least certain of the remaining messages"]


def suggest_labels(
    session: Session,
    settings: Settings,
    *,
    limit: int = 20,
    pool: int = 5000,
    as_of: datetime | None = None,
) -> SuggestionRun:
    """Rank the ``pool`` newest unlabelled, scored customer messages and pick ``limit`` diverse ones."""
    if limit < 1 or pool < 1:
        raise InputError("limit and pool must be at least 1", code="invalid_limit", field="limit")
    end = as_of or default_as_of(session)
    vocabulary: set[str] = set()
    if end is not None:
        reference, _ = drift_windows(
            end, current_days=settings.drift_current_days, reference_days=settings.drift_reference_days
        )
        vocabulary = reference_vocabulary(session, reference)
    labelled = exists().where(Feedback.event_id == Message.event_id, Feedback.label.is_not(None))
    rows = session.execute(
        select(
            Message.event_id,
            Message.customer_id,
            Message.timestamp,
            Message.text,
            Message.channel,
            Message.language,
            Message.label,
            Message.confidence,
            Message.analysis,
        )
        .where(
            Message.author == "customer",
            Message.text.is_not(None),
            Message.analysis.is_not(None),
            ~labelled,
        )
        .order_by(Message.timestamp.desc(), Message.event_id)
        .limit(pool)
    ).all()
    done = {
        normalise(t)
        for (t,) in session.execute(
            select(Message.text)
            .join(Feedback, Feedback.event_id == Message.event_id)
            .where(Feedback.label.is_not(None))
        )
    }
    scored: list[Suggestion] = []
    for r in rows:
        analysis: Mapping[str, Any] = r.analysis or {}
        u = uncertainty(analysis.get("probabilities") or {}, r.confidence)
        d, layer_why = layer_disagreement(analysis)
        found = words(r.text)
        new = [w for w in dict.fromkeys(found) if w not in vocabulary] if vocabulary else []
        v = (sum(1 for w in found if w not in vocabulary) / len(found)) if vocabulary and found else 0.0
        components = {"uncertainty": u, "layers": d, "vocabulary": v}
        priority = sum(WEIGHTS[k] * components[k] for k in WEIGHTS)
        scored.append(
            Suggestion(
                event_id=r.event_id,
                customer_id=r.customer_id,
                timestamp=r.timestamp,
                text=r.text,
                channel=r.channel,
                language=r.language,
                model_label=r.label,
                model_confidence=r.confidence,
                priority=priority,
                components=components,
                new_words=tuple(new[:_SHOWN_NEW_WORDS]),
                reasons=tuple(_reasons(u, r.confidence, layer_why, v, new)),
            )
        )
    scored.sort(key=lambda s: (-s.priority, -s.timestamp.timestamp(), s.event_id))
    run = SuggestionRun(pool=len(rows), reference_words=len(vocabulary))
    chosen_keys: set[str] = set(done)
    chosen_shingles: list[frozenset[str]] = []
    for s in scored:
        if len(run.suggestions) >= limit:
            break
        key = normalise(s.text)
        sh = shingles(s.text)
        if key in chosen_keys or _near(sh, chosen_shingles):
            run.duplicates += 1
            continue
        chosen_keys.add(key)
        chosen_shingles.append(sh)
        run.suggestions.append(s)
    return run


def _near(candidate: frozenset[str], chosen: Sequence[frozenset[str]]) -> bool:
    return bool(candidate) and any(jaccard(candidate, c) >= DUPLICATE_JACCARD for c in chosen)
