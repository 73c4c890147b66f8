"""The model folder is verified against its manifest before anything is scored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tonewatch import ModelError, ModelIntegrityError
from tonewatch.score import BUNDLED_MODEL_DIR, Analyzer


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(BUNDLED_MODEL_DIR, folder)
    return folder


def test_bundled_manifest_matches_the_runtime_contract() -> None:
    manifest = json.loads((BUNDLED_MODEL_DIR / "manifest.json").read_text())
    assert manifest["labels"]["sentiment"] == ["negative", "neutral", "positive"]
    assert len(manifest["labels"]["goemotions"]) == len(manifest["calibration"]["goemotions_thresholds"]) == 28
    assert manifest["calibration"]["temperature"] > 0
    assert manifest["max_tokens"] == 128
    assert set(manifest["files"]) >= {"model.onnx", "tokenizer.json"}


def test_an_intact_copy_loads(model_copy: Path) -> None:
    assert Analyzer(model_copy, threads=1).analyze("all good, thanks").model_version


def test_tampered_tokenizer_is_refused(model_copy: Path) -> None:
    tok = model_copy / "tokenizer.json"
    data = bytearray(tok.read_bytes())
    data[-2] ^= 0x01
    tok.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError) as err:
        Analyzer(model_copy, threads=1).analyze("hello")
    assert "tokenizer.json" in err.value.message
    assert err.value.code == "model_integrity"


def test_tampered_model_is_refused(model_copy: Path) -> None:
    with (model_copy / "model.onnx").open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelIntegrityError):
        Analyzer(model_copy, threads=1).load()


def test_missing_file_and_broken_manifest(model_copy: Path) -> None:
    (model_copy / "tokenizer.json").unlink()
    with pytest.raises(ModelIntegrityError):
        Analyzer(model_copy, threads=1).load()
    (model_copy / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError):
        Analyzer(model_copy, threads=1).load()
    (model_copy / "manifest.json").unlink()
    with pytest.raises(ModelError):
        _ = Analyzer(model_copy, threads=1).model_version
