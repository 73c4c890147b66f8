"""The rule engine over plain dicts: conditions, windows, cooldowns, holdouts, low confidence."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tonewatch.triggers import (
    HistoryItem,
    MemoryLedger,
    RuleContext,
    RuleEngine,
    holdout_unit,
    in_holdout,
    parse_playbook,
)

NOW = datetime(2026, 5, 20, 15, 0, tzinfo=UTC)


def msg(
    days_ago: float, category: str, *, ticket: str, score: float = -0.5, author: str = "customer", eid: str = ""
) -> HistoryItem:
    label = "negative" if score <= -0.25 else ("positive" if score >= 0.25 else "neutral")
    return HistoryItem(
        "message",
        NOW - timedelta(days=days_ago),
        eid or f"m-{ticket}-{days_ago}",
        {
            "channel": "email",
            "author": author,
            "ticket_id": ticket,
            "category": category,
            "score": score,
            "label": label,
            "text": f"about {category}",
        },
    )


def analysis(
    score: float, *, confidence: float = 0.9, frustration: float = 0.1, cues: tuple[str, ...] = ()
) -> dict[str, Any]:
    label = "negative" if score <= -0.25 else ("positive" if score >= 0.25 else "neutral")
    return {
        "label": label,
        "score": score,
        "confidence": confidence,
        "needs_review": confidence < 0.55,
        "emotions": {"frustration": frustration, "anger": 0.0},
        "sarcasm": 0.01,
        "urgency": {"level": "medium", "score": 0.5},
        "cues": [{"kind": k, "span": "x", "start": 0, "end": 1, "direction": "urgent", "weight": 0.5} for k in cues],
        "model_version": "m-1",
    }


def ctx(**kw: Any) -> RuleContext:
    base: dict[str, Any] = {
        "customer_id": "c1",
        "as_of": NOW,
        "trigger": "message",
        "attributes": {"plan": "pro", "segment": "smb", "signup_date": "2026-03-01", "renewal_date": "2026-07-01"},
        "report": {
            "health": 42.0,
            "band": "at-risk",
            "trend": {"level": -0.2, "slope": -0.05, "declining": True},
            "flags": ["repeat_contact"],
            "signals": {"silence": {"days_silent": 3.0}},
        },
    }
    base.update(kw)
    return RuleContext(**base)


def engine(rules: str, **kw: Any) -> RuleEngine:
    return RuleEngine(parse_playbook("rules:\n" + rules), holdout_fraction=kw.pop("holdout_fraction", 0.0), **kw)


def rule(when: str, *, extra: str = "") -> str:
    return f"  - id: r\n    when: {when}\n    then: [tag: x]\n{extra}"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("tenure_days < 90", True),  # signed up 80 days before NOW
        ("tenure_days < 60", False),
        ("days_to_renewal <= 60", True),  # 42 days to renewal
        ("renewal_within_days <= 30", False),
        ("segment in [smb, mid-market]", True),
        ("plan == PRO", True),  # strings compare case-insensitively
        ("plan != pro", False),
        ("band in [at-risk, critical]", True),
        ("health < 50", True),
        ("trend.declining", True),
        ("not trend.declining", False),
        ("trend.slope < -0.01", True),
        ("flags contains repeat_contact", True),
        ("flags not contains csat_drop", True),
        ("signals.silence.days_silent >= 3", True),
        ("signals.silence.no_such_value > 0", False),  # missing: false
        ("account_value > 0", False),  # no account value at all: false, never an error
        ("{field: account_value, exists: false}", True),
        ("analysis.emotions.frustration > 0.5", True),
        ("analysis.label == negative", True),
        ("analysis.urgency == medium", True),
        ("analysis.cues contains polite-escalation", True),
        ("analysis.confidence between [0.8, 1.0]", True),
        ("event.channel == phone", True),
        ("category == billing", True),
        ("trigger == message", True),
    ],
)
def test_comparisons(when: str, expected: bool) -> None:
    c = ctx(
        analysis=analysis(-0.7, frustration=0.8, cues=("polite-escalation",)),
        event={"event_id": "e9", "kind": "message", "channel": "phone", "category": "billing"},
    )
    assert bool(engine(rule(when)).evaluate(c)) is expected


def test_counts_in_a_window_with_same_category_and_distinct_contacts() -> None:
    history = [
        msg(20, "billing", ticket="t0"),  # outside 14 days
        msg(9, "billing", ticket="t1"),
        msg(9, "billing", ticket="t1", eid="m-t1-again"),  # same contact: counted once
        msg(5, "login/access", ticket="t2"),
        msg(4, "billing", ticket="t3"),
        msg(0, "billing", ticket="t4", eid="now"),
        msg(1, "billing", ticket="t5", author="agent"),  # agents' messages are not contacts
    ]
    third = "\n".join(
        [
            "  - id: third",
            "    when:",
            "      - count: contacts",
            "        within: 14d",
            "        where: {category: same}",
            "        gte: 3",
            "    then: [tag: x]",
        ]
    )
    event = {"event_id": "now", "kind": "message", "category": "billing", "ticket_id": "t4"}
    matches = engine(third).evaluate(ctx(event=event, history=history))
    assert [m.rule.id for m in matches] == ["third"]
    assert matches[0].evidence["matched"]["count.contacts.14d"] == 3
    # the login issue is the current one: only one contact about it
    other = {"event_id": "x", "kind": "message", "category": "login/access"}
    assert engine(third).evaluate(ctx(event=other, history=history)) == []


def test_sentiment_drop_within_one_ticket() -> None:
    rules = "  - id: drop\n    when:\n      sentiment_drop: {by: 0.8, within: 1d, same: ticket}\n    then: [tag: x]\n"
    history = [
        msg(0.2, "bug", ticket="t1", score=0.5),
        msg(0.1, "bug", ticket="t2", score=0.9),
        msg(0, "bug", ticket="t1", score=-0.6, eid="e-now"),
    ]
    c = ctx(event={"event_id": "e-now", "kind": "message", "ticket_id": "t1"}, analysis=analysis(-0.6), history=history)
    (match,) = engine(rules).evaluate(c)
    assert match.evidence["matched"]["sentiment_drop"] == {"from": 0.5, "to": -0.6}
    mild = ctx(
        event={"event_id": "e-now", "kind": "message", "ticket_id": "t1"}, analysis=analysis(-0.2), history=history
    )
    assert engine(rules).evaluate(mild) == []


def test_health_drop_against_the_window_maximum() -> None:
    rules = "  - id: hd\n    when:\n      health_drop: {points: 15, within: 14d}\n    then: [tag: x]\n"
    points = [(NOW - timedelta(days=20), 90.0), (NOW - timedelta(days=10), 60.0), (NOW - timedelta(days=2), 50.0)]
    assert engine(rules).evaluate(ctx(health_history=points))  # 60 -> 42 within 14 days
    assert not engine(rules).evaluate(ctx(health_history=points[:1]))  # the 90 is outside the window


def test_on_restricts_which_updates_a_rule_sees() -> None:
    rules = rule("trend.declining", extra="    on: sweep\n")
    assert engine(rules).evaluate(ctx(trigger="message")) == []
    assert engine(rules).evaluate(ctx(trigger="sweep"))


def test_low_confidence_is_flagged_only_for_rules_that_read_the_analysis() -> None:
    rules = rule("analysis.label == negative") + "  - id: r2\n    when: band == at-risk\n    then: [tag: y]\n"
    unsure = ctx(analysis=analysis(-0.6, confidence=0.4))
    by_id = {m.rule.id: m for m in engine(rules).evaluate(unsure)}
    assert by_id["r"].low_confidence is True
    assert by_id["r2"].low_confidence is False
    assert by_id["r"].evidence["analysis"]["model_version"] == "m-1"


def test_a_rule_fires_once_per_customer_per_cooldown_not_once_per_message() -> None:
    eng = engine(rule("band == at-risk", extra="    cooldown: 7d\n"))
    ledger = MemoryLedger()
    fired = []
    for hours in range(0, 24 * 20, 6):  # a message every six hours for twenty days
        for m in eng.evaluate(ctx(as_of=NOW + timedelta(hours=hours))):
            if ledger.claim(m) is not None:
                fired.append(m.as_of)
    assert len(fired) == 3  # days 0, 7 and 14
    assert all(b - a >= timedelta(days=7) for a, b in itertools.pairwise(fired))
    # replaying the same updates (same timestamps) fires nothing more
    for hours in range(0, 24 * 20, 6):
        for m in eng.evaluate(ctx(as_of=NOW + timedelta(hours=hours))):
            assert ledger.claim(m) is None


def test_out_of_order_replay_respects_a_later_firing() -> None:
    eng = engine(rule("band == at-risk", extra="    cooldown: 7d\n"))
    ledger = MemoryLedger()
    assert ledger.claim(eng.evaluate(ctx(as_of=NOW))[0]) is not None
    assert ledger.claim(eng.evaluate(ctx(as_of=NOW - timedelta(days=2)))[0]) is None
    assert ledger.claim(eng.evaluate(ctx(as_of=NOW - timedelta(days=8)))[0]) is not None


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30), st.floats(min_value=0.0, max_value=0.99))
def test_holdout_is_deterministic_and_monotone(customer: str, fraction: float) -> None:
    assert holdout_unit(customer) == holdout_unit(customer)
    if in_holdout(customer, fraction):
        assert in_holdout(customer, min(0.99, fraction + 0.01))
    assert not in_holdout(customer, 0.0)


def test_holdout_fraction_is_respected_across_many_customers() -> None:
    held = sum(in_holdout(f"cust-{i}", 0.1) for i in range(5000))
    assert 400 < held < 600


def test_matches_are_ordered_by_priority() -> None:
    rules = (
        "  - id: low\n    priority: low\n    when: trend.declining\n    then: [tag: a]\n"
        "  - id: urgent\n    priority: urgent\n    when: trend.declining\n    then: [tag: b]\n"
    )
    assert [m.rule.id for m in engine(rules).evaluate(ctx())] == ["urgent", "low"]


def test_holdout_uses_the_rule_fraction_or_the_default() -> None:
    eng = engine(rule("trend.declining", extra="    holdout: 0.5\n"), holdout_fraction=0.0)
    customers = [f"c{i}" for i in range(400)]
    held = [c for c in customers if eng.evaluate(ctx(customer_id=c))[0].holdout]
    assert held == [c for c in customers if in_holdout(c, 0.5)]
    assert 140 < len(held) < 260


def test_audit_evidence_keeps_numbers_and_labels_but_never_free_text() -> None:
    from tonewatch.triggers import audit_safe

    safe = audit_safe(
        {
            "matched": {
                "signals.silence.negative_quote": "The export is broken again",
                "health": 31.5,
                "category": "billing",
            }
        }
    )
    quote = safe["matched"]["signals.silence.negative_quote"]
    assert set(quote) == {"sha256", "chars"}
    assert quote["chars"] == 26
    assert safe["matched"]["health"] == 31.5
    assert safe["matched"]["category"] == "billing"
