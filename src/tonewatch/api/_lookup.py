"""Small reads of the customer store that the visibility policy depends on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch.store import Ticket

if TYPE_CHECKING:
    from ._services import Services
    from ._visibility import Viewer

__all__ = ["CLOSED_STATUSES", "closed_tickets", "conversation_closed", "has_open_ticket", "ticket_closed"]

CLOSED_STATUSES = frozenset({"resolved", "closed"})


def ticket_closed(session: Session, ticket_id: str) -> bool:
    """True when the stored ticket's latest status is resolved or closed (unknown: False)."""
    status = session.scalar(select(Ticket.status).where(Ticket.ticket_id == ticket_id))
    return status in CLOSED_STATUSES


def closed_tickets(session: Session, ticket_ids: Iterable[str | None]) -> set[str]:
    """Which of ``ticket_ids`` are over, in one query."""
    ids = {t for t in ticket_ids if t}
    if not ids:
        return set()
    rows = session.execute(select(Ticket.ticket_id, Ticket.status).where(Ticket.ticket_id.in_(ids)))
    return {tid for tid, status in rows if status in CLOSED_STATUSES}


def has_open_ticket(session: Session, customer_id: str) -> bool:
    """Whether the customer is in a conversation that is not over yet."""
    stmt = (
        select(Ticket.ticket_id)
        .where(Ticket.customer_id == customer_id, Ticket.status.not_in(CLOSED_STATUSES))
        .limit(1)
    )
    return session.scalar(stmt) is not None


def conversation_closed(services: Services, viewer: Viewer, ticket_id: str | None) -> bool | None:
    """Whether a request's conversation is over; looked up only when the policy depends on it."""
    if viewer.policy != "post_conversation" or ticket_id is None:
        return None
    with services.store.session(readonly=True) as session:
        return ticket_closed(session, ticket_id)
