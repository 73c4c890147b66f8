"""Rebuild events from the store, so customer state can be replayed from history.

Used when an event arrives older than what a customer's state already holds, for
``--as-of`` reports and backtests, and after erasure. Events come back masked, in the one
canonical order ``(timestamp, event_id)`` that incremental ingestion also follows, so a
replay reaches exactly the state that in-order arrival would have.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tonewatch.store._models import EventRow, Message

from .events import parse_event

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from .events import Event

__all__ = ["PURGED_TEXT", "StoredEvent", "iter_histories", "load_history", "stored_event"]

# Stands in for message text removed by retention or erasure (the event format needs a text).
PURGED_TEXT = "[text removed]"
_IN_BATCH = 500


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A stored event with what scoring attached to it."""

    event: Event
    analysis: Analysis | None
    category: str | None

    @property
    def key(self) -> tuple[datetime, str]:
        ts = self.event.timestamp
        assert ts is not None
        return ts, str(self.event.event_id)


def stored_event(
    payload: dict[str, Any], text: str | None, analysis: dict[str, Any] | None, category: str | None
) -> StoredEvent:
    """Reassemble one event from its row(s)."""
    from tonewatch.score._analysis import Analysis

    data = dict(payload)
    if data.get("kind") == "message":
        data["text"] = text or PURGED_TEXT
    elif data.get("kind") == "ticket":
        category = data.get("category")
    event = parse_event(data)
    return StoredEvent(event, Analysis.from_dict(analysis) if analysis else None, category)


def _query(until: datetime | None) -> Select[Any]:
    q = (
        select(EventRow.customer_id, EventRow.payload, Message.text, Message.analysis, Message.category)
        .outerjoin(Message, Message.event_id == EventRow.event_id)
        .where(EventRow.kind != "customer")
    )
    if until is not None:
        q = q.where(EventRow.timestamp <= until)
    return q


def load_history(session: Session, customer_id: str, *, until: datetime | None = None) -> list[StoredEvent]:
    """Every stored (non-customer) event of one customer up to ``until``, in canonical order."""
    q = _query(until).where(EventRow.customer_id == customer_id).order_by(EventRow.timestamp, EventRow.event_id)
    events = [stored_event(r.payload, r.text, r.analysis, r.category) for r in session.execute(q)]
    # Sort again in Python: database collations may order ids differently from code points.
    events.sort(key=lambda e: e.key)
    return events


def iter_histories(
    session: Session, customer_ids: Iterable[str] | None = None, *, until: datetime | None = None
) -> Iterator[tuple[str, list[StoredEvent]]]:
    """``(customer_id, history)`` for many customers, streamed in one ordered pass per batch."""
    batches: Iterable[list[str] | None]
    if customer_ids is None:
        batches = [None]
    else:
        ids = sorted(set(customer_ids))
        batches = [ids[i : i + _IN_BATCH] for i in range(0, len(ids), _IN_BATCH)]
    for batch in batches:
        q = _query(until)
        if batch is not None:
            q = q.where(EventRow.customer_id.in_(batch))
        q = q.order_by(EventRow.customer_id, EventRow.timestamp, EventRow.event_id)
        current: str | None = None
        events: list[StoredEvent] = []
        for r in session.execute(q.execution_options(yield_per=2000)):
            if r.customer_id != current:
                if current is not None:
                    yield current, sorted(events, key=lambda e: e.key)
                current, events = r.customer_id, []
            events.append(stored_event(r.payload, r.text, r.analysis, r.category))
        if current is not None:
            yield current, sorted(events, key=lambda e: e.key)
