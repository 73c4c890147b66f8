"""Automatic actions: cheap to undo, so they run at once (and are recorded like everything else)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch._errors import InputError

from ._models import AlertRow, QueuePriorityRow, TagRow
from ._tiers import priority_name

__all__ = ["EFFECTS", "apply_effect"]

EFFECTS: frozenset[str] = frozenset({"tag", "set_priority", "alert"})


def _tag(
    session: Session, customer_id: str, params: Mapping[str, Any], rule_id: str | None, now: datetime
) -> dict[str, Any]:
    tag = str(params["tag"])
    existing = session.execute(
        select(TagRow).where(TagRow.customer_id == customer_id, TagRow.tag == tag)
    ).scalar_one_or_none()
    if existing is not None:
        return {"tag": tag, "changed": False}
    session.add(TagRow(customer_id=customer_id, tag=tag, rule_id=rule_id, created_at=now))
    return {"tag": tag, "changed": True}


def _priority(
    session: Session, customer_id: str, params: Mapping[str, Any], rule_id: str | None, now: datetime
) -> dict[str, Any]:
    """Raise the queue priority; a rule never lowers one another rule (or a person) set higher."""
    wanted = int(params["priority"])
    row = session.get(QueuePriorityRow, customer_id)
    if row is None:
        session.add(QueuePriorityRow(customer_id=customer_id, priority=wanted, rule_id=rule_id, set_at=now))
        return {"priority": priority_name(wanted), "changed": True}
    if wanted < row.priority:
        previous = row.priority
        row.priority, row.rule_id, row.set_at = wanted, rule_id, now
        return {"priority": priority_name(wanted), "previous": priority_name(previous), "changed": True}
    return {"priority": priority_name(row.priority), "changed": False}


def _alert(
    session: Session, customer_id: str, params: Mapping[str, Any], rule_id: str | None, now: datetime
) -> dict[str, Any]:
    row = AlertRow(
        customer_id=customer_id,
        rule_id=rule_id,
        severity=str(params.get("severity", "warning")),
        message=str(params["message"]),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return {"alert_id": row.id, "severity": row.severity}


_HANDLERS = {"tag": _tag, "set_priority": _priority, "alert": _alert}


def apply_effect(
    session: Session,
    *,
    customer_id: str,
    action: str,
    params: Mapping[str, Any],
    actor: str,
    rule_id: str | None = None,
    firing_id: int | None = None,
    review_item_id: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Apply one tag / priority / alert and record it in the audit log; returns what changed."""
    from tonewatch.audit import AuditLog

    handler = _HANDLERS.get(action)
    if handler is None:
        raise InputError(f"{action!r} is not an automatic effect; known: {', '.join(sorted(EFFECTS))}", field="action")
    when = (now or datetime.now(UTC)).astimezone(UTC)
    result = handler(session, customer_id, params, rule_id, when)
    session.flush()
    AuditLog(session).record(
        actor,
        f"action.{action}",
        f"customer:{customer_id}",
        {"rule": rule_id, "firing": firing_id, "review_item": review_item_id, **result},
    )
    return result
