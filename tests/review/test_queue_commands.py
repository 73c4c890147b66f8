"""``tonewatch queue list|approve|edit|reject`` against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from proactive_fixtures import add_customer, context
from sqlalchemy import select
from typer.testing import CliRunner

from tonewatch.act import OutboxRow
from tonewatch.audit import AuditLog
from tonewatch.cli._queue import register
from tonewatch.settings import Settings
from tonewatch.store import Store
from tonewatch.triggers import TriggerHook, parse_playbook

PLAYBOOK = parse_playbook(
    """
name: cli
rules:
  - id: renewal-risk
    priority: high
    when: band == at-risk
    then:
      - check_in: {template: renewal}
      - notify_account_manager
      - retention_offer
"""
)


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _seed(store: Store) -> dict[str, int]:
    with store.session() as s:
        add_customer(s, "c1", contact_name="Dana Reyes")
        (firing,) = TriggerHook(PLAYBOOK, Settings(holdout_fraction=0.0)).run(s, context())
    return {a.action: a.ref or 0 for a in firing.actions}


def _run(app: typer.Typer, store: Store, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["queue", *args, "--db", store.engine.url.render_as_string(hide_password=False)])
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_the_open_items_with_the_contract_fields(app: typer.Typer, store: Store) -> None:
    ids = _seed(store)
    code, out, _ = _run(app, store, "list", "--format", "json")
    assert code == 0
    items = json.loads(out)
    assert {i["id"] for i in items} == set(ids.values())
    for item in items:
        assert {"id", "customer_id", "rule", "tier", "action", "status", "priority", "due"} <= set(item)
        assert item["status"] == "pending"
        assert item["rule"] == "renewal-risk"
        assert item["priority"] == 2
    code, out, _ = _run(app, store, "list")
    assert code == 0
    assert "review queue: 3 items" in out


def test_approve_edit_reject_from_the_command_line(app: typer.Typer, store: Store, tmp_path: Path) -> None:
    ids = _seed(store)
    code, out, _ = _run(app, store, "approve", str(ids["notify_account_manager"]), "--actor", "ana")
    assert code == 0
    assert "now sent" in out
    letter = tmp_path / "letter.txt"
    letter.write_text("Subject: Your renewal\n\nHi Dana, I will call you on Thursday at 10:00 about billing.\n")
    outbox = tmp_path / "outbox.jsonl"
    code, out, _ = _run(
        app,
        store,
        "edit",
        str(ids["check_in"]),
        "--file",
        str(letter),
        "--actor",
        "ben",
        "--reason",
        "shorter",
        "--outbox-file",
        str(outbox),
    )
    assert code == 0
    assert "now sent" in out
    assert json.loads(outbox.read_text())["body"].startswith("Hi Dana, I will call you on Thursday")
    code, _, err = _run(app, store, "reject", str(ids["retention_offer"]), "--actor", "cy")
    assert code != 0
    assert "--reason" in err
    code, out, _ = _run(app, store, "reject", str(ids["retention_offer"]), "--reason", "no offer now", "--actor", "cy")
    assert code == 0
    assert "now rejected" in out
    code, _, err = _run(app, store, "approve", str(ids["retention_offer"]), "--actor", "cy")
    assert code == 2
    assert f"cannot approve review item {ids['retention_offer']}: it is rejected" in err
    code, _, err = _run(app, store, "edit", str(ids["check_in"]), "--actor", "cy")
    assert code == 2
    assert "--text or --file" in err
    code, _, err = _run(app, store, "approve", "424242", "--actor", "cy")
    assert code == 2
    assert "no review item 424242" in err
    with store.session(readonly=True) as s:
        bodies = s.execute(select(OutboxRow.approved_by, OutboxRow.recipient).order_by(OutboxRow.id)).all()
        assert [tuple(b) for b in bodies] == [("ana", "account_manager"), ("ben", "customer")]
        log = AuditLog(s)
        decisions = [
            (e.actor, e.action)
            for e in log.entries()
            if e.action.startswith("review.") and e.action != "review.created"
        ]
        assert decisions == [
            ("ana", "review.approved"),
            ("ana", "review.sent"),
            ("ben", "review.edited"),
            ("ben", "review.sent"),
            ("cy", "review.rejected"),
        ]
        log.verify()
    code, out, _ = _run(app, store, "list", "--status", "all", "--format", "json")
    assert sorted(i["status"] for i in json.loads(out)) == ["rejected", "sent", "sent"]
