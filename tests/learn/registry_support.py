"""Helpers for the model registry tests: model folders made from the bundled model.

A "new version" is the bundled model's files (hard-linked when possible, they are only read)
with its own manifest: another ``version`` and, optionally, another calibration temperature
(the manifest is not hashed, so the files still verify and the scores really differ).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tonewatch.score import BUNDLED_MODEL_DIR


def model_folder(where: Path, version: str, *, temperature: float | None = None, **manifest: Any) -> Path:
    """A model folder at ``where`` whose manifest says ``version`` (and anything else given)."""
    where.mkdir(parents=True, exist_ok=True)
    data = json.loads((BUNDLED_MODEL_DIR / "manifest.json").read_text(encoding="utf-8"))
    for name in data["files"]:
        target = where / name
        try:
            os.link(BUNDLED_MODEL_DIR / name, target)
        except OSError:
            shutil.copyfile(BUNDLED_MODEL_DIR / name, target)
    data["version"] = version
    if temperature is not None:
        data["calibration"]["temperature"] = temperature
    data.update(manifest)
    (where / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return where


def tamper(folder: Path, name: str = "tokenizer.json") -> None:
    """Change one byte-level detail of a model file (it no longer matches its sha256)."""
    path = folder / name
    path.unlink()  # break a hard link before writing, or the bundled file would change too
    original = (BUNDLED_MODEL_DIR / name).read_bytes()
    path.write_bytes(original + b" ")
