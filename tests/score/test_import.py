"""``import tonewatch`` stays light: no onnxruntime, no model, never torch (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "onnxruntime", "tokenizers", "transformers", "py3langid")


def _modules_after(code: str) -> dict[str, bool]:
    probe = f"import sys, json\n{code}\nprint(json.dumps({{m: m in sys.modules for m in {list(HEAVY)!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    result: dict[str, bool] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_import_tonewatch_loads_nothing_heavy() -> None:
    assert not any(_modules_after("import tonewatch").values())


def test_the_result_type_and_analyzer_class_are_light_too() -> None:
    loaded = _modules_after("import tonewatch\ntonewatch.Analysis\nfrom tonewatch.score import Analyzer\nAnalyzer()")
    assert not any(loaded.values()), loaded


def test_scoring_uses_onnxruntime_and_never_torch() -> None:
    loaded = _modules_after("import tonewatch\nassert tonewatch.analyze('Thanks, that worked!').label")
    assert loaded["onnxruntime"]
    assert loaded["tokenizers"]
    assert not loaded["torch"]
    assert not loaded["transformers"]
