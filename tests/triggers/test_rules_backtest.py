"""Backtest over a scripted history with known outcomes: who each rule flags, when, and precision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tonewatch.ingest import StoredEvent
from tonewatch.ingest.events import MessageEvent, OutcomeEvent
from tonewatch.score._analysis import Analysis, SentenceResult, Urgency
from tonewatch.triggers import backtest, parse_playbook

PLAYBOOK = parse_playbook(
    """
name: backtest
rules:
  - id: third-contact
    on: message
    cooldown: 14d
    when:
      - count: contacts
        within: 14d
        where: {category: same}
        gte: 3
    then: [tag: repeat]
  - id: silence
    on: sweep
    cooldown: 30d
    when:
      all:
        - last_contact.label == negative
        - days_since_contact >= 7
    then: [tag: silent]
"""
)


def _analysis(score: float) -> Analysis:
    label = "negative" if score <= -0.25 else ("positive" if score >= 0.25 else "neutral")
    probs = {"positive": max(score, 0) + 0.1, "neutral": 0.2, "negative": max(-score, 0) + 0.1}
    return Analysis(
        label=label,  # type: ignore[arg-type]
        probabilities=probs,
        score=score,
        confidence=0.9,
        needs_review=False,
        emotions={"neutral": 0.5},
        goemotions={"neutral": 0.5},
        sarcasm=0.0,
        urgency=Urgency("low", 0.1),
        language="en",
        sentences=(SentenceResult("x", 0, 1, label, probs, score),),  # type: ignore[arg-type]
        cues=(),
        model_version="scripted",
    )


def _msg(cid: str, n: int, when: datetime, category: str, score: float) -> StoredEvent:
    event = MessageEvent(
        event_id=f"{cid}-m{n}", customer_id=cid, timestamp=when, channel="email", ticket_id=f"{cid}-t{n}", text="..."
    )
    return StoredEvent(event, _analysis(score), category)


def _outcome(cid: str, when: datetime, outcome: str) -> StoredEvent:
    return StoredEvent(OutcomeEvent(event_id=f"{cid}-o", customer_id=cid, timestamp=when, outcome=outcome), None, None)  # type: ignore[arg-type]


def d(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


HISTORIES = {
    # A: three angry billing contacts, then silence, then churn on 20 May
    "A": [
        _msg("A", 1, d(4, 1), "billing", -0.6),
        _msg("A", 2, d(4, 5), "billing", -0.7),
        _msg("A", 3, d(4, 10), "billing", -0.8),
        _outcome("A", d(5, 20), "churned"),
    ],
    # B: three login contacts, the last one happy (fixed), renewed on 1 June
    "B": [
        _msg("B", 1, d(3, 10), "login/access", -0.3),
        _msg("B", 2, d(3, 15), "login/access", -0.4),
        _msg("B", 3, d(3, 20), "login/access", 0.7),
        _outcome("B", d(6, 1), "renewed"),
    ],
    # C: one pleasant message, churned anyway (a miss nobody could flag)
    "C": [_msg("C", 1, d(3, 3), "how-to", 0.6), _outcome("C", d(5, 1), "churned")],
    # D: one negative message, then silence, churned on 10 June
    "D": [_msg("D", 1, d(4, 5), "bug", -0.7), _outcome("D", d(6, 10), "churned")],
    # E: negative in February, before the window, silent ever since, no outcome yet
    "E": [_msg("E", 1, d(2, 1), "bug", -0.7)],
}


def _run(start: datetime = d(3, 1, 0), end: datetime = d(4, 30, 23)) -> dict[str, object]:
    histories = [(cid, {"plan": "pro"}, events) for cid, events in HISTORIES.items()]
    result = backtest(PLAYBOOK, histories, start=start, end=end)
    assert result.customers == 5
    return {r.rule_id: r for r in result.rules}


def test_each_rule_flags_the_customers_it_should_on_the_right_day() -> None:
    rules = _run()
    third, silence = rules["third-contact"], rules["silence"]
    assert third.first_flag == {"B": d(3, 20), "A": d(4, 10)}  # on the third contact itself
    assert third.firings == 2
    # a week after the last negative contact, at the first daily sweep past seven days
    # E went quiet before the window: flagged at the window's first sweep
    assert silence.first_flag == {"E": d(3, 2, 0), "D": d(4, 13, 0), "A": d(4, 18, 0)}
    assert "C" not in third.first_flag
    assert "C" not in silence.first_flag


def test_precision_and_lead_time_from_later_outcomes() -> None:
    rules = _run()
    third, silence = rules["third-contact"], rules["silence"]
    assert (third.flagged, third.with_outcome, third.churned) == (2, 2, 1)
    assert third.precision == pytest.approx(0.5)
    assert third.median_lead_days == pytest.approx(40.0)  # 10 April -> 20 May
    assert (silence.flagged, silence.with_outcome, silence.churned) == (3, 2, 2)
    assert silence.precision == 1.0
    lead_d = (d(6, 10) - d(4, 13, 0)) / timedelta(days=1)
    lead_a = (d(5, 20) - d(4, 18, 0)) / timedelta(days=1)
    assert silence.median_lead_days == pytest.approx(round((lead_d + lead_a) / 2, 1))
    out = third.to_dict()
    assert out["flags_by_day"] == {"2026-03-20": 1, "2026-04-10": 1}
    assert out["precision"] == 0.5


def test_a_shorter_window_sees_less() -> None:
    rules = _run(end=d(3, 31, 23))
    assert rules["third-contact"].first_flag == {"B": d(3, 20)}
    assert rules["silence"].first_flag == {"E": d(3, 2, 0)}
