"""The review queue: proposed actions wait here for a person, with evidence and a deadline.

Every transition is validated against the life cycle in ``_states`` and recorded in the audit
log with the actor and the reason, in the same transaction as the change. Approving an outreach
item sends it through the :class:`~tonewatch.act.Outbox` with the approver's name on it; the
audit entries carry hashes and counts of texts, never the texts themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch._errors import InputError, InvalidTransitionError, NotFoundError
from tonewatch.act._business_time import business_deadline
from tonewatch.act._effects import EFFECTS, apply_effect
from tonewatch.act._outbox import Outbox, Sender
from tonewatch.act._tiers import Tier, priority_name
from tonewatch.settings import Settings

from ._models import ReviewItemRow
from ._states import OPEN, STATUSES, check_transition

__all__ = ["MESSAGE_ACTIONS", "ReviewItem", "ReviewQueue"]

# Actions whose approval sends text, and to whom.
MESSAGE_ACTIONS: dict[str, str] = {
    "check_in": "customer",
    "acknowledge": "customer",
    "notify_account_manager": "account_manager",
}


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _split_subject(text: str) -> tuple[str | None, str]:
    lines = text.strip().splitlines()
    if lines and lines[0].startswith("Subject:"):
        return lines[0].removeprefix("Subject:").strip() or None, "\n".join(lines[1:]).strip() + "\n"
    return None, text.strip() + "\n"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A read-only view of one review item (what ``tonewatch queue list`` prints)."""

    id: int
    customer_id: str
    rule: str | None
    tier: str
    action: str
    status: str
    priority: int
    due: datetime
    created_at: datetime
    updated_at: datetime
    route_reason: str
    summary: str
    recommendation: str | None
    evidence: Mapping[str, Any]
    draft: str | None
    draft_source: str | None
    final_text: str | None
    decision: str | None
    reason: str | None
    snoozed_until: datetime | None
    decided_by: str | None
    firing_id: int | None
    outbox_id: int | None
    params: Mapping[str, Any]

    @classmethod
    def from_row(cls, row: ReviewItemRow) -> ReviewItem:
        return cls(
            row.id,
            row.customer_id,
            row.rule_id,
            row.tier,
            row.action,
            row.status,
            row.priority,
            row.due,
            row.created_at,
            row.updated_at,
            row.route_reason,
            row.summary,
            row.recommendation,
            dict(row.evidence or {}),
            row.draft,
            row.draft_source,
            row.final_text,
            row.decision,
            row.reason,
            row.snoozed_until,
            row.decided_by,
            row.firing_id,
            row.outbox_id,
            dict(row.params or {}),
        )

    def overdue(self, now: datetime | None = None) -> bool:
        return self.status in OPEN and self.due < _now(now)

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "rule": self.rule,
            "tier": self.tier,
            "action": self.action,
            "status": self.status,
            "priority": self.priority,
            "priority_name": priority_name(self.priority),
            "due": self.due.isoformat(),
            "overdue": self.overdue(now),
            "created_at": self.created_at.isoformat(),
            "route_reason": self.route_reason,
            "summary": self.summary,
            "recommendation": self.recommendation,
            "evidence": dict(self.evidence),
            "draft": self.draft,
            "draft_source": self.draft_source,
            "final_text": self.final_text,
            "decision": self.decision,
            "reason": self.reason,
            "snoozed_until": None if self.snoozed_until is None else self.snoozed_until.isoformat(),
            "decided_by": self.decided_by,
            "firing_id": self.firing_id,
            "outbox_id": self.outbox_id,
        }


class ReviewQueue:
    """Create, list and decide review items within one session (one transaction)."""

    def __init__(self, session: Session, settings: Settings | None = None, *, sender: Sender | None = None) -> None:
        self._session = session
        self.settings = settings or Settings()
        self._sender = sender

    # -- helpers --------------------------------------------------------------------------------
    def _audit(self, actor: str, action: str, row: ReviewItemRow, details: Mapping[str, Any]) -> None:
        from tonewatch.audit import AuditLog

        AuditLog(self._session).record(
            actor,
            action,
            f"review:{row.id}",
            {
                "customer": row.customer_id,
                "rule": row.rule_id,
                "action": row.action,
                "tier": row.tier,
                "status": row.status,
                **details,
            },
        )

    def _row(self, item_id: int) -> ReviewItemRow:
        query = select(ReviewItemRow).where(ReviewItemRow.id == int(item_id))
        if self._session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"no review item {item_id}", field="id")
        return row

    @staticmethod
    def _actor(actor: str) -> str:
        if not isinstance(actor, str) or not actor.strip():
            raise InputError("a review decision needs the person's name (actor)", field="actor")
        return actor.strip()

    def due_for(self, created: datetime) -> datetime:
        s = self.settings
        return business_deadline(
            created, s.sla_business_hours, hours=s.business_hours, days=s.business_days, tz=s.timezone
        )

    # -- creation and reading -------------------------------------------------------------------
    def create(
        self,
        *,
        customer_id: str,
        action: str,
        tier: Tier | str,
        priority: int = 3,
        rule_id: str | None = None,
        firing_id: int | None = None,
        params: Mapping[str, Any] | None = None,
        evidence: Mapping[str, Any] | None = None,
        summary: str = "",
        recommendation: str | None = None,
        draft: str | None = None,
        draft_source: str | None = None,
        route_reason: str = "tier",
        actor: str = "tonewatch",
        now: datetime | None = None,
    ) -> ReviewItem:
        """Queue one proposed action; its deadline is the SLA in business hours from now."""
        when = _now(now)
        row = ReviewItemRow(
            customer_id=customer_id,
            rule_id=rule_id,
            firing_id=firing_id,
            tier=Tier(tier).value,
            action=action,
            params=dict(params or {}),
            route_reason=route_reason,
            status="pending",
            priority=int(priority),
            due=self.due_for(when),
            created_at=when,
            updated_at=when,
            summary=summary,
            recommendation=recommendation,
            evidence=dict(evidence or {}),
            draft=draft,
            draft_source=draft_source,
        )
        self._session.add(row)
        self._session.flush()
        self._audit(
            actor,
            "review.created",
            row,
            {"firing": firing_id, "route": route_reason, "priority": row.priority, "due": row.due.isoformat()},
        )
        return ReviewItem.from_row(row)

    def get(self, item_id: int) -> ReviewItem:
        row = self._session.get(ReviewItemRow, int(item_id))
        if row is None:
            raise NotFoundError(f"no review item {item_id}", field="id")
        return ReviewItem.from_row(row)

    def items(
        self,
        *,
        status: str | Iterable[str] | None = None,
        customer_id: str | None = None,
        rule_id: str | None = None,
        overdue: bool = False,
        limit: int | None = None,
        now: datetime | None = None,
    ) -> list[ReviewItem]:
        """Items, overdue first, then by priority and deadline; ``status`` defaults to open items."""
        statuses = list(OPEN) if status is None else ([status] if isinstance(status, str) else list(status))
        unknown = [s for s in statuses if s not in STATUSES and s != "all"]
        if unknown:
            raise InputError(f"unknown status {unknown[0]!r}; use one of: {', '.join(STATUSES)}, all", field="status")
        query = select(ReviewItemRow)
        if "all" not in statuses:
            query = query.where(ReviewItemRow.status.in_(statuses))
        if customer_id is not None:
            query = query.where(ReviewItemRow.customer_id == customer_id)
        if rule_id is not None:
            query = query.where(ReviewItemRow.rule_id == rule_id)
        items = [ReviewItem.from_row(r) for r in self._session.execute(query).scalars()]
        when = _now(now)
        if overdue:
            items = [i for i in items if i.overdue(when)]
        items.sort(key=lambda i: (not i.overdue(when), i.priority, i.due, i.id))
        return items[:limit] if limit is not None else items

    # -- transitions ----------------------------------------------------------------------------
    def _decidable_by_approval(self, row: ReviewItemRow, verb: str) -> None:
        if row.tier == Tier.HUMAN.value:
            raise InvalidTransitionError(
                f"cannot {verb} review item {row.id}: it is a human-tier decision ({row.action}); "
                "record the decision with 'decide' instead",
                field="tier",
            )

    def approve(
        self, item_id: int, *, actor: str, reason: str | None = None, now: datetime | None = None
    ) -> ReviewItem:
        """Approve as proposed; a message is sent at once, an effect applied at once."""
        actor = self._actor(actor)
        row = self._row(item_id)
        check_transition(row.id, row.status, "approved", "approve")
        self._decidable_by_approval(row, "approve")
        when = _now(now)
        row.status, row.reason, row.decided_by, row.decided_at, row.updated_at = "approved", reason, actor, when, when
        if row.action in MESSAGE_ACTIONS:
            row.final_text = row.draft
        self._session.flush()
        self._audit(
            actor,
            "review.approved",
            row,
            {"reason": reason, "text_sha256": _sha(row.final_text) if row.final_text else None},
        )
        self._carry_out(row, actor, when)
        return ReviewItem.from_row(row)

    def edit(
        self, item_id: int, text: str, *, actor: str, reason: str | None = None, now: datetime | None = None
    ) -> ReviewItem:
        """Replace the draft with a person's text and send it (editing is approving with changes)."""
        actor = self._actor(actor)
        if not isinstance(text, str) or not text.strip():
            raise InputError("the edited text is empty", field="text")
        row = self._row(item_id)
        check_transition(row.id, row.status, "edited", "edit")
        self._decidable_by_approval(row, "edit")
        if row.action not in MESSAGE_ACTIONS:
            raise InvalidTransitionError(
                f"cannot edit review item {row.id}: {row.action} has no text to edit; approve or reject it",
                field="action",
            )
        when = _now(now)
        before = row.draft or ""
        row.status, row.final_text, row.reason = "edited", text.strip() + "\n", reason
        row.decided_by, row.decided_at, row.updated_at = actor, when, when
        self._session.flush()
        self._audit(
            actor,
            "review.edited",
            row,
            {
                "reason": reason,
                "draft_sha256": _sha(before) if before else None,
                "text_sha256": _sha(row.final_text),
                "chars_before": len(before),
                "chars_after": len(row.final_text),
            },
        )
        self._carry_out(row, actor, when)
        return ReviewItem.from_row(row)

    def reject(self, item_id: int, *, actor: str, reason: str, now: datetime | None = None) -> ReviewItem:
        """Reject with a reason (required: it is how the playbook gets better)."""
        actor = self._actor(actor)
        if not isinstance(reason, str) or not reason.strip():
            raise InputError("rejecting needs a reason", field="reason")
        row = self._row(item_id)
        check_transition(row.id, row.status, "rejected", "reject")
        when = _now(now)
        row.status, row.reason, row.decided_by, row.decided_at, row.updated_at = (
            "rejected",
            reason.strip(),
            actor,
            when,
            when,
        )
        self._session.flush()
        self._audit(actor, "review.rejected", row, {"reason": row.reason})
        return ReviewItem.from_row(row)

    def snooze(
        self, item_id: int, *, actor: str, until: datetime, reason: str | None = None, now: datetime | None = None
    ) -> ReviewItem:
        actor = self._actor(actor)
        when = _now(now)
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        if until <= when:
            raise InputError("snooze until a time in the future", field="until")
        row = self._row(item_id)
        check_transition(row.id, row.status, "snoozed", "snooze")
        row.status, row.snoozed_until, row.reason, row.updated_at = "snoozed", until.astimezone(UTC), reason, when
        self._session.flush()
        self._audit(actor, "review.snoozed", row, {"until": row.snoozed_until.isoformat(), "reason": reason})
        return ReviewItem.from_row(row)

    def decide(
        self,
        item_id: int,
        *,
        actor: str,
        decision: str,
        reason: str | None = None,
        message: str | None = None,
        now: datetime | None = None,
    ) -> ReviewItem:
        """Record a person's decision on a human-tier item; ``message`` (their words) is sent if given."""
        actor = self._actor(actor)
        if not isinstance(decision, str) or not decision.strip():
            raise InputError("record what was decided", field="decision")
        row = self._row(item_id)
        if row.tier != Tier.HUMAN.value:
            raise InvalidTransitionError(
                f"cannot decide review item {row.id}: it is a {row.tier}-tier item; approve, edit or reject it",
                field="tier",
            )
        check_transition(row.id, row.status, "decided", "decide")
        when = _now(now)
        row.status, row.decision, row.reason = "decided", decision.strip(), reason
        row.decided_by, row.decided_at, row.updated_at = actor, when, when
        if message and message.strip():
            row.final_text = message.strip() + "\n"
        self._session.flush()
        self._audit(
            actor,
            "review.decided",
            row,
            {
                "decision": row.decision,
                "reason": reason,
                "text_sha256": _sha(row.final_text) if row.final_text else None,
            },
        )
        if row.final_text:
            subject, body = _split_subject(row.final_text)
            out = Outbox(self._session, self._sender).send(
                customer_id=row.customer_id,
                body=body,
                subject=subject,
                approved_by=actor,
                channel=str(row.params.get("channel", "email")),
                rule_id=row.rule_id,
                review_item_id=row.id,
                now=when,
            )
            row.outbox_id = out.id
        return ReviewItem.from_row(row)

    def wake(self, *, now: datetime | None = None) -> list[ReviewItem]:
        """Snoozed items whose time has come go back to pending (recorded)."""
        when = _now(now)
        rows = (
            self._session.execute(
                select(ReviewItemRow).where(ReviewItemRow.status == "snoozed", ReviewItemRow.snoozed_until <= when)
            )
            .scalars()
            .all()
        )
        woken: list[ReviewItem] = []
        for row in rows:
            check_transition(row.id, row.status, "pending", "wake")
            row.status, row.updated_at = "pending", when
            self._session.flush()
            self._audit("tonewatch", "review.woke", row, {})
            woken.append(ReviewItem.from_row(row))
        return woken

    # -- carrying out an approved item ----------------------------------------------------------
    def _carry_out(self, row: ReviewItemRow, actor: str, when: datetime) -> None:
        if row.action in MESSAGE_ACTIONS:
            subject, body = _split_subject(row.final_text or "")
            out = Outbox(self._session, self._sender).send(
                customer_id=row.customer_id,
                body=body,
                subject=subject,
                approved_by=actor,
                recipient=MESSAGE_ACTIONS[row.action],
                channel=str(row.params.get("channel", "email")),
                rule_id=row.rule_id,
                review_item_id=row.id,
                now=when,
            )
            row.outbox_id = out.id
            if out.status == "sent":
                check_transition(row.id, row.status, "sent", "send")
                row.status, row.updated_at = "sent", when
                self._session.flush()
                self._audit(actor, "review.sent", row, {"outbox": out.id})
        elif row.action in EFFECTS:
            apply_effect(
                self._session,
                customer_id=row.customer_id,
                action=row.action,
                params=row.params,
                actor=actor,
                rule_id=row.rule_id,
                firing_id=row.firing_id,
                review_item_id=row.id,
                now=when,
            )

    def retry_send(self, item_id: int, *, actor: str, now: datetime | None = None) -> ReviewItem:
        """Send an approved or edited message again after its sender failed."""
        actor = self._actor(actor)
        row = self._row(item_id)
        if row.status not in ("approved", "edited") or row.action not in MESSAGE_ACTIONS:
            raise InvalidTransitionError(f"cannot send review item {row.id}: it is {row.status}", field="status")
        self._carry_out(row, actor, _now(now))
        return ReviewItem.from_row(row)

    # ``queue.list(...)`` reads naturally at call sites; it is the same as ``items``.
    list = items
