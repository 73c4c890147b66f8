"""``tonewatch evaluate``: the report's figures against an independent numpy computation, and bad input.

The fixture (``fixtures/labelled.jsonl``) is 60 short support messages written for these
tests, in five languages, three segments and four channels, with a few ``mixed`` labels.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from registry_support import model_folder
from typer.testing import CliRunner

from tonewatch.cli import _evaluate, _model
from tonewatch.dashboard._png import PNG_SIGNATURE
from tonewatch.score import get_analyzer
from tonewatch.settings import Settings

FIXTURE = Path(__file__).with_name("fixtures") / "labelled.jsonl"
CLASSES3 = ["negative", "neutral", "positive"]


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    app = typer.Typer()
    _evaluate.register(app)
    _model.register(app)
    env = {
        "TONEWATCH_HOME": str(tmp_path / "home"),
        "TONEWATCH_DB_URL": f"sqlite:///{tmp_path / 'eval.db'}",
        "TONEWATCH_MODEL_REGISTRY": str(tmp_path / "models"),
        "COLUMNS": "200",
    }

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, list(args), env=env)

    return run


def gold_labels(path: Path) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())}


def numpy_metrics(gold: list[str], pred: list[str], conf: list[float], classes: list[str]) -> dict[str, Any]:
    """The figures computed independently of tonewatch, from the same predictions."""
    g = np.array([classes.index(x) for x in gold])
    p = np.array([classes.index(x) for x in pred])
    k = len(classes)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (g, p), 1)
    tp = np.diag(cm).astype(float)
    col, row = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, col, out=np.zeros(k), where=col > 0)
    recall = np.divide(tp, row, out=np.zeros(k), where=row > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    c = np.array(conf)
    correct = (g == p).astype(float)
    # 15 equal-width bins, (lo, hi], the first one also taking exactly 0
    idx = np.clip(np.ceil(c * 15).astype(int) - 1, 0, 14)
    ece = 0.0
    for b in range(15):
        sel = idx == b
        if sel.any():
            ece += sel.mean() * abs(c[sel].mean() - correct[sel].mean())
    present = row > 0
    return {
        "accuracy": correct.mean(),
        "precision": dict(zip(classes, precision, strict=True)),
        "recall": dict(zip(classes, recall, strict=True)),
        "f1": dict(zip(classes, f1, strict=True)),
        "macro_recall": recall.mean(),
        "macro_f1": f1.mean(),
        "macro_recall_present": recall[present].mean(),
        "macro_f1_present": f1[present].mean(),
        "confusion": cm.tolist(),
        "ece": ece,
    }


def check_figures(figures: dict[str, Any], expected: dict[str, Any], classes: list[str]) -> None:
    for key in ("accuracy", "macro_recall", "macro_f1", "ece"):
        assert figures[key] == pytest.approx(expected[key], abs=1e-5), key
    for key in ("precision", "recall", "f1"):
        for c in classes:
            assert figures[key][c] == pytest.approx(expected[key][c], abs=1e-5), (key, c)
    assert figures["confusion"]["labels"] == classes
    assert figures["confusion"]["matrix"] == expected["confusion"]


def test_four_way_report_matches_numpy_and_embeds_the_diagram(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = cli("evaluate", "--data", str(FIXTURE), "--out", str(out), "--min-group", "12", "--gap-threshold", "0.05")
    assert r.exit_code == 0, r.output
    assert "accuracy" in r.output
    assert "report.html" in r.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    gold = gold_labels(FIXTURE)
    preds = report["predictions"]
    assert [p["id"] for p in preds] == list(gold)
    assert report["n"] == 60
    assert report["classes"] == [*CLASSES3, "mixed"]
    assert report["mixed"]["in_data"] is True

    # the predictions are the analyzer's own labels (four-way: mixed included)
    analyzer = get_analyzer(Settings(_env_file=None))  # type: ignore[call-arg]
    analyses = analyzer.analyze_batch(
        [g["text"] for g in gold.values()], languages=[g.get("language") for g in gold.values()]
    )
    assert [p["predicted"] for p in preds] == [a.label for a in analyses]
    assert [p["confidence"] for p in preds] == pytest.approx([a.confidence for a in analyses], abs=1e-5)
    assert report["model"]["model_version"] == analyzer.model_version

    classes = report["classes"]
    expected = numpy_metrics(
        [p["gold"] for p in preds], [p["predicted"] for p in preds], [p["confidence"] for p in preds], classes
    )
    assert [p["gold"] for p in preds] == [g["label"] for g in gold.values()]
    check_figures(report["overall"], expected, classes)
    assert report["calibration"]["ece"] == pytest.approx(expected["ece"], abs=1e-5)
    assert sum(b["n"] for b in report["calibration"]["bins"]) == 60

    # bias: per segment and language, gaps to the overall figure, flags and small groups
    assert report["bias"]["min_group"] == 12
    for dim in ("segment", "language"):
        rows = report["bias"][dim]
        assert sum(r["n"] for r in rows) == 60
        for row in rows:
            members = [p for p in preds if (p[dim] or "(none)") == row["group"]]
            assert len(members) == row["n"]
            sub = numpy_metrics(
                [p["gold"] for p in members],
                [p["predicted"] for p in members],
                [p["confidence"] for p in members],
                classes,
            )
            assert row["accuracy"] == pytest.approx(sub["accuracy"], abs=1e-5)
            assert row["macro_recall"] == pytest.approx(sub["macro_recall_present"], abs=1e-5)
            assert row["macro_f1"] == pytest.approx(sub["macro_f1_present"], abs=1e-5)
            gaps = {
                "accuracy": sub["accuracy"] - expected["accuracy"],
                "macro_recall": sub["macro_recall_present"] - expected["macro_recall"],
                "macro_f1": sub["macro_f1_present"] - expected["macro_f1"],
            }
            for metric, gap in gaps.items():
                assert row["gaps"][metric] == pytest.approx(gap, abs=1e-5)
            assert row["too_small"] == (row["n"] < 12)
            assert row["flagged"] == [m for m, gap in gaps.items() if row["n"] >= 12 and gap < -0.05 - 1e-9]
    assert report["bias"]["flagged_groups"] == sum(
        1 for d in ("segment", "language") for r in report["bias"][d] if r["flagged"]
    )

    # language: given, or detected when the line has none
    by_id = {p["id"]: p for p in preds}
    assert by_id["t25"]["language"] == "fr"
    assert by_id["t25"]["language_source"] == "given"
    assert by_id["t35"]["language_source"] == "detected"
    assert by_id["t35"]["language"] == "de"
    languages = {g["group"] for g in report["by"]["language"]}
    assert {"en", "fr", "de", "es"} <= languages

    # error analysis: counts and examples per segment, channel and language
    for dim in ("segment", "channel", "language"):
        groups = report["by"][dim]
        assert sum(g["n"] for g in groups) == 60
        for g in groups:
            members = [p for p in preds if (p[dim] or "(none)") == g["group"]]
            wrong = [p for p in members if p["gold"] != p["predicted"]]
            assert g["errors"] == len(wrong)
            assert len(g["examples"]) == min(3, len(wrong))
            assert {e["id"] for e in g["examples"]} <= {p["id"] for p in wrong}
    assert report["errors"]["count"] == sum(1 for p in preds if p["gold"] != p["predicted"])

    # the files: a PNG, and an HTML page carrying that PNG inline and the bias table
    png = (out / "reliability.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" in html
    assert '<h2 id="bias">Bias check</h2>' in html
    assert '<table class="bias">' in html
    assert "<style>" in html
    assert "<link" not in html
    assert 'src="http' not in html
    if report["bias"]["flagged_groups"]:
        assert 'class="flag"' in html
    if any(r["too_small"] for r in report["bias"]["segment"] + report["bias"]["language"]):
        assert "too small to judge" in html


def test_three_way_when_the_data_has_no_mixed_labels(cli: Any, tmp_path: Path) -> None:
    data = tmp_path / "three.jsonl"
    lines = [line for line in FIXTURE.read_text(encoding="utf-8").splitlines() if '"mixed"' not in line]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out3"
    r = cli("evaluate", "--data", str(data), "--out", str(out), "--no-progress")
    assert r.exit_code == 0, r.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    preds = report["predictions"]
    assert report["classes"] == CLASSES3
    assert report["mixed"]["in_data"] is False
    for p in preds:  # the most probable class, exactly as `tonewatch eval` counts it
        probs = p["probabilities"]
        assert p["predicted"] == max(CLASSES3, key=lambda c: probs[c])
        assert p["confidence"] == pytest.approx(probs[p["predicted"]], abs=1e-6)
    expected = numpy_metrics(
        [p["gold"] for p in preds], [p["predicted"] for p in preds], [p["confidence"] for p in preds], CLASSES3
    )
    check_figures(report["overall"], expected, CLASSES3)
    assert report["overall"]["predicted_mixed"] == sum(1 for p in preds if p["label"] == "mixed")
    assert all(r["too_small"] for r in report["bias"]["segment"])  # default minimum group: 30


def test_a_registry_version_can_be_evaluated(cli: Any, tmp_path: Path) -> None:
    src = model_folder(tmp_path / "src", "2.0.0", temperature=3.0)
    assert cli("model", "import", str(src)).exit_code == 0
    r = cli("evaluate", "--data", str(FIXTURE), "--model", "2.0.0", "--out", str(tmp_path / "v2"), "--no-progress")
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "v2" / "report.json").read_text(encoding="utf-8"))
    assert report["model"]["version"] == "2.0.0"
    assert report["model"]["model_version"] == "2.0.0"
    # temperature 3 flattens every prediction of that model (texts in other languages are read by the
    # multilingual layer, which has its own calibration)
    confidences = [p["confidence"] for p in report["predictions"] if p.get("language", "en") == "en"]
    assert confidences
    assert max(confidences) < 0.9


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "text": "fine", "label": "positive"}', "{not json"], "line 2: not valid JSON"),
        (['{"id": "a", "text": "fine", "label": "angry"}'], "line 1: unknown label 'angry'"),
        (['{"id": "a", "label": "positive"}'], "line 1: text:"),
        (['{"text": "fine", "label": "positive"}'], "line 1: no 'id'"),
        (['{"id": "a", "text": "x", "label": "neg"}', '{"id": "a", "text": "y", "label": "pos"}'], "already used"),
        (['{"id": "a", "text": "x", "label": "neg", "language": "english!"}'], "not an ISO 639 code"),
        (['["a", "b"]'], "expected a JSON object"),
    ],
)
def test_bad_lines_stop_the_run_before_scoring(cli: Any, tmp_path: Path, lines: list[str], message: str) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = cli("evaluate", "--data", str(data), "--out", str(tmp_path / "out"), "--no-progress")
    assert r.exit_code == 2
    assert message in r.output
    assert "nothing was scored" in r.output or "holds no" in r.output
    assert not (tmp_path / "out").exists()


def test_missing_file_and_unknown_model_exit_non_zero(cli: Any, tmp_path: Path) -> None:
    r = cli("evaluate", "--data", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "out"))
    assert r.exit_code == 2
    assert "does not exist" in r.output
    r = cli("evaluate", "--data", str(FIXTURE), "--model", "9.9.9", "--out", str(tmp_path / "out"))
    assert r.exit_code == 2
    assert "no model version '9.9.9'" in r.output
    assert not (tmp_path / "out").exists()
