"""The playbook inside the real pipeline (real analyzer, real store): firing on ingest, replays that
change nothing, the clock sweep (`rules run`), outcome links and the backtest command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from tonewatch.audit import AuditLog
from tonewatch.ingest import Pipeline
from tonewatch.outcomes import OutcomeHook, OutcomeLinkRow
from tonewatch.review import ReviewItemRow, ReviewQueue
from tonewatch.settings import Settings
from tonewatch.store import Store
from tonewatch.triggers import FiringRow, TriggerHook, load_playbook

pytestmark = pytest.mark.slow

BILLING = [
    "I was charged twice on my invoice this month. Please refund the duplicate payment.",
    "The double charge on my invoice is still not refunded. This is unacceptable.",
    "Third time writing about the duplicate charge on my credit card. Nobody has fixed the billing error.",
]


def _events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"kind": "customer", "customer_id": "dana", "attributes": {"plan": "pro", "contact_name": "Dana Reyes"}},
        {"kind": "customer", "customer_id": "quiet", "attributes": {"plan": "basic"}},
    ]
    for i, text in enumerate(BILLING):
        events.append(
            {
                "kind": "message",
                "event_id": f"dana-{i}",
                "customer_id": "dana",
                "timestamp": f"2026-04-0{1 + 3 * i}T10:00:00Z",
                "channel": "email",
                "ticket_id": f"T-{i}",
                "text": text,
            }
        )
    events += [
        {
            "kind": "message",
            "event_id": "quiet-0",
            "customer_id": "quiet",
            "timestamp": "2026-04-02T09:00:00Z",
            "channel": "chat",
            "ticket_id": "Q-1",
            "text": "This is terrible. The export has been broken for a week and support never answered.",
        },
        {
            "kind": "outcome",
            "event_id": "dana-out",
            "customer_id": "dana",
            "timestamp": "2026-05-20T00:00:00Z",
            "outcome": "churned",
        },
    ]
    return events


@pytest.fixture(scope="module")
def analyzer() -> Any:
    from tonewatch.score import get_analyzer

    return get_analyzer(Settings())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", holdout_fraction=0.0)


@pytest.fixture
def ingested(store: Store, analyzer: Any, settings: Settings) -> Iterator[tuple[Store, TriggerHook]]:
    hook = TriggerHook(load_playbook(None), settings)
    report = Pipeline(store, analyzer, settings, hooks=[hook, OutcomeHook()]).ingest(_events())
    assert report.rejected == []
    return store, hook


def _count(store: Store, model: type) -> int:
    with store.session(readonly=True) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_the_third_contact_fires_once_and_replays_change_nothing(
    ingested: tuple[Store, TriggerHook], analyzer: Any, settings: Settings
) -> None:
    store, hook = ingested
    fired = [(f.match.rule.id, f.match.customer_id, f.match.event_id) for f in hook.fired]
    assert ("third-contact-same-issue", "dana", "dana-2") in fired
    with store.session(readonly=True) as s:
        (item,) = [
            i for i in ReviewQueue(s, settings).items(customer_id="dana") if i.rule == "third-contact-same-issue"
        ]
        assert item.action == "check_in"
        assert item.tier == "approve"
        assert "three times about billing since 1 April 2026" in (item.draft or "")
        assert item.evidence["quotes"][0]["event_id"] == "dana-2"
        link = s.execute(select(OutcomeLinkRow).where(OutcomeLinkRow.event_id == "dana-out")).scalars().all()
        assert {r.rule_id for r in link} >= {"third-contact-same-issue"}
    firings, items, entries = _count(store, FiringRow), _count(store, ReviewItemRow), _audit_count(store)
    again = TriggerHook(load_playbook(None), settings)
    report = Pipeline(store, analyzer, settings, hooks=[again, OutcomeHook()]).ingest(_events())
    assert report.accepted == 0
    assert again.fired == []
    assert (_count(store, FiringRow), _count(store, ReviewItemRow), _audit_count(store)) == (firings, items, entries)


def _audit_count(store: Store) -> int:
    with store.session(readonly=True) as s:
        return AuditLog(s).count()


def _app() -> typer.Typer:
    from tonewatch.cli._rules import register

    app = typer.Typer()
    register(app)
    return app


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_rules_run_sweeps_the_clock_rules_once(
    ingested: tuple[Store, TriggerHook], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = ingested
    monkeypatch.setenv("TONEWATCH_HOLDOUT_FRACTION", "0")
    args = ["rules", "run", "--as-of", "2026-04-12T12:00:00Z", "--db", _url(store), "--format", "json"]
    first = CliRunner().invoke(_app(), args)
    assert first.exit_code == 0, first.output
    fired = {(f["rule"], f["customer_id"]) for f in json.loads(first.stdout)["fired"]}
    assert ("silence-after-negative", "quiet") in fired
    second = CliRunner().invoke(_app(), args)
    assert second.exit_code == 0
    assert json.loads(second.stdout)["fired"] == []


def test_rules_backtest_reports_flags_and_churn(ingested: tuple[Store, TriggerHook], tmp_path: Path) -> None:
    store, _ = ingested
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - id: third\n    on: message\n    when:\n      - count: contacts\n        within: 14d\n"
        "        where: {category: same}\n        gte: 3\n    then: [tag: repeat]\n"
    )
    args = ["rules", "backtest", str(rules), "--from", "2026-04-01", "--to", "2026-04-30", "--db", _url(store)]
    result = CliRunner().invoke(_app(), [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    (rule,) = json.loads(result.stdout)["rules"]
    assert rule["flagged"] == 1
    assert rule["churned"] == 1
    assert rule["precision"] == 1.0
    assert rule["first_flags"] == {"dana": "2026-04-07T10:00:00+00:00"}
    assert rule["median_lead_days"] == pytest.approx(42.6, abs=0.1)
    table = CliRunner().invoke(_app(), args)
    assert table.exit_code == 0
    assert "third" in table.stdout
