"""Labelling from the dashboard: a reviewer's correction of one message's sentiment label.

The label form on the Customer page posts here. The correction goes through
:func:`tonewatch.learn.record_label`, the path ``tonewatch label`` takes (validated before
anything is written, stored as a ``Feedback`` row, recorded in the audit log), so a label
given in the browser is the same kind of vote: one per reviewer and message, the latest wins.
Only roles holding the API's ``feedback.write`` permission (that of ``POST /v1/feedback``)
see the form or may post it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch._errors import NotFoundError

if TYPE_CHECKING:
    from tonewatch.api._services import Services

    from ._access import Visitor

__all__ = ["LABEL_CHOICES", "label_message", "message_customer", "own_labels"]

# The labels a reviewer may give, in the form's order (``record_label`` checks them again).
LABEL_CHOICES: tuple[str, ...] = ("positive", "neutral", "negative", "mixed")


def own_labels(session: Session, actor: str, event_ids: Iterable[str]) -> dict[str, str]:
    """``actor``'s current label per message: their latest, the one their vote counts as."""
    from tonewatch.store import Feedback

    ids = sorted(set(event_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Feedback.event_id, Feedback.label)
        .where(Feedback.actor == actor, Feedback.label.is_not(None), Feedback.event_id.in_(ids))
        .order_by(Feedback.created_at, Feedback.id)
    )
    return {str(event_id): str(label) for event_id, label in rows}


def message_customer(services: Services, event_id: str) -> str:
    """The customer whose message ``event_id`` is; :class:`NotFoundError` for an unknown message."""
    from tonewatch.store import Message

    with services.store.session(readonly=True) as session:
        message = session.get(Message, event_id)
        if message is None:
            raise NotFoundError(f"no stored message {event_id!r}", code="unknown_message", field="event_id")
        return str(message.customer_id)


def label_message(services: Services, visitor: Visitor, event_id: str, form: dict[str, str]) -> str:
    """Record the visitor's label (``label``, optional ``why``) for message ``event_id``; the label given.

    Raises the same errors as ``tonewatch label``, before anything is written: an unknown label
    or an overlong reason (:class:`~tonewatch.InputError`), an unknown message (:class:`NotFoundError`).
    """
    from tonewatch.learn._labels import record_label

    label = (form.get("label") or "").strip()
    with services.store.session() as session:
        row = record_label(session, event_id, label=label, actor=visitor.actor, why=form.get("why"))
        return str(row.label)
