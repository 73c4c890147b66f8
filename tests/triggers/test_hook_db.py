"""The trigger hook against a real store: tiers enforced by the engine, the emotional-outreach
guardrail, low-confidence routing, cooldown and idempotency, holdouts, and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from proactive_fixtures import NOW, add_customer, context
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tonewatch._errors import PermissionDeniedError
from tonewatch.act import AlertRow, Outbox, OutboxRow, QueuePriorityRow, TagRow
from tonewatch.audit import AuditLog
from tonewatch.review import ReviewItemRow, ReviewQueue
from tonewatch.settings import Settings
from tonewatch.store import Store
from tonewatch.triggers import FiringRow, TriggerHook, in_holdout, parse_playbook

SETTINGS = Settings(holdout_fraction=0.0)

ALL_TIERS = """
name: tiers
rules:
  - id: everything
    description: At-risk customer
    priority: high
    when: band == at-risk
    then:
      - tag: at-risk
      - set_priority: high
      - alert: {message: "Health at risk", severity: warning}
      - check_in: {template: repeat_issue, next_step: "a call with Sam from billing", within: 1d}
      - notify_account_manager: {note: "Call them before Friday."}
      - retention_offer
      - executive_escalation
"""


def _count(session: object, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())  # type: ignore[attr-defined]


def test_each_tier_is_enforced_by_the_engine(store: Store) -> None:
    hook = TriggerHook(parse_playbook(ALL_TIERS), SETTINGS)
    with store.session() as s:
        add_customer(s, "c1", plan="pro")
        (firing,) = hook.run(s, context())
    statuses = {a.action: (a.tier, a.status) for a in firing.actions}
    assert statuses == {
        "tag": ("automatic", "executed"),
        "set_priority": ("automatic", "executed"),
        "alert": ("automatic", "executed"),
        "check_in": ("approve", "queued"),
        "notify_account_manager": ("approve", "queued"),
        "retention_offer": ("human", "queued"),
        "executive_escalation": ("human", "queued"),
    }
    with store.session(readonly=True) as s:
        # automatic: done at once
        assert s.execute(select(TagRow.tag)).scalars().all() == ["at-risk"]
        assert s.get(QueuePriorityRow, "c1").priority == 2  # type: ignore[union-attr]
        assert s.execute(select(AlertRow.message)).scalars().all() == ["Health at risk"]
        # approve / human: waiting for a person, nothing has left the building
        assert _count(s, OutboxRow) == 0
        items = {i.action: i for i in ReviewQueue(s, SETTINGS).items()}
        assert set(items) == {"check_in", "notify_account_manager", "retention_offer", "executive_escalation"}
        assert items["check_in"].tier == "approve"
        assert "billing" in (items["check_in"].draft or "")
        assert items["notify_account_manager"].tier == "approve"
        assert items["notify_account_manager"].draft
        for human in ("retention_offer", "executive_escalation"):
            assert items[human].tier == "human"
            assert items[human].draft is None  # a summary and a recommendation, never a message
            assert items[human].recommendation
            assert "billing" in items[human].summary
        assert all(i.status == "pending" and i.priority == 2 for i in items.values())
        assert items["check_in"].evidence["flags"] == ["repeat_contact"]
        assert items["check_in"].evidence["quotes"][0]["text"] == "Third time: double charge."
        actions = [e.action for e in AuditLog(s).entries()]
        assert actions[0] == "rule.fired"
        assert {"action.tag", "action.set_priority", "action.alert"} <= set(actions)
        assert actions.count("review.created") == 4
        assert AuditLog(s).verify() == len(actions)


def test_a_human_tier_item_cannot_be_approved_into_action(store: Store) -> None:
    from tonewatch._errors import InvalidTransitionError

    hook = TriggerHook(parse_playbook(ALL_TIERS), SETTINGS)
    with store.session() as s:
        add_customer(s, "c1")
        hook.run(s, context())
        queue = ReviewQueue(s, SETTINGS)
        offer = next(i for i in queue.items() if i.action == "retention_offer")
        with pytest.raises(InvalidTransitionError, match="human-tier"):
            queue.approve(offer.id, actor="ana")
        decided = queue.decide(
            offer.id, actor="ana", decision="No offer: fix the billing bug first", reason="open issue"
        )
        assert decided.status == "decided"
        assert decided.decided_by == "ana"
        assert _count(s, OutboxRow) == 0


GUARDRAIL = """
name: guard
tiers: {acknowledge: automatic}
rules:
  - id: feelings
    when: band == at-risk
    then:
      - acknowledge: {text: "We can tell you are frustrated with billing. Sorry!", tier: automatic}
  - id: plain
    when: band == at-risk
    then:
      - acknowledge
  - id: bribe
    when: band == at-risk
    then:
      - acknowledge: {text: "Here is 20% off your next invoice for the trouble."}
"""


def test_outreach_about_feelings_is_never_sent_automatically(store: Store) -> None:
    hook = TriggerHook(parse_playbook(GUARDRAIL), SETTINGS)
    with store.session() as s:
        add_customer(s, "c1")
        fired = {f.match.rule.id: f.actions[0] for f in hook.run(s, context())}
    assert (fired["feelings"].tier, fired["feelings"].status, fired["feelings"].route) == (
        "approve",
        "queued",
        "guardrail",
    )
    assert (fired["bribe"].tier, fired["bribe"].status, fired["bribe"].route) == ("approve", "queued", "guardrail")
    assert (fired["plain"].tier, fired["plain"].status) == ("automatic", "executed")
    with store.session(readonly=True) as s:
        sent = s.execute(select(OutboxRow)).scalars().all()
        assert len(sent) == 1
        assert sent[0].automatic
        assert sent[0].approved_by is None
        assert "frustrat" not in sent[0].body.lower()
        assert "billing" in sent[0].body
        held = s.get(ReviewItemRow, fired["feelings"].ref)
        assert held is not None
        assert held.route_reason == "guardrail"
        assert "frustrated" in (held.draft or "")


EMOTIONAL = (
    "We noticed you seem frustrated with the last few replies.",
    "Sorry to hear you're upset about the invoice.",
    "We understand your disappointment.",
    "Our sentiment analysis flagged your last message.",
    "We know how you feel about the outage.",
    "No need to be angry, we are on it.",
    "We can see you are unhappy with the service.",
)


def test_the_outbox_refuses_automatic_emotional_outreach(store: Store) -> None:
    with store.session() as s:
        add_customer(s, "c1")
        for body in EMOTIONAL:
            with pytest.raises(PermissionDeniedError) as info:
                Outbox(s).send(customer_id="c1", body=body, approved_by=None)
            assert info.value.code == "emotional_outreach_needs_approval", body
            row = Outbox(s).send(customer_id="c1", body=body, approved_by="ana")  # a person may send it
            assert row.status == "sent"
            assert row.approved_by == "ana"


def test_feel_free_is_not_about_feelings(store: Store) -> None:
    with store.session() as s:
        add_customer(s, "c1")
        row = Outbox(s).send(customer_id="c1", body="Feel free to reply with a better time.", approved_by=None)
        assert row.automatic


LOW_CONFIDENCE = """
name: lc
rules:
  - id: negative-message
    on: message
    when: analysis.label == negative
    then: [tag: negative-message]
"""


def test_low_confidence_analyses_route_to_a_person_instead_of_acting(store: Store) -> None:
    hook = TriggerHook(parse_playbook(LOW_CONFIDENCE), SETTINGS)
    unsure = {"label": "negative", "score": -0.4, "confidence": 0.41, "needs_review": True, "model_version": "m1"}
    sure = {**unsure, "confidence": 0.93, "needs_review": False}
    event = {"event_id": "e1", "kind": "message", "channel": "chat"}
    with store.session() as s:
        add_customer(s, "c1")
        add_customer(s, "c2")
        (low,) = hook.run(s, context("c1", trigger="message", analysis=unsure, event=event))
        (high,) = hook.run(s, context("c2", trigger="message", analysis=sure, event={**event, "event_id": "e2"}))
        assert (low.actions[0].status, low.actions[0].route, low.actions[0].tier) == (
            "queued",
            "low_confidence",
            "approve",
        )
        assert (high.actions[0].status, high.actions[0].tier) == ("executed", "automatic")
        assert s.execute(select(TagRow.customer_id)).scalars().all() == ["c2"]
        item = ReviewQueue(s, SETTINGS).approve(low.actions[0].ref or 0, actor="ana", reason="checked: it is negative")
        assert item.status == "approved"
        assert sorted(s.execute(select(TagRow.customer_id)).scalars().all()) == ["c1", "c2"]
        tagged = [e for e in AuditLog(s).entries(action="action.tag") if e.subject == "customer:c1"]
        assert tagged[0].actor == "ana"
        fired = AuditLog(s).entries(action="rule.fired")
        assert fired[0].details["evidence"]["analysis"]["model_version"] == "m1"


COOLDOWN = """
name: cd
rules:
  - id: at-risk
    cooldown: 7d
    when: band == at-risk
    then:
      - tag: at-risk
      - check_in: {template: general}
"""


def test_a_rule_fires_once_per_customer_per_cooldown_and_replays_change_nothing(store: Store) -> None:
    hook = TriggerHook(parse_playbook(COOLDOWN), SETTINGS)
    moments = [NOW + timedelta(hours=6 * i) for i in range(4 * 20)]  # four updates a day for twenty days
    with store.session() as s:
        add_customer(s, "c1")
        for t in moments:
            hook.run(s, context(as_of=t))
    for _ in range(2):  # the same updates replayed, in a new transaction, twice
        with store.session() as s:
            for t in reversed(moments):
                assert hook.run(s, context(as_of=t)) == []
    with store.session(readonly=True) as s:
        fired = s.execute(select(FiringRow.fired_at).order_by(FiringRow.fired_at)).scalars().all()
        assert fired == [NOW, NOW + timedelta(days=7), NOW + timedelta(days=14)]
        assert _count(s, ReviewItemRow) == 3
        assert len(AuditLog(s).entries(action="rule.fired")) == 3


def test_the_database_refuses_a_second_firing_in_the_same_bucket(store: Store) -> None:
    hook = TriggerHook(parse_playbook(COOLDOWN), SETTINGS)
    with store.session() as s:
        add_customer(s, "c1")
        (firing,) = hook.run(s, context())
        row = s.get(FiringRow, firing.id)
        assert row is not None
        duplicate = FiringRow(
            rule_id=row.rule_id,
            customer_id="c1",
            bucket=row.bucket,
            fired_at=NOW + timedelta(minutes=1),
            trigger="sweep",
            holdout=False,
            low_confidence=False,
            priority=3,
            playbook="x",
            evidence={},
            actions=[],
        )
        nested = s.begin_nested()
        s.add(duplicate)
        with pytest.raises(IntegrityError):
            s.flush()
        nested.rollback()


def test_holdout_customers_are_flagged_but_never_acted_on(store: Store) -> None:
    held = next(f"h{i}" for i in range(1000) if in_holdout(f"h{i}", 0.5))
    treated = next(f"t{i}" for i in range(1000) if not in_holdout(f"t{i}", 0.5))
    hook = TriggerHook(parse_playbook(COOLDOWN.replace("cooldown: 7d", "cooldown: 7d\n    holdout: 0.5")), SETTINGS)
    with store.session() as s:
        add_customer(s, held)
        add_customer(s, treated)
        (h,) = hook.run(s, context(held))
        (t,) = hook.run(s, context(treated))
        assert h.match.holdout
        assert [a.status for a in h.actions] == ["withheld", "withheld"]
        assert not t.match.holdout
        assert [a.status for a in t.actions] == ["executed", "queued"]
        assert s.execute(select(TagRow.customer_id)).scalars().all() == [treated]
        assert [i.customer_id for i in ReviewQueue(s, SETTINGS).items()] == [treated]
        withheld = AuditLog(s).entries(action="rule.withheld")
        assert [e.subject for e in withheld] == [f"customer:{held}"]
        rows = s.execute(select(FiringRow.customer_id, FiringRow.holdout).order_by(FiringRow.id)).all()
        assert [tuple(r) for r in rows] == [(held, True), (treated, False)]
