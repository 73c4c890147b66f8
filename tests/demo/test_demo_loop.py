"""``tonewatch demo --no-serve``: the whole loop on a small generated company, with the real model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tonewatch.cli._demo import register

pytestmark = pytest.mark.slow


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_demo_ingests_scores_fires_rules_and_compares_with_the_truth(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TONEWATCH_HOME", str(tmp_path / "home"))
    args = ["demo", "--no-serve", "--customers", "24", "--months", "3", "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    summary, meta = payload["summary"], payload["data"]
    folder = tmp_path / "home" / "demo"
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))

    assert summary["customers"] == 24
    assert sum(summary["bands"].values()) == 24
    assert summary["audit_entries"] > 0
    assert summary["audit_verified"] is True
    assert sum(summary["rule_hits"].values()) > 0
    assert summary["queue_open"] > 0
    assert all(q["customer_id"].startswith("cus-") for q in summary["queue"])
    churners = [c for c in truth["customers"] if c["outcome"] == "churned"]
    acc = summary["accuracy"]
    assert acc["churners"] == len(churners)
    assert 0 <= acc["churners_flagged"] <= acc["churners"]
    assert {row["archetype"] for row in acc["archetypes"]} == set(truth["archetypes"])
    assert meta["ingested"]

    # PII in the generated text never reaches the store: the pipeline masked it.
    import sqlite3

    with sqlite3.connect(folder / "tonewatch.db") as db:
        texts = [t for (t,) in db.execute("select text from messages where text is not null")]
    assert texts
    assert not [t for t in texts if re.search(r"[\w.]+@[\w-]+\.(?:com|io|co|example|es|fr|de)\b", t)]

    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "Reusing the demo data" in again.stderr
    assert json.loads(again.stdout)["summary"]["rule_hits"] == summary["rule_hits"]
