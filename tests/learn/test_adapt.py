"""``tonewatch train``: input validation, the missing-extra error, splits, priors and the manifest (no training)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from tonewatch._errors import InputError, NotFoundError
from tonewatch.cli._train import register
from tonewatch.learn._calibration import sentiment_report, sqrt_balanced_weights
from tonewatch.learn._train import build_manifest, default_version, resolve_base
from tonewatch.learn._train_data import MIN_PER_CLASS, parse_prior, read_labelled, stratified_split
from tonewatch.score._model import BUNDLED_MODEL_DIR, read_manifest, verify_files

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keep "train" a subcommand
        pass

    return app


def _lines(per_class: int, *, extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for label in ("negative", "neutral", "positive"):
        rows += [
            {"id": f"{label}-{i}", "text": f"{label} message number {i}", "label": label, "channel": "email"}
            for i in range(per_class)
        ]
    return rows + (extra or [])


def _write(path: Path, rows: list[dict[str, Any]], raw: bytes = b"") -> Path:
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in rows) + raw)
    return path


def _train(app: typer.Typer, *args: str) -> Any:
    return runner.invoke(app, ["train", *args])


def test_too_few_examples_names_the_minimum_and_the_short_class(app: typer.Typer, tmp_path: Path) -> None:
    rows = [r for r in _lines(MIN_PER_CLASS) if r["label"] != "positive" or int(r["id"].split("-")[1]) < 3]
    result = _train(app, "--data", str(_write(tmp_path / "d.jsonl", rows)))
    assert result.exit_code == 2
    assert f"at least {MIN_PER_CLASS} examples of each class" in result.output
    assert "positive has 3" in result.output
    assert "negative has" not in result.output


def test_unknown_label_names_the_line(app: typer.Typer, tmp_path: Path) -> None:
    rows = _lines(MIN_PER_CLASS)
    rows.insert(4, {"id": "x", "text": "meh", "label": "angry"})
    result = _train(app, "--data", str(_write(tmp_path / "d.jsonl", rows)))
    assert result.exit_code == 2
    assert "line 5" in result.output
    assert "unknown label 'angry'" in result.output


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"this is not json\n", "not valid JSON"),
        (b'["a list"]\n', "expected a JSON object"),
        (b'{"id": "a", "label": "positive"}\n', "no 'text'"),
        (b'{"id": "a", "text": "fine", "label": null}\n', "no 'label'"),
        (b'{"id": "a", "text": "caf\xe9", "label": "neutral"}\n', "not valid UTF-8"),
    ],
)
def test_bad_lines_stop_the_run_with_their_line_number(
    app: typer.Typer, tmp_path: Path, raw: bytes, message: str
) -> None:
    rows = _lines(MIN_PER_CLASS)
    result = _train(app, "--data", str(_write(tmp_path / "d.jsonl", rows, raw)))
    assert result.exit_code == 2
    assert f"line {len(rows) + 1}" in result.output
    assert message in result.output


def test_missing_file_and_bad_prior_are_input_errors(app: typer.Typer, tmp_path: Path) -> None:
    result = _train(app, "--data", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "does not exist" in result.output
    data = _write(tmp_path / "d.jsonl", _lines(MIN_PER_CLASS))
    result = _train(app, "--data", str(data), "--prior", "negative=0.5,neutral=0.5")
    assert result.exit_code == 2
    assert "no share for positive" in result.output


def test_missing_train_extra_names_the_extra(app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    data = _write(tmp_path / "d.jsonl", _lines(MIN_PER_CLASS, extra=[{"id": "m", "text": "ok but", "label": "mixed"}]))
    result = _train(app, "--data", str(data), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "pip install 'tonewatch[train]'" in result.output
    assert "'torch'" in result.output
    assert "skipped 1 mixed" in result.output  # the data was read and counted first
    assert not (tmp_path / "out").exists()


def test_reader_skips_mixed_drops_duplicates_and_keeps_extra_fields_out(tmp_path: Path) -> None:
    rows = _lines(MIN_PER_CLASS, extra=[{"id": "m1", "text": "good and bad", "label": "Mixed"}])
    rows.append({"id": "dup", "text": "negative   message number 0", "label": "positive"})  # same text once normalised
    data = read_labelled(_write(tmp_path / "d.jsonl", rows))
    assert data.counts() == {"negative": MIN_PER_CLASS, "neutral": MIN_PER_CLASS, "positive": MIN_PER_CLASS}
    assert data.skipped_mixed == 1
    assert data.duplicates == 1
    assert len(data.sha256) == 64
    assert data.ids[0] == "negative-0"


def test_texts_are_normalised_like_the_runtime(tmp_path: Path) -> None:
    rows = _lines(MIN_PER_CLASS)
    rows[0]["text"] = "@delta see https://example.com/x now"
    data = read_labelled(_write(tmp_path / "d.jsonl", rows))
    assert data.texts[0] == "@user see http now"


def test_stratified_split_is_seeded_disjoint_and_keeps_class_shares() -> None:
    labels = [0] * 100 + [1] * 50 + [2] * 30
    train, held = stratified_split(labels, 0.2, seed=5)
    assert sorted(train + held) == list(range(len(labels)))
    assert [sum(1 for i in held if labels[i] == c) for c in (0, 1, 2)] == [20, 10, 6]
    assert stratified_split(labels, 0.2, seed=5) == (train, held)
    assert stratified_split(labels, 0.2, seed=6)[1] != held


def test_parse_prior_normalises_and_refuses_nonsense() -> None:
    assert parse_prior("positive=1, neutral=1,negative=2") == (0.5, 0.25, 0.25)
    for bad in ("negative=0.5,neutral=0.5,positive=0", "negative=a,neutral=1,positive=1", "angry=1", "neg=1"):
        with pytest.raises(InputError) as info:
            parse_prior(bad)
        assert info.value.code == "invalid_prior"


def test_prior_weighted_report_moves_precision_not_recall() -> None:
    y = np.array([0] * 50 + [1] * 50 + [2] * 50)
    logits = np.zeros((150, 3))
    logits[np.arange(150), y] = 3.0
    logits[:10, 1] = 5.0  # ten negatives read as neutral
    plain = sentiment_report(logits, y, 1.0, ("negative", "neutral", "positive"))
    same = sentiment_report(logits, y, 1.0, ("negative", "neutral", "positive"), prior=(1 / 3, 1 / 3, 1 / 3))
    assert plain["precision"] == same["precision"]
    assert plain["accuracy"] == same["accuracy"]
    skewed = sentiment_report(logits, y, 1.0, ("negative", "neutral", "positive"), prior=(0.8, 0.1, 0.1))
    assert skewed["recall"] == plain["recall"]
    assert skewed["precision"]["neutral"] < plain["precision"]["neutral"]
    assert skewed["confusion"] == plain["confusion"]


def test_sqrt_balanced_weights_follow_the_formula_and_survive_an_empty_class() -> None:
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    raw = np.sqrt(100 / np.array([60.0, 30.0, 10.0]))
    assert sqrt_balanced_weights(y) == pytest.approx(raw / raw.mean())
    assert sqrt_balanced_weights(list(y)).mean() == pytest.approx(1.0)
    empty = sqrt_balanced_weights(np.array([0, 0, 1]))  # no positives: counted as one, not a division by zero
    assert np.isfinite(empty).all()
    assert empty[2] == empty[1] > empty[0]


def test_default_version_and_base_resolution(tmp_path: Path) -> None:
    assert default_version("1.0.0", datetime(2026, 11, 24, tzinfo=UTC)) == "1.0.0+adapt.20261124"
    assert default_version("1.0.0+adapt.20261101", datetime(2026, 11, 24, tzinfo=UTC)) == "1.0.0+adapt.20261124"
    assert resolve_base(None) == BUNDLED_MODEL_DIR
    assert resolve_base(str(BUNDLED_MODEL_DIR)) == BUNDLED_MODEL_DIR
    with pytest.raises(InputError):
        resolve_base(str(tmp_path))  # exists, but no manifest.json
    with pytest.raises(NotFoundError):
        resolve_base(str(tmp_path / "missing" / "model"))


def test_manifest_has_provenance_metrics_and_verifiable_files(tmp_path: Path) -> None:
    base = read_manifest(BUNDLED_MODEL_DIR)
    (tmp_path / "model.onnx").write_bytes(b"onnx bytes")
    (tmp_path / "tokenizer.json").write_bytes(b"{}")
    from tonewatch.learn._export import file_sha256

    files = {p.name: file_sha256(p) for p in sorted(tmp_path.iterdir())}
    report = {"n": 10, "accuracy": 0.9, "macro_f1": 0.88, "ece": 0.03}
    data = {"file": "labels.jsonl", "sha256": "ab" * 32, "counts": {"negative": 300, "neutral": 300, "positive": 300}}
    manifest = build_manifest(
        base,
        version="1.0.0+adapt.20261124",
        encoder={"hidden_size": 384},
        precision="fp32",
        quantization={"chosen": "fp32", "largest_drop_points": 1.2},
        temperature=1.234567,
        ece_crossfit=0.04,
        ece_in_sample=0.03,
        base_heldout=report,
        adapted_heldout={**report, "macro_f1": 0.91},
        training_data=data,
        adaptation={"settings": {"seed": 13}},
        files=files,
        prior_correction={"traffic_shares": {"negative": 0.6, "neutral": 0.25, "positive": 0.15}},
        created=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
    )
    assert manifest["pooling"] == "spans"
    assert manifest["version"] == "1.0.0+adapt.20261124"
    assert manifest["base_version"] == base["version"]
    assert manifest["created"] == "2026-11-24T12:00:00Z"
    assert manifest["calibration"]["temperature"] == 1.2346
    assert manifest["calibration"]["goemotions_thresholds"] == base["calibration"]["goemotions_thresholds"]
    assert manifest["calibration"]["prior_correction"]["traffic_shares"]["negative"] == 0.6
    assert manifest["metrics"]["heldout"]["base"]["macro_f1"] == 0.88
    assert manifest["metrics"]["heldout"]["adapted"]["macro_f1"] == 0.91
    assert manifest["training_data"]["counts"]["neutral"] == 300
    assert manifest["training_data"]["sha256"] == "ab" * 32
    assert manifest["labels"] == base["labels"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    again = read_manifest(tmp_path)  # the runtime accepts it
    verify_files(tmp_path, again)
    assert set(again["files"]) == {"model.onnx", "tokenizer.json"}
