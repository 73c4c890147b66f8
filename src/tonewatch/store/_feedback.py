"""Corrections of analyses by people: the quality signal and the next model's training data.

A correction is stored next to the analysis it corrects (which stays as the model produced
it, so model quality can be measured) and recorded in the audit log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tonewatch._errors import InputError, NotFoundError

from ._models import Feedback, Message

__all__ = ["FEEDBACK_LABELS", "add_feedback"]

FEEDBACK_LABELS = frozenset({"positive", "neutral", "negative", "mixed"})


def add_feedback(
    session: Session,
    event_id: str,
    *,
    actor: str,
    label: str | None = None,
    score: float | None = None,
    category: str | None = None,
    emotions: Mapping[str, float] | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Feedback:
    """Record ``actor``'s correction of the analysis of message ``event_id``."""
    from tonewatch.audit import AuditLog

    message = session.get(Message, event_id)
    if message is None:
        raise NotFoundError(f"no message {event_id!r}", field="event_id")
    if label is None and score is None and category is None and not emotions:
        raise InputError("a correction needs a label, score, category or emotions", code="empty_feedback")
    if label is not None and label not in FEEDBACK_LABELS:
        raise InputError(f"label must be one of {sorted(FEEDBACK_LABELS)}", field="label")
    if score is not None and not (math.isfinite(score) and -1.0 <= score <= 1.0):
        raise InputError("score must be between -1 and 1", field="score")
    if category is not None and not 0 < len(category) <= 60:
        raise InputError("category must be 1 to 60 characters", field="category")
    row = Feedback(
        event_id=event_id,
        customer_id=message.customer_id,
        actor=actor,
        created_at=(now or datetime.now(UTC)),
        label=label,
        score=score,
        category=category,
        emotions=dict(emotions) if emotions else None,
        note=note,
        model_version=message.model_version,
    )
    session.add(row)
    session.flush()
    AuditLog(session).record(
        actor,
        "analysis.corrected",
        f"message:{event_id}",
        {
            "feedback": row.id,
            "model_version": message.model_version,
            "label": [message.label, label],
            "category": [message.category, category],
        },
    )
    return row
