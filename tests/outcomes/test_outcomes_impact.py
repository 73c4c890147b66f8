"""Outcome links and the impact report: treated versus holdout with honest intervals."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from proactive_fixtures import NOW, add_customer, context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tonewatch.audit import AuditLog
from tonewatch.ingest import CustomerUpdate
from tonewatch.ingest.events import OutcomeEvent, SurveyEvent
from tonewatch.outcomes import OutcomeHook, OutcomeLinker, OutcomeLinkRow, impact_reports, newcombe_difference, wilson
from tonewatch.review import ReviewQueue
from tonewatch.settings import Settings
from tonewatch.store import EventRow, Outcome, Store, Survey
from tonewatch.triggers import TriggerHook, in_holdout, parse_playbook

SETTINGS = Settings(holdout_fraction=0.0)
PLAYBOOK = parse_playbook(
    """
name: impact
rules:
  - id: at-risk
    holdout: 0.5
    cooldown: 30d
    when: band == at-risk
    then:
      - tag: at-risk
      - check_in: {template: general}
"""
)


def _store_outcome(s: Session, customer_id: str, event_id: str, when: datetime, outcome: str) -> OutcomeEvent:
    event = OutcomeEvent(event_id=event_id, customer_id=customer_id, timestamp=when, outcome=outcome)  # type: ignore[arg-type]
    s.add(
        EventRow(
            event_id=event_id,
            customer_id=customer_id,
            kind="outcome",
            timestamp=when,
            payload=event.model_dump(mode="json"),
            ingested_at=when,
        )
    )
    s.flush()
    s.add(Outcome(event_id=event_id, customer_id=customer_id, timestamp=when, outcome=outcome))
    s.flush()
    return event


def _store_csat(s: Session, customer_id: str, event_id: str, when: datetime, score: int) -> SurveyEvent:
    event = SurveyEvent(event_id=event_id, customer_id=customer_id, timestamp=when, survey="csat", score=score)
    s.add(
        EventRow(
            event_id=event_id,
            customer_id=customer_id,
            kind="survey",
            timestamp=when,
            payload=event.model_dump(mode="json"),
            ingested_at=when,
        )
    )
    s.flush()
    s.add(
        Survey(
            event_id=event_id,
            customer_id=customer_id,
            timestamp=when,
            survey="csat",
            score=score,
            normalized=event.normalized,
        )
    )
    s.flush()
    return event


def _update(s: Session, event: OutcomeEvent | SurveyEvent) -> CustomerUpdate:
    return CustomerUpdate(
        session=s,
        customer_id=event.customer_id,
        attributes={},
        state=None,
        report=None,
        event=event,
        analysis=None,
        as_of=event.timestamp,
    )


def test_outcomes_link_to_the_flags_and_actions_before_them(store: Store) -> None:
    customer = next(f"c{i}" for i in range(100) if not in_holdout(f"c{i}", 0.5))
    hook, link = TriggerHook(PLAYBOOK, SETTINGS), OutcomeHook()
    with store.session() as s:
        add_customer(s, customer)
        (firing,) = hook.run(s, context(customer))
        item_id = firing.actions[1].ref or 0
        ReviewQueue(s, SETTINGS).approve(item_id, actor="ana", now=NOW + timedelta(hours=2))
        survey = _store_csat(s, customer, "csat-1", NOW + timedelta(days=5), 4)
        link(_update(s, survey))
        renewed = _store_outcome(s, customer, "out-1", NOW + timedelta(days=40), "renewed")
        link(_update(s, renewed))
        link(_update(s, renewed))  # idempotent
        # a later firing, then a churn: the churn links only to firings after the renewal
        (later,) = hook.run(s, context(customer, as_of=NOW + timedelta(days=60)))
        churned = _store_outcome(s, customer, "out-2", NOW + timedelta(days=90), "churned")
        link(_update(s, churned))
    with store.session(readonly=True) as s:
        rows = s.execute(select(OutcomeLinkRow).order_by(OutcomeLinkRow.id)).scalars().all()
        assert [(r.event_id, r.kind, r.firing_id) for r in rows] == [
            ("csat-1", "csat", firing.id),
            ("out-1", "outcome", firing.id),
            ("out-2", "outcome", later.id),
        ]
        assert rows[0].value == pytest.approx(0.75)
        assert rows[1].lead_days == pytest.approx(40.0)
        assert rows[1].holdout is False
        assert rows[1].actions[1]["review_status"] == "sent"
        linked = AuditLog(s).entries(action="outcome.linked")
        assert [e.details["event"] for e in linked] == ["csat-1", "out-1", "out-2"]
        AuditLog(s).verify()
        # relinking everything stored adds nothing
        assert OutcomeLinker(s).relink() == 0


def _synthetic(store: Store, *, treated_retention: float, holdout_retention: float, n: int = 80) -> None:
    """``n`` flagged customers; in each group, exactly the given share (spread evenly) renews."""
    rng = random.Random(7)
    hook = TriggerHook(
        parse_playbook(
            "rules:\n  - id: at-risk\n    holdout: 0.5\n    when: band == at-risk\n    then: [tag: at-risk]\n"
        ),
        SETTINGS,
    )
    seen = {True: 0, False: 0}
    with store.session() as s:
        linker = OutcomeLinker(s)
        for i in range(n):
            cid = f"cust-{i:03d}"
            add_customer(s, cid)
            (firing,) = hook.run(s, context(cid, history=[]))
            held = firing.match.holdout
            share = holdout_retention if held else treated_retention
            k = seen[held] = seen[held] + 1
            retained = int(k * share) > int((k - 1) * share)  # an even spread of the share, not a lottery
            csat = rng.choice([2, 3, 3, 4]) if held else rng.choice([3, 4, 4, 5])
            linker.link_event(_store_csat(s, cid, f"csat-{cid}", NOW + timedelta(days=7), csat))
            outcome = "renewed" if retained else "churned"
            linker.link_event(_store_outcome(s, cid, f"out-{cid}", NOW + timedelta(days=45), outcome))


def test_the_impact_report_shows_a_real_retention_gain(store: Store) -> None:
    _synthetic(store, treated_retention=0.85, holdout_retention=0.5)
    with store.session(readonly=True) as s:
        overall, per_rule = impact_reports(s)
        assert overall.rule is None
        assert per_rule.rule == "at-risk"
        assert overall.treated.flagged + overall.holdout.flagged == 80
        assert 25 < overall.holdout.flagged < 55
        t, h = overall.treated, overall.holdout
        assert (t.retention or 0) > (h.retention or 1)
        diff, low, _high = overall.retention_difference
        assert low > 0
        assert diff == pytest.approx((t.retention or 0) - (h.retention or 0))
        assert overall.retention_significant
        assert overall.retention_bootstrap[1] > 0
        assert overall.csat_significant
        assert overall.csat_difference[1] > 0
        d = overall.to_dict()
        assert d["rule"] == "all"
        assert d["retention_difference"]["significant"] is True
        assert d["treated"]["retention_ci"][0] > d["holdout"]["retention_ci"][1] - 0.3
        assert count_links(s) == 160


def test_no_effect_means_an_interval_that_includes_zero(store: Store) -> None:
    _synthetic(store, treated_retention=0.7, holdout_retention=0.7, n=50)
    with store.session(readonly=True) as s:
        overall = impact_reports(s, per_rule=False)[0]
        _, low, high = overall.retention_difference
        assert low < 0 < high
        assert not overall.retention_significant


def count_links(s: Session) -> int:
    return int(s.execute(select(func.count()).select_from(OutcomeLinkRow)).scalar_one())


def test_interval_formulas_match_published_values() -> None:
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    # Newcombe (1998), example (a): 56/70 vs 48/80 -> 0.2000 (0.0524, 0.3339)
    assert newcombe_difference(56, 70, 48, 80) == pytest.approx((0.2, 0.0524, 0.3339), abs=1e-4)


def test_report_impact_command(store: Store) -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from tonewatch.cli._report import register

    _synthetic(store, treated_retention=0.9, holdout_retention=0.4, n=40)
    app = typer.Typer()
    register(app)
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["report", "impact", "--db", url, "--format", "json", "--bootstrap", "500"])
    assert result.exit_code == 0, result.output
    overall = json.loads(result.stdout)[0]
    assert overall["rule"] == "all"
    assert overall["treated"]["retention"] > overall["holdout"]["retention"]
    assert overall["retention_difference"]["ci"][0] > 0
    assert overall["retention_difference"]["significant"]
    table = CliRunner().invoke(app, ["report", "impact", "--db", url, "--bootstrap", "500"])
    assert table.exit_code == 0
    assert "treated" in table.stdout
    assert "holdout" in table.stdout
