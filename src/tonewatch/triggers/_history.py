"""A customer's recent events as rules see them, read from the store or from a replay.

Rules count events in windows and drafts quote the customer's issues, so the context carries a
short history: event kind, time and fields, plus for messages the masked text, sentiment and
issue category. Only the window the playbook needs is read, and never anything after ``as_of``
(a chunk being ingested may already hold later events of the same customer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch.store._models import EventRow, HealthSnapshot, Message

from ._context import HistoryItem

__all__ = ["health_points", "history_item", "load_rule_history"]

_MESSAGE_COLUMNS = ("ticket_id", "conversation_id", "channel", "author", "agent_id", "language")


def history_item(
    kind: str,
    timestamp: datetime,
    event_id: str,
    payload: Mapping[str, Any],
    *,
    text: str | None = None,
    analysis: Mapping[str, Any] | None = None,
    category: str | None = None,
) -> HistoryItem:
    """One history item from an event payload plus what scoring attached to it."""
    data: dict[str, Any] = {
        k: v for k, v in payload.items() if k not in ("kind", "event_id", "customer_id", "timestamp", "text")
    }
    if kind == "message":
        data["text"] = text
        if analysis:
            data["label"] = analysis.get("label")
            data["score"] = analysis.get("score")
            data["confidence"] = analysis.get("confidence")
        data["category"] = category
    elif kind == "survey" and "normalized" not in data:
        score, scale = data.get("score"), data.get("scale")
        if isinstance(score, int | float):
            if data.get("survey") == "nps":
                data["normalized"] = float(score) / 10.0
            else:
                top = scale if isinstance(scale, int) and scale >= 2 else 5
                data["normalized"] = (float(score) - 1) / (top - 1)
    return HistoryItem(kind, timestamp, event_id, data)


def load_rule_history(session: Session, customer_id: str, *, since: datetime, until: datetime) -> list[HistoryItem]:
    """Stored (masked) events of a customer with ``since < timestamp <= until``, oldest first."""
    query = (
        select(
            EventRow.kind,
            EventRow.timestamp,
            EventRow.event_id,
            EventRow.payload,
            Message.text,
            Message.analysis,
            Message.category,
        )
        .outerjoin(Message, Message.event_id == EventRow.event_id)
        .where(
            EventRow.customer_id == customer_id,
            EventRow.kind != "customer",
            EventRow.timestamp > since,
            EventRow.timestamp <= until,
        )
        .order_by(EventRow.timestamp, EventRow.event_id)
    )
    items = [
        history_item(
            r.kind, r.timestamp, r.event_id, r.payload or {}, text=r.text, analysis=r.analysis, category=r.category
        )
        for r in session.execute(query)
    ]
    items.sort(key=lambda h: (h.timestamp, h.event_id))
    return items


def health_points(
    session: Session, customer_id: str, *, since: datetime, until: datetime
) -> list[tuple[datetime, float]]:
    """Daily health snapshots in the window: the series ``health_drop`` compares against."""
    rows: Iterable[Any] = session.execute(
        select(HealthSnapshot.as_of, HealthSnapshot.health)
        .where(
            HealthSnapshot.customer_id == customer_id,
            HealthSnapshot.as_of >= since,
            HealthSnapshot.as_of <= until,
        )
        .order_by(HealthSnapshot.as_of)
    )
    return [(r.as_of, float(r.health)) for r in rows]
