"""The database commands as a user runs them: ingest, health, customer, privacy, audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from tonewatch.cli import _audit, _customer, _health, _ingest, _privacy

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    for module in (_ingest, _health, _customer, _privacy, _audit):
        module.register(app)
    return app


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TONEWATCH_HOME": str(tmp_path / "home"), "TONEWATCH_DB_URL": ""}


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(app: typer.Typer, env: dict[str, str], *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env=env, input=input)


def at(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def _write(path: Path, events: list[dict[str, Any] | str]) -> Path:
    path.write_text("\n".join(e if isinstance(e, str) else json.dumps(e) for e in events) + "\n", encoding="utf-8")
    return path


def _story(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "story.jsonl",
        [
            {"kind": "customer", "customer_id": "happy", "attributes": {"name": "Ann Lee", "plan": "pro"}},
            {
                "kind": "message",
                "event_id": "h1",
                "customer_id": "happy",
                "timestamp": at(0),
                "channel": "chat",
                "text": "Thank you so much, everything works perfectly and your team is wonderful!",
            },
            {
                "kind": "message",
                "event_id": "a1",
                "customer_id": "angry",
                "timestamp": at(1),
                "channel": "email",
                "text": "This is the third time my invoice is wrong. Call me at +1 415 555 0134. Unacceptable!",
            },
            {
                "kind": "message",
                "event_id": "a2",
                "customer_id": "angry",
                "timestamp": at(2),
                "channel": "phone",
                "text": "Nobody has answered me. I am furious and I will cancel if this is not fixed today.",
            },
            '{"kind": "message", "event_id": "broken", "customer_id": "angry"}',
        ],
    )


def test_ingest_summarises_and_fails_on_rejections(
    app: typer.Typer, env: dict[str, str], db: str, tmp_path: Path
) -> None:
    path = _story(tmp_path)
    first = run(app, env, "ingest", str(path), "--db", db, "--no-progress")
    assert first.exit_code == 1
    assert "accepted" in first.stdout
    assert "broken" in first.stderr
    assert "timestamp" in first.stderr
    second = run(app, env, "ingest", str(path), "--db", db, "--format", "json")
    assert second.exit_code == 1
    summary = json.loads(second.stdout)[str(path)]
    assert (summary["accepted"], summary["duplicate"]) == (0, 4)
    assert summary["rejected"][0]["line"] == 5
    assert summary["rejected"][0]["field"] == "timestamp"
    good = _write(
        tmp_path / "good.jsonl",
        [
            {
                "kind": "usage",
                "event_id": "u1",
                "customer_id": "happy",
                "timestamp": at(3),
                "metric": "logins",
                "value": 3,
            }
        ],
    )
    assert run(app, env, "ingest", str(good), "--db", db, "--no-progress").exit_code == 0
    missing = run(app, env, "ingest", str(tmp_path / "nope.jsonl"), "--db", db)
    assert missing.exit_code == 2
    assert "no such file" in missing.stderr


def test_health_lists_by_risk_and_customer_shows_the_timeline(
    app: typer.Typer, env: dict[str, str], db: str, tmp_path: Path
) -> None:
    run(app, env, "ingest", str(_story(tmp_path)), "--db", db, "--no-progress", "--no-rules")
    result = run(app, env, "health", "--db", db, "--format", "json", "--as-of", at(3))
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["customer_id"] for r in reports] == ["angry", "happy"]
    assert reports[0]["health"] <= reports[1]["health"]
    assert set(reports[0]) >= {"customer_id", "health", "band", "trend", "signals", "factors", "flags"}
    early = json.loads(run(app, env, "health", "--db", db, "--format", "json", "--as-of", at(0.5)).stdout)
    assert [r["customer_id"] for r in early] == ["happy"]
    table = run(app, env, "health", "--db", db)
    assert table.exit_code == 0
    assert "angry" in table.stdout
    only = json.loads(run(app, env, "health", "--db", db, "--format", "json", "--customer", "happy").stdout)
    assert [r["customer_id"] for r in only] == ["happy"]
    assert run(app, env, "health", "--db", db, "--customer", "ghost").exit_code == 2
    assert run(app, env, "health", "--db", db, "--as-of", "yesterday").exit_code == 2

    shown = run(app, env, "customer", "angry", "--db", db)
    assert shown.exit_code == 0, shown.output
    assert "<PHONE>" in shown.stdout
    assert "415 555" not in shown.stdout
    doc = json.loads(run(app, env, "customer", "angry", "--db", db, "--format", "json").stdout)
    assert [e["event_id"] for e in doc["timeline"]] == ["a1", "a2"]
    assert doc["timeline"][0]["label"] is not None
    assert doc["health_history"]
    assert run(app, env, "customer", "ghost", "--db", db).exit_code == 2


def test_privacy_commands_are_audited_and_audit_verify_catches_tampering(
    app: typer.Typer, env: dict[str, str], db: str, tmp_path: Path
) -> None:
    run(app, env, "ingest", str(_story(tmp_path)), "--db", db, "--no-progress", "--no-rules")
    out = tmp_path / "export" / "happy.json"
    exported = run(app, env, "privacy", "export", "happy", "--out", str(out), "--db", db)
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["customer"]["attributes"]["name"] == "Ann Lee"
    assert run(app, env, "privacy", "export", "ghost", "--db", db).exit_code == 2
    erased = run(app, env, "privacy", "erase", "happy", "--db", db, "--yes")
    assert erased.exit_code == 0, erased.output
    assert "name" in erased.stdout
    after = json.loads(run(app, env, "privacy", "export", "happy", "--db", db).stdout)
    assert "name" not in after["customer"]["attributes"]
    assert after["messages"][0]["text"] is None
    no_days = run(app, env, "privacy", "purge", "--db", db)
    assert no_days.exit_code == 2
    purged = run(app, env, "privacy", "purge", "--older-than", "1", "--db", db)
    assert purged.exit_code == 0, purged.output
    assert "2 messages" in purged.stdout

    verified = run(app, env, "audit", "verify", "--db", db)
    assert verified.exit_code == 0
    assert "4 entries" in verified.stdout
    jsonl = [json.loads(line) for line in run(app, env, "audit", "export", "--db", db).stdout.splitlines()]
    assert [e["action"] for e in jsonl] == ["privacy.export", "privacy.erase", "privacy.export", "privacy.purge"]
    target = tmp_path / "audit.csv"
    assert run(app, env, "audit", "export", "--format", "csv", "--out", str(target), "--db", db).exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(target.read_text())))) == 4

    from tonewatch.store import Store

    store = Store(db)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'clj' WHERE seq = 2"))
    store.dispose()
    broken = run(app, env, "audit", "verify", "--db", db)
    assert broken.exit_code == 1
    assert "entry 2" in broken.stderr


def test_health_fit_learns_weights_from_outcomes(
    app: typer.Typer, env: dict[str, str], db: str, tmp_path: Path
) -> None:
    events: list[dict[str, Any] | str] = []
    for i in range(30):
        cid, start = f"c{i:02d}", i * 6  # staggered lives, so both outcomes appear late in time too
        churns = i % 3 == 0
        for week in range(0, 30):
            value = 50.0 if not churns or week < 20 else max(50.0 - (week - 19) * 8, 1.0)
            events.append(
                {
                    "kind": "usage",
                    "event_id": f"{cid}-u{week}",
                    "customer_id": cid,
                    "timestamp": at(start + week * 7),
                    "metric": "logins",
                    "value": value,
                }
            )
        events.append(
            {
                "kind": "outcome",
                "event_id": f"{cid}-o",
                "customer_id": cid,
                "timestamp": at(start + 30 * 7),
                "outcome": "churned" if churns else "renewed",
            }
        )
    path = _write(tmp_path / "outcomes.jsonl", events)
    assert run(app, env, "ingest", str(path), "--db", db, "--no-progress", "--no-rules").exit_code == 0
    fitted = run(app, env, "health", "fit", "--db", db, "--horizon", "60d", "--step", "14d", "--format", "json")
    assert fitted.exit_code == 0, fitted.output
    doc = json.loads(fitted.stdout)
    assert doc["auc"] is not None
    assert doc["auc"] > 0.7
    assert doc["weights"]["usage_decline"] < 0
    saved = Path(env["TONEWATCH_HOME"]) / "health-weights.yaml"
    assert doc["saved_to"] == str(saved)
    assert saved.is_file()
    table = run(app, env, "health", "fit", "--db", db, "--horizon", "60d", "--no-save")
    assert "AUC" in table.stdout
    assert run(app, env, "health", "fit", "--db", db, "--horizon", "soon").exit_code == 2
