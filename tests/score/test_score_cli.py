"""``tonewatch score`` and ``tonewatch eval`` end to end: files, stdin/stdout, CSV, error lines, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tonewatch.cli import _register, app

_register()
runner = CliRunner()


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def test_score_jsonl_with_bad_lines_keeps_going(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"id": "a", "text": "Oh great, another delay."}\n'
        b'{"id": "b", "text": "caf\xe9 closed again"}\n'  # invalid UTF-8
        b"this is not json\n"
        b"\n"
        b'{"id": "c", "text": "   "}\n'
        b'{"id": "d"}\n'
        b'{"id": 7, "text": "Merci, tout est r\xc3\xa9gl\xc3\xa9 !", "language": "fr"}\n'
        b'{"id": "e", "text": "ok", "language": "not a language"}\n'
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", "--input", str(src), "--output", str(out), "--threads", "2"])
    assert result.exit_code == 1
    rows = _lines(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in rows] == ["a", "b", None, "c", "d", 7, "e"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["a"]["label"] == "negative"
    assert {"label", "probabilities", "score", "confidence", "needs_review", "emotions", "goemotions", "sarcasm",
            "urgency", "language", "sentences", "cues", "model_version"} <= set(by_id["a"])  # fmt: skip
    assert by_id["b"]["error"]["code"] == "invalid_text"  # type: ignore[index]
    assert by_id[None]["error"]["code"] == "invalid_json"  # type: ignore[index]
    assert by_id["c"]["error"]["code"] == "empty_text"  # type: ignore[index]
    assert by_id["d"]["error"]["code"] == "missing_text"  # type: ignore[index]
    assert by_id[7]["language"] == "fr"
    assert by_id["e"]["error"]["code"] == "invalid_language"  # type: ignore[index]


def test_score_csv_input(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text('id,text,channel\nx1,"I guess it works fine",chat\nx2,"Still waiting for my refund 😡",email\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", "-i", str(src), "-o", str(out), "--threads", "2"])
    assert result.exit_code == 0, result.output
    rows = _lines(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in rows] == ["x1", "x2"]
    assert rows[0]["label"] != "positive"
    assert rows[1]["label"] == "negative"


def test_csv_without_text_column_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,body\n1,hello\n")
    result = runner.invoke(app, ["score", "-i", str(src)])
    assert result.exit_code == 2
    assert "text" in result.output


def test_score_text_too_long_is_an_error_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "word " * 40}) + "\n" + json.dumps({"id": 2, "text": "short"}) + "\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", "-i", str(src), "-o", str(out), "--max-text-chars", "100", "--threads", "2"])
    assert result.exit_code == 1
    rows = _lines(out.read_text())
    assert rows[0]["error"]["code"] == "text_too_long"  # type: ignore[index]
    assert rows[1]["label"]


def test_missing_input_and_no_input() -> None:
    assert runner.invoke(app, ["score", "--input", "/nonexistent/file.jsonl"]).exit_code == 2
    assert runner.invoke(app, ["score"]).exit_code == 2


def test_sample_table() -> None:
    result = runner.invoke(app, ["score", "--sample", "--threads", "2"])
    assert result.exit_code == 0, result.output
    assert "I guess the product works fine." in " ".join(result.output.split())
    assert "hedge" in result.output
    assert "polite-escalation" in result.output


def test_eval_table_and_json(tmp_path: Path) -> None:
    src = tmp_path / "labelled.jsonl"
    rows = [
        {"id": 1, "text": "Absolutely brilliant support, thank you!", "label": "positive"},
        {"id": 2, "text": "Oh great, another delay.", "label": "negative"},
        {"id": 3, "text": "My order number is 5521.", "label": "neutral"},
        {"id": 4, "text": "THIS IS UNACCEPTABLE. I WANT MY MONEY BACK NOW!!!", "label": 0},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = runner.invoke(app, ["eval", "--input", str(src), "--threads", "2"])
    assert table.exit_code == 0, table.output
    for word in ("accuracy", "macro F1", "ECE", "Confusion"):
        assert word in table.output
    js = runner.invoke(app, ["eval", "--input", str(src), "--format", "json", "--threads", "2"])
    report = json.loads(js.output)
    assert report["n"] == 4
    assert sum(map(sum, report["confusion"]["matrix"])) == 4
    assert 0 <= report["accuracy"] <= 1
    assert 0 <= report["ece"] <= 1


def test_eval_reports_unusable_lines(tmp_path: Path) -> None:
    src = tmp_path / "labelled.jsonl"
    src.write_text(
        '{"id": 1, "text": "fine thanks", "label": "positive"}\n{"id": 2, "text": "meh", "label": "great"}\n'
    )
    result = runner.invoke(app, ["eval", "--input", str(src), "--format", "json", "--threads", "2"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["skipped"] == 1


def test_stdin_to_stdout_in_a_real_process() -> None:
    lines = '{"id": "s1", "text": "No problems or complaints so far"}\n{"id": "s2", "text": ""}\n'
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tonewatch.cli import main; main()",
            "score",
            "-i",
            "-",
            "-o",
            "-",
            "--threads",
            "2",
        ],
        input=lines.encode(),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 1
    rows = _lines(proc.stdout.decode())
    assert rows[0]["id"] == "s1"
    assert rows[0]["label"] != "negative"
    assert rows[1]["error"]["code"] == "empty_text"  # type: ignore[index]
    assert b"scored 1, failed 1" in proc.stderr
