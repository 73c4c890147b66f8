"""The outbox: the one door every outgoing message passes through.

A message is written to the ``outbox`` table in the caller's transaction, then handed to a
pluggable :class:`Sender` (default: none beyond the table, for a relay to pick up; or a JSONL
file). Nothing here opens a network connection. The door enforces the guardrails a second time,
whatever the caller did: text about feelings, or a promise of money, never leaves without a
person's name on it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tonewatch._errors import InputError, PermissionDeniedError

from ._guardrail import mentions_feelings, promises_compensation
from ._models import OutboxRow

__all__ = ["JsonlSender", "OutboundMessage", "Outbox", "Sender", "TableSender"]


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    id: int
    customer_id: str
    recipient: str
    channel: str
    subject: str | None
    body: str
    approved_by: str | None
    automatic: bool
    rule_id: str | None
    review_item_id: int | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "recipient": self.recipient,
            "channel": self.channel,
            "subject": self.subject,
            "body": self.body,
            "approved_by": self.approved_by,
            "automatic": self.automatic,
            "rule_id": self.rule_id,
            "review_item_id": self.review_item_id,
            "created_at": self.created_at.isoformat(),
        }


class Sender(Protocol):
    """Delivers one message; raising leaves the row ``failed`` with the error for a retry."""

    name: str

    def deliver(self, message: OutboundMessage) -> None: ...


class TableSender:
    """The default: the outbox row *is* the delivery, for a helpdesk relay to read."""

    name = "outbox-table"

    def deliver(self, message: OutboundMessage) -> None:
        return None


class JsonlSender:
    """Appends each message as one JSON line to a file (a mail relay or a test can tail it)."""

    name = "jsonl"
    _lock = threading.Lock()

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def deliver(self, message: OutboundMessage) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(message.to_dict(), ensure_ascii=False, sort_keys=True)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class Outbox:
    """Queue and hand over outgoing messages, recording each in the audit log."""

    def __init__(self, session: Session, sender: Sender | None = None) -> None:
        self._session = session
        self._sender: Sender = sender or TableSender()

    def send(
        self,
        *,
        customer_id: str,
        body: str,
        approved_by: str | None,
        recipient: str = "customer",
        channel: str = "email",
        subject: str | None = None,
        rule_id: str | None = None,
        review_item_id: int | None = None,
        now: datetime | None = None,
    ) -> OutboxRow:
        """Write and deliver one message; ``approved_by=None`` means sent automatically.

        Raises :class:`PermissionDeniedError` when an automatic message mentions the customer's
        feelings or offers compensation: only a person may send those.
        """
        from tonewatch.audit import AuditLog

        if not body or not body.strip():
            raise InputError("an outgoing message needs a body", field="body")
        automatic = approved_by is None
        if automatic and recipient == "customer":
            feelings = mentions_feelings(body)
            if feelings:
                raise PermissionDeniedError(
                    f"outreach mentioning the customer's feelings ({', '.join(sorted(set(feelings)))}) "
                    "needs a person's approval; it is never sent automatically",
                    code="emotional_outreach_needs_approval",
                    field="body",
                )
            promises = promises_compensation(body)
            if promises:
                raise PermissionDeniedError(
                    f"outreach offering compensation ({', '.join(sorted(set(promises)))}) must be sent by a person",
                    code="compensation_needs_a_person",
                    field="body",
                )
        when = (now or datetime.now(UTC)).astimezone(UTC)
        row = OutboxRow(
            customer_id=customer_id,
            recipient=recipient,
            channel=channel,
            subject=subject,
            body=body,
            rule_id=rule_id,
            review_item_id=review_item_id,
            approved_by=approved_by,
            automatic=automatic,
            status="queued",
            sender=self._sender.name,
            created_at=when,
        )
        self._session.add(row)
        self._session.flush()
        message = OutboundMessage(
            row.id,
            customer_id,
            recipient,
            channel,
            subject,
            body,
            approved_by,
            automatic,
            rule_id,
            review_item_id,
            when,
        )
        try:
            self._sender.deliver(message)
        except Exception as exc:  # a sender's failure must not lose the message: it stays queued for a retry
            row.status, row.error = "failed", str(exc)[:500]
        else:
            row.status, row.sent_at = "sent", when
        self._session.flush()
        AuditLog(self._session).record(
            approved_by or "tonewatch",
            "outreach.sent" if row.status == "sent" else "outreach.failed",
            f"customer:{customer_id}",
            {
                "outbox_id": row.id,
                "recipient": recipient,
                "channel": channel,
                "rule": rule_id,
                "review_item": review_item_id,
                "automatic": automatic,
                "sender": self._sender.name,
                "chars": len(body),
            },
        )
        return row
