"""``tonewatch generate`` writes the history; ``tonewatch demo`` prepares and reuses it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tonewatch.cli._demo import register
from tonewatch.demo import GroundTruth, demo_anchor, dumps_event, generate, prepare_data
from tonewatch.ingest.events import parse_event_json


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_generate_writes_jsonl_and_truth(app: typer.Typer, tmp_path: Path) -> None:
    out, truth = tmp_path / "events.jsonl", tmp_path / "truth.json"
    result = CliRunner().invoke(
        app, ["generate", "--customers", "25", "--months", "2", "--seed", "5", "--out", str(out), "--truth", str(truth)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == [dumps_event(e) for e in generate(customers=25, months=2, seed=5)]
    for i, line in enumerate(lines, 1):
        parse_event_json(line, line=i)
    gt = GroundTruth.read(truth)
    assert len(gt.customers) == 25
    assert {c.customer_id for c in gt.customers} == {json.loads(x)["customer_id"] for x in lines}
    assert f"wrote {len(lines)} events" in result.output


def test_generate_to_stdout_with_a_start_date(app: typer.Typer) -> None:
    result = CliRunner().invoke(
        app, ["generate", "--customers", "5", "--months", "1", "--start", "2026-02-02", "-o", "-"]
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert events
    assert min(e["timestamp"] for e in events) >= "2026-02-02"


def test_generate_refuses_a_bad_start_date(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "x.jsonl"), "--start", "next tuesday"])
    assert result.exit_code == 2
    assert "--start" in result.output
    assert not (tmp_path / "x.jsonl").exists()


def test_demo_history_ends_in_the_current_week_and_is_reused(tmp_path: Path) -> None:
    today = date(2026, 5, 14)  # a Thursday
    assert demo_anchor(today) == date(2026, 5, 11)
    first = prepare_data(tmp_path, customers=12, months=2, today=today)
    assert not first.reused
    assert first.end == date(2026, 5, 11)
    assert first.start == date(2026, 3, 11)
    assert first.events == len(first.events_path.read_text(encoding="utf-8").splitlines())
    assert len(first.truth().customers) == 12

    again = prepare_data(tmp_path, customers=12, months=2, today=date(2026, 5, 17))  # same week
    assert again.reused
    assert again.digest == first.digest

    next_week = prepare_data(tmp_path, customers=12, months=2, today=date(2026, 5, 18))
    assert not next_week.reused
    assert next_week.end == date(2026, 5, 18)

    bigger = prepare_data(tmp_path, customers=13, months=2, today=date(2026, 5, 18))
    assert not bigger.reused
    fresh = prepare_data(tmp_path, customers=13, months=2, today=date(2026, 5, 18), fresh=True)
    assert not fresh.reused
    assert fresh.digest == bigger.digest  # deterministic: regenerating gives the same bytes


def test_demo_regenerates_a_tampered_history(tmp_path: Path) -> None:
    today = date(2026, 5, 14)
    data = prepare_data(tmp_path, customers=8, months=1, today=today)
    with data.events_path.open("a", encoding="utf-8") as fh:
        fh.write('{"kind": "usage"}\n')
    again = prepare_data(tmp_path, customers=8, months=1, today=today)
    assert not again.reused
    assert again.digest == data.digest
