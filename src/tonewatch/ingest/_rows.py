"""Database rows for prepared events (plain dicts, for bulk inserts).

The event payload is the masked event itself minus the message text (which lives only in
``messages.text``, the one place retention and erasure have to clear). Customer events
keep only the attribute names: attribute values live in ``customers.attributes`` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ._prepare import Prepared
from .events import MessageEvent, OutcomeEvent, SurveyEvent, UsageEvent

__all__ = ["event_payload", "event_row", "message_row", "outcome_row", "survey_row", "usage_row"]


def event_payload(p: Prepared) -> dict[str, Any]:
    if p.event.kind == "customer":
        return {"kind": "customer", "customer_id": p.customer_id, "attribute_keys": sorted(p.event.attributes)}
    payload: dict[str, Any] = p.event.model_dump(mode="json", exclude_none=True)
    if p.event.kind == "message":
        payload.pop("text", None)
    return payload


def event_row(p: Prepared, now: datetime) -> dict[str, Any]:
    return {
        "event_id": p.event_id,
        "customer_id": p.customer_id,
        "kind": p.kind,
        "timestamp": p.timestamp or now,
        "payload": event_payload(p),
        "ingested_at": now,
    }


def message_row(p: Prepared, encrypt: Callable[[str], str] | None) -> dict[str, Any]:
    ev = p.event
    assert isinstance(ev, MessageEvent)
    a = p.analysis
    return {
        "event_id": p.event_id,
        "customer_id": ev.customer_id,
        "ticket_id": ev.ticket_id,
        "conversation_id": ev.conversation_id,
        "channel": ev.channel,
        "author": ev.author,
        "agent_id": ev.agent_id,
        "timestamp": ev.timestamp,
        "text": ev.text,
        "text_purged_at": None,
        "raw_text_encrypted": encrypt(p.raw_text) if (encrypt is not None and p.raw_text is not None) else None,
        "pii_kinds": list(p.pii_kinds),
        "language": a.language if a is not None else ev.language,
        "category": p.category,
        "label": a.label if a is not None else None,
        "score": a.score if a is not None else None,
        "confidence": a.confidence if a is not None else None,
        "needs_review": a.needs_review if a is not None else None,
        "urgency": a.urgency.level if a is not None else None,
        "analysis": p.analysis_dict if p.analysis_dict is not None else (a.to_dict() if a is not None else None),
        "model_version": a.model_version if a is not None else None,
    }


def survey_row(p: Prepared) -> dict[str, Any]:
    ev = p.event
    assert isinstance(ev, SurveyEvent)
    a = p.comment_analysis
    return {
        "event_id": p.event_id,
        "customer_id": ev.customer_id,
        "timestamp": ev.timestamp,
        "survey": ev.survey,
        "score": ev.score,
        "scale": ev.scale,
        "normalized": ev.normalized,
        "comment": ev.comment,
        "comment_label": a.label if a is not None else None,
        "comment_score": a.score if a is not None else None,
    }


def usage_row(p: Prepared) -> dict[str, Any]:
    ev = p.event
    assert isinstance(ev, UsageEvent)
    return {
        "event_id": p.event_id,
        "customer_id": ev.customer_id,
        "timestamp": ev.timestamp,
        "metric": ev.metric,
        "value": ev.value,
    }


def outcome_row(p: Prepared) -> dict[str, Any]:
    ev = p.event
    assert isinstance(ev, OutcomeEvent)
    return {"event_id": p.event_id, "customer_id": ev.customer_id, "timestamp": ev.timestamp, "outcome": ev.outcome}
