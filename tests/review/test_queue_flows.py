"""Review queue flows on a real store: approve, edit, reject, snooze, decide; every step audited."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from proactive_fixtures import NOW, add_customer, context
from sqlalchemy import select

from tonewatch._errors import InputError, InvalidTransitionError, NotFoundError
from tonewatch.act import JsonlSender, OutboxRow
from tonewatch.audit import AuditLog
from tonewatch.review import ReviewQueue
from tonewatch.settings import Settings
from tonewatch.store import Store
from tonewatch.triggers import TriggerHook, parse_playbook

SETTINGS = Settings(holdout_fraction=0.0, sla_business_hours=4, business_hours=(9, 17), timezone="UTC")
PLAYBOOK = parse_playbook(
    """
name: review
rules:
  - id: repeat-billing
    description: Third billing contact
    priority: high
    when: band == at-risk
    then:
      - check_in: {template: repeat_issue, next_step: "a call with Sam from billing", within: 1d}
      - notify_account_manager
      - retention_offer
"""
)


def _items(store: Store) -> dict[str, int]:
    with store.session() as s:
        add_customer(s, "c1", contact_name="Dana Reyes")
        (firing,) = TriggerHook(PLAYBOOK, SETTINGS).run(s, context())
    return {a.action: a.ref or 0 for a in firing.actions}


def _audit(store: Store, item_id: int) -> list[tuple[str, str, dict[str, object]]]:
    with store.session(readonly=True) as s:
        return [(e.actor, e.action, dict(e.details)) for e in AuditLog(s).entries(subject=f"review:{item_id}")]


def test_approve_sends_the_draft_through_the_outbox_with_the_approvers_name(store: Store, tmp_path: Path) -> None:
    ids = _items(store)
    outbox_file = tmp_path / "outbox.jsonl"
    with store.session() as s:
        queue = ReviewQueue(s, SETTINGS, sender=JsonlSender(outbox_file))
        item = queue.approve(ids["check_in"], actor="ana", reason="looks right", now=NOW + timedelta(hours=1))
        assert item.status == "sent"
        assert item.decided_by == "ana"
        assert item.final_text == item.draft
        with pytest.raises(InvalidTransitionError, match="it is sent"):
            queue.approve(ids["check_in"], actor="ana")
        with pytest.raises(InvalidTransitionError):
            queue.reject(ids["check_in"], actor="ana", reason="too late")
        row = s.get(OutboxRow, item.outbox_id)
        assert row is not None
        assert row.approved_by == "ana"
        assert not row.automatic
        assert row.recipient == "customer"
        assert row.subject
        assert "Billing" in row.subject
        assert "billing" in row.body
    line = json.loads(outbox_file.read_text().splitlines()[0])
    assert line["approved_by"] == "ana"
    assert line["customer_id"] == "c1"
    assert "billing" in line["body"]
    trail = _audit(store, ids["check_in"])
    assert [(a, act) for a, act, _ in trail] == [
        ("rule:repeat-billing", "review.created"),
        ("ana", "review.approved"),
        ("ana", "review.sent"),
    ]
    assert trail[1][2]["reason"] == "looks right"
    assert trail[1][2]["text_sha256"] == hashlib.sha256((item.final_text or "").encode()).hexdigest()


def test_edit_replaces_the_text_and_records_the_change(store: Store) -> None:
    ids = _items(store)
    text = "Subject: Your billing issue\n\nHi Dana, I am sorry this dragged on; I credited the double charge today.\n"
    with store.session() as s:
        queue = ReviewQueue(s, SETTINGS)
        item = queue.edit(ids["check_in"], text, actor="ben", reason="added the credit we agreed on")
        assert item.status == "sent"
        assert item.final_text == text
        row = s.get(OutboxRow, item.outbox_id)
        assert row is not None
        assert row.subject == "Your billing issue"
        assert "credited" in row.body
        assert row.approved_by == "ben"  # a person may write about feelings and money; the machine may not
        with pytest.raises(InvalidTransitionError):
            queue.edit(ids["check_in"], "again", actor="ben")
        with pytest.raises(InvalidTransitionError, match=r"no text to edit|human-tier"):
            queue.edit(ids["retention_offer"], "x", actor="ben")
        with pytest.raises(InputError):
            queue.edit(ids["notify_account_manager"], "   ", actor="ben")
    trail = _audit(store, ids["check_in"])
    assert [act for _, act, _ in trail] == ["review.created", "review.edited", "review.sent"]
    edited = trail[1][2]
    assert edited["reason"] == "added the credit we agreed on"
    assert edited["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert edited["draft_sha256"] != edited["text_sha256"]
    assert "credited" not in json.dumps(edited)  # the audit log holds hashes, never the text


def test_reject_needs_a_reason_and_is_final(store: Store) -> None:
    ids = _items(store)
    with store.session() as s:
        queue = ReviewQueue(s, SETTINGS)
        with pytest.raises(InputError, match="reason"):
            queue.reject(ids["notify_account_manager"], actor="ana", reason=" ")
        item = queue.reject(ids["notify_account_manager"], actor="ana", reason="the AM already called yesterday")
        assert item.status == "rejected"
        with pytest.raises(InvalidTransitionError, match=r"cannot approve review item \d+: it is rejected"):
            queue.approve(ids["notify_account_manager"], actor="ana")
        assert s.execute(select(OutboxRow)).first() is None
    trail = _audit(store, ids["notify_account_manager"])
    assert trail[-1][:2] == ("ana", "review.rejected")
    assert trail[-1][2]["reason"] == "the AM already called yesterday"


def test_snooze_wake_and_decide(store: Store) -> None:
    ids = _items(store)
    with store.session() as s:
        queue = ReviewQueue(s, SETTINGS)
        until = NOW + timedelta(days=2)
        with pytest.raises(InputError):
            queue.snooze(ids["retention_offer"], actor="cy", until=NOW - timedelta(hours=1), now=NOW)
        assert (
            queue.snooze(ids["retention_offer"], actor="cy", until=until, reason="after QBR", now=NOW).status
            == "snoozed"
        )
        assert queue.wake(now=NOW + timedelta(days=1)) == []
        (woken,) = queue.wake(now=until)
        assert woken.status == "pending"
        with pytest.raises(InvalidTransitionError, match="decide"):
            queue.decide(ids["check_in"], actor="cy", decision="send it")
        decided = queue.decide(
            ids["retention_offer"],
            actor="cy",
            decision="offer one month free",
            reason="three billing failures",
            message="Hi Dana, we are crediting one month free for the billing errors.",
        )
        assert decided.status == "decided"
        assert decided.outbox_id is not None
        row = s.get(OutboxRow, decided.outbox_id)
        assert row is not None
        assert row.approved_by == "cy"
        assert "month free" in row.body
    trail = [act for _, act, _ in _audit(store, ids["retention_offer"])]
    assert trail == ["review.created", "review.snoozed", "review.woke", "review.decided"]
    with store.session(readonly=True) as s:
        AuditLog(s).verify()


def test_listing_puts_overdue_and_urgent_first_and_the_sla_counts_business_hours(store: Store) -> None:
    with store.session() as s:
        add_customer(s, "c1")
        queue = ReviewQueue(s, SETTINGS)
        friday = datetime(2026, 5, 15, 15, 0, tzinfo=UTC)  # Friday 15:00
        late = queue.create(customer_id="c1", action="check_in", tier="approve", priority=3, now=friday)
        assert late.due == datetime(2026, 5, 18, 11, 0, tzinfo=UTC)  # 2h Friday + 2h Monday
        fresh = queue.create(
            customer_id="c1", action="check_in", tier="approve", priority=1, now=datetime(2026, 5, 18, 10, tzinfo=UTC)
        )
        low = queue.create(
            customer_id="c1", action="tag", tier="approve", priority=4, now=datetime(2026, 5, 18, 10, tzinfo=UTC)
        )
        ordered = queue.items(now=datetime(2026, 5, 18, 12, tzinfo=UTC))
        assert [i.id for i in ordered] == [late.id, fresh.id, low.id]
        assert ordered[0].overdue(datetime(2026, 5, 18, 12, tzinfo=UTC))
        assert [i.id for i in queue.items(overdue=True, now=datetime(2026, 5, 18, 12, tzinfo=UTC))] == [late.id]
        d = ordered[0].to_dict(now=datetime(2026, 5, 18, 12, tzinfo=UTC))
        assert {"id", "customer_id", "rule", "tier", "action", "status", "priority", "due"} <= set(d)
        assert d["overdue"] is True
        with pytest.raises(NotFoundError):
            queue.get(999_999)
        with pytest.raises(InputError):
            queue.items(status="bogus")
