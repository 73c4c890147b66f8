"""Builders for the learning tests: scored customer messages written straight into a real store.

The analyses are constructed (no model run), so each test controls exactly what the model
"said": probabilities, confidence, cues and review reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tonewatch.store import Customer, EventRow, Message

NOW = datetime(2026, 5, 12, 14, 0, tzinfo=UTC)

_SIDE = {"positive": 2, "neutral": 1, "negative": 0}


def probabilities(label: str, confidence: float) -> dict[str, float]:
    """A three-way distribution whose top class is ``label`` (mixed: split between the polarities)."""
    if label == "mixed":
        return {"positive": 0.45, "neutral": 0.1, "negative": 0.45}
    rest = (1.0 - confidence) / 2
    out = {"positive": rest, "neutral": rest, "negative": rest}
    out[label] = confidence
    return out


def ensure_customer(session: Session, customer_id: str, **attributes: Any) -> None:
    if session.get(Customer, customer_id) is None:
        session.add(Customer(id=customer_id, attributes=dict(attributes), created_at=NOW, updated_at=NOW))
        session.flush()


def add_message(
    session: Session,
    event_id: str,
    text: str | None,
    *,
    when: datetime = NOW,
    customer: str = "c1",
    label: str = "neutral",
    confidence: float = 0.9,
    score: float | None = None,
    probs: dict[str, float] | None = None,
    cues: Sequence[dict[str, Any]] = (),
    reasons: Sequence[str] = (),
    channel: str = "email",
    language: str = "en",
    ticket: str | None = None,
    segment: str | None = "smb",
    model_version: str = "1.0.0",
) -> Message:
    """One scored customer message (with its event row and customer)."""
    ensure_customer(session, customer, segment=segment)
    p = probs or probabilities(label, confidence)
    value = p["positive"] - p["negative"] if score is None else score
    analysis = {
        "label": label,
        "probabilities": p,
        "score": value,
        "confidence": confidence,
        "needs_review": bool(reasons),
        "review_reasons": list(reasons),
        "emotions": {},
        "goemotions": {},
        "sarcasm": 0.0,
        "urgency": {"level": "low", "score": 0.0},
        "language": language,
        "sentences": [],
        "cues": list(cues),
        "model_version": model_version,
    }
    session.add(
        EventRow(
            event_id=event_id,
            customer_id=customer,
            kind="message",
            timestamp=when,
            payload={"text": text},
            ingested_at=when,
        )
    )
    session.flush()
    row = Message(
        event_id=event_id,
        customer_id=customer,
        ticket_id=ticket,
        channel=channel,
        author="customer",
        timestamp=when,
        text=text,
        pii_kinds=[],
        language=language,
        label=label,
        score=value,
        confidence=confidence,
        needs_review=bool(reasons),
        urgency="low",
        analysis=analysis,
        model_version=model_version,
    )
    session.add(row)
    session.flush()
    return row


def days(n: float) -> timedelta:
    return timedelta(days=n)
