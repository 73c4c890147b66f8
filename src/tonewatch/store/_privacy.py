"""Privacy operations customers are entitled to: export, erasure, and text retention.

- ``export_customer``: everything stored about one customer, as one JSON document.
- ``erase_customer``: removes the customer's texts (masked and encrypted), personal
  attributes and quotes, keeps scores, counts and the audit chain (audit entries hold ids
  and counts, never personal data, so the chain stays valid).
- ``purge_texts``: retention; message text (and survey comments, ticket subjects) older
  than a cutoff is removed, scores and audit entries stay.

Each operation records an audit entry in the same transaction. Customer states and reports
quote masked text, so they are rebuilt from the scrubbed history afterwards. Other stages
whose tables hold customer text register an eraser with :func:`register_eraser`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tonewatch._errors import NotFoundError

from ._models import Customer, EventRow, Feedback, HealthSnapshot, Message, Outcome, Survey, Ticket, Usage

if TYPE_CHECKING:
    from tonewatch.ingest._state import HealthModel
    from tonewatch.mask import RawTextVault

__all__ = [
    "NON_PERSONAL_ATTRIBUTES",
    "ErasureReport",
    "PurgeReport",
    "customer_subject",
    "erase_customer",
    "export_customer",
    "purge_texts",
    "register_eraser",
    "scrub_analysis",
]

# Attributes that describe the account, not the person: kept through erasure.
NON_PERSONAL_ATTRIBUTES = frozenset(
    {"plan", "segment", "signup_date", "renewal_date", "account_value", "language", "tier", "region"}
)
# Free-text fields of event payloads (masked, but still the customer's words).
_PAYLOAD_TEXT = ("subject", "comment", "text")
_BATCH = 500

Eraser = Callable[[Session, str], int]
_ERASERS: list[tuple[str, Eraser]] = []


def register_eraser(name: str, eraser: Eraser) -> None:
    """Add a function that removes one customer's personal data from another stage's tables.

    It receives the session and the customer id and returns how many rows it changed; it
    runs inside the erasure transaction. Registering the same name twice replaces it.
    """
    _ERASERS[:] = [(n, e) for n, e in _ERASERS if n != name]
    _ERASERS.append((name, eraser))


def customer_subject(customer_id: str) -> str:
    """The audit ``subject`` of everything about one customer."""
    return f"customer:{customer_id}"


def scrub_analysis(analysis: dict[str, Any] | None) -> dict[str, Any] | None:
    """An analysis without any text: sentence texts and cue spans emptied, offsets and scores kept."""
    if not analysis:
        return analysis
    out = dict(analysis)
    out["sentences"] = [{**s, "text": ""} for s in analysis.get("sentences", ())]
    out["cues"] = [{**c, "span": ""} for c in analysis.get("cues", ())]
    return out


def _scrub_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in _PAYLOAD_TEXT}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def export_customer(
    session: Session, customer_id: str, *, actor: str = "system", vault: RawTextVault | None = None
) -> dict[str, Any]:
    """Everything stored about ``customer_id`` (raw text decrypted when ``vault`` is given)."""
    from tonewatch.audit import AuditLog

    c = session.get(Customer, customer_id)
    if c is None:
        raise NotFoundError(f"no customer {customer_id!r}", field="customer_id")
    by_time = Message.timestamp, Message.event_id
    messages = []
    raw_included = 0
    for m in session.scalars(select(Message).where(Message.customer_id == customer_id).order_by(*by_time)):
        item: dict[str, Any] = {
            "event_id": m.event_id,
            "timestamp": _iso(m.timestamp),
            "channel": m.channel,
            "author": m.author,
            "ticket_id": m.ticket_id,
            "text": m.text,
            "text_removed_at": _iso(m.text_purged_at),
            "language": m.language,
            "category": m.category,
            "label": m.label,
            "score": m.score,
            "confidence": m.confidence,
            "urgency": m.urgency,
            "model_version": m.model_version,
            "personal_data_found": m.pii_kinds,
        }
        if vault is not None and m.raw_text_encrypted:
            item["raw_text"] = vault.decrypt(m.raw_text_encrypted)
            raw_included += 1
        messages.append(item)

    def rows(model: Any, *columns: str) -> list[dict[str, Any]]:
        q = select(model).where(model.customer_id == customer_id)
        out = []
        for r in session.scalars(q):
            out.append({k: (_iso(v) if isinstance(v, datetime) else v) for k in columns for v in [getattr(r, k)]})
        return sorted(out, key=lambda d: str(d.get("timestamp") or d.get("opened_at") or d.get("day") or ""))

    doc = {
        "customer": {
            "id": c.id,
            "attributes": c.attributes,
            "health": c.health,
            "band": c.band,
            "report": c.report,
            "created_at": _iso(c.created_at),
            "erased_at": _iso(c.erased_at),
        },
        "messages": messages,
        "tickets": rows(
            Ticket, "ticket_id", "status", "subject", "category", "opened_at", "updated_at", "reopen_count"
        ),
        "surveys": rows(Survey, "event_id", "timestamp", "survey", "score", "scale", "comment"),
        "usage": rows(Usage, "event_id", "timestamp", "metric", "value"),
        "outcomes": rows(Outcome, "event_id", "timestamp", "outcome"),
        "health_history": rows(HealthSnapshot, "day", "health", "band", "level", "declining"),
        "feedback": rows(Feedback, "event_id", "created_at", "label", "score", "category", "note"),
    }
    log = AuditLog(session)
    subject = customer_subject(customer_id)
    doc["audit"] = [e.to_dict() for e in log.iter_entries(subject=subject)]
    log.record(actor, "privacy.export", subject, {"messages": len(messages), "raw_text_included": raw_included})
    return doc


@dataclass(slots=True)
class ErasureReport:
    customer_id: str
    messages: int = 0
    surveys: int = 0
    tickets: int = 0
    attributes_removed: list[str] = field(default_factory=list)
    other: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "messages": self.messages,
            "surveys": self.surveys,
            "tickets": self.tickets,
            "attributes_removed": self.attributes_removed,
            "other": self.other,
        }


def _scrub_events(session: Session, event_ids: Iterable[str]) -> None:
    ids = list(event_ids)
    for i in range(0, len(ids), _BATCH):
        for row in session.scalars(select(EventRow).where(EventRow.event_id.in_(ids[i : i + _BATCH]))):
            if any(k in row.payload for k in _PAYLOAD_TEXT):
                row.payload = _scrub_payload(row.payload)


def _scrub_messages(session: Session, messages: Iterable[Message], now: datetime) -> int:
    n = 0
    for m in messages:
        m.text = None
        m.raw_text_encrypted = None
        m.analysis = scrub_analysis(m.analysis)
        m.text_purged_at = m.text_purged_at or now
        n += 1
    return n


def erase_customer(
    session: Session, customer_id: str, *, actor: str, now: datetime, model: HealthModel | None = None
) -> ErasureReport:
    """Remove a customer's texts and personal attributes; keep scores; record it in the audit log."""
    from tonewatch.audit import AuditLog

    from ._tables import load_all_tables

    c = session.get(Customer, customer_id)
    if c is None:
        raise NotFoundError(f"no customer {customer_id!r}", field="customer_id")
    report = ErasureReport(customer_id)
    msgs = list(session.scalars(select(Message).where(Message.customer_id == customer_id)))
    report.messages = _scrub_messages(session, msgs, now)
    surveys = list(session.scalars(select(Survey).where(Survey.customer_id == customer_id)))
    for s in surveys:
        report.surveys += int(s.comment is not None)
        s.comment = None
    tickets = list(
        session.scalars(select(Ticket).where(Ticket.customer_id == customer_id, Ticket.subject.is_not(None)))
    )
    for t in tickets:
        t.subject = None
    report.tickets = len(tickets)
    session.execute(update(Feedback).where(Feedback.customer_id == customer_id).values(note=None))
    event_ids = session.scalars(select(EventRow.event_id).where(EventRow.customer_id == customer_id)).all()
    _scrub_events(session, event_ids)
    attrs = dict(c.attributes or {})
    report.attributes_removed = sorted(k for k in attrs if k not in NON_PERSONAL_ATTRIBUTES)
    c.attributes = {k: v for k, v in attrs.items() if k in NON_PERSONAL_ATTRIBUTES}
    c.erased_at = now
    c.updated_at = now
    load_all_tables()  # lets other stages' modules register their erasers
    for name, eraser in list(_ERASERS):
        report.other[name] = int(eraser(session, customer_id))
    session.flush()
    _rebuild(session, [c], now, model)
    details = report.to_dict()
    del details["customer_id"]
    AuditLog(session).record(actor, "privacy.erase", customer_subject(customer_id), details)
    return report


@dataclass(slots=True)
class PurgeReport:
    cutoff: datetime
    messages: int = 0
    surveys: int = 0
    tickets: int = 0
    customers: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "messages": self.messages,
            "surveys": self.surveys,
            "tickets": self.tickets,
            "customers": self.customers,
        }


def purge_texts(
    session: Session,
    cutoff: datetime,
    *,
    actor: str,
    now: datetime,
    model: HealthModel | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PurgeReport:
    """Remove message text, survey comments and ticket subjects older than ``cutoff``.

    Scores, categories and labels stay (trends keep working); affected customers' states
    and reports are rebuilt so no quote of purged text survives in them.
    """
    from tonewatch.audit import AuditLog

    report = PurgeReport(cutoff)
    touched: set[str] = set()
    while True:
        batch = list(
            session.scalars(
                select(Message)
                .where(Message.timestamp < cutoff, Message.text.is_not(None))
                .order_by(Message.timestamp)
                .limit(_BATCH)
            )
        )
        if not batch:
            break
        touched.update(m.customer_id for m in batch)
        report.messages += _scrub_messages(session, batch, now)
        session.flush()
        if on_progress is not None:
            on_progress(len(batch))
    surveys = list(session.scalars(select(Survey).where(Survey.timestamp < cutoff, Survey.comment.is_not(None))))
    for s in surveys:
        s.comment = None
        touched.add(s.customer_id)
    report.surveys = len(surveys)
    tickets = list(session.scalars(select(Ticket).where(Ticket.updated_at < cutoff, Ticket.subject.is_not(None))))
    for t in tickets:
        t.subject = None
        touched.add(t.customer_id)
    report.tickets = len(tickets)
    old_events = session.scalars(
        select(EventRow.event_id).where(EventRow.timestamp < cutoff, EventRow.kind.in_(("survey", "ticket")))
    ).all()
    _scrub_events(session, old_events)
    session.flush()
    ids = sorted(touched)
    for i in range(0, len(ids), _BATCH):
        customers = list(session.scalars(select(Customer).where(Customer.id.in_(ids[i : i + _BATCH]))))
        _rebuild(session, customers, now, model)
    report.customers = len(ids)
    AuditLog(session).record(actor, "privacy.purge", "messages", report.to_dict())
    return report


def _rebuild(session: Session, customers: list[Customer], now: datetime, model: HealthModel | None) -> None:
    """Replay each customer's (scrubbed) history so state and report quote nothing removed."""
    from tonewatch.ingest._replay import load_history
    from tonewatch.ingest._state import HealthModel, snapshot_values

    model = model or HealthModel()
    for c in customers:
        if c.last_event_at is None:
            continue
        history = load_history(session, c.id)
        if not history:
            continue
        state = model.replay(c.id, c.attributes or {}, history)
        as_of = c.as_of or c.last_event_at
        report = model.report(state, as_of, c.attributes)
        values = snapshot_values(report)
        c.state = state.to_state()
        c.report = report.to_dict()
        c.health = values["health"]
        c.band = values["band"]
        c.updated_at = now
