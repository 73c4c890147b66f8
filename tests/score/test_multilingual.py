"""The multilingual sentiment layer: offline loading, manifest figures, integrity, polarity, windows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tonewatch._errors import ModelError, ModelIntegrityError
from tonewatch.score._multilingual import (
    MULTILINGUAL_MODEL_DIR,
    MultilingualLayer,
    language_review_reason,
    prepare_text,
)
from tonewatch.settings import Settings

UMSAB = {"ar", "en", "fr", "de", "hi", "it", "pt", "es"}
NEG, NEU, POS = 0, 1, 2


@pytest.fixture(scope="module")
def layer() -> MultilingualLayer:
    return MultilingualLayer().load()


def test_figures_come_from_the_manifest_without_loading_weights() -> None:
    manifest = json.loads((MULTILINGUAL_MODEL_DIR / "manifest.json").read_text(encoding="utf-8"))
    fresh = MultilingualLayer()
    assert not fresh.loaded
    assert set(fresh.figures) == UMSAB
    for code, fig in fresh.figures.items():
        assert fig.macro_f1 == manifest["languages"][code]["macro_f1"]
        assert fig.accuracy == manifest["languages"][code]["accuracy"]
        assert fig.n == manifest["languages"][code]["n"] > 0
        assert 0.0 < fig.macro_f1 <= 1.0
    assert fresh.temperature == manifest["calibration"]["temperature"] > 0
    assert fresh.covers("fr")
    assert not fresh.covers("sw")
    assert fresh.macro_f1("sw") is None


def test_review_reason_follows_the_validated_figure() -> None:
    fresh = MultilingualLayer()
    best = max(fresh.figures.values(), key=lambda f: f.macro_f1)
    worst = min(fresh.figures.values(), key=lambda f: f.macro_f1)
    assert fresh.review_reason(best.language, best.macro_f1) is None
    assert fresh.review_reason(worst.language, worst.macro_f1 + 0.01) == "low_accuracy_language"
    assert fresh.review_reason("sw", 0.0) == "unvalidated_language"
    assert language_review_reason(0.7, 0.55) is None
    assert language_review_reason(0.5, 0.55) == "low_accuracy_language"
    assert language_review_reason(None, 0.55) == "unvalidated_language"
    assert Settings().language_min_f1 == 0.55


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("J'adore ce restaurant, le service était parfait et tout le monde était adorable !", POS),
        ("C'est une honte, le colis n'est jamais arrivé et personne ne répond. Je suis furieux.", NEG),
        ("Me encanta este producto, es maravilloso y funciona perfectamente. ¡Gracias!", POS),
        ("Es el peor servicio que he tenido, llevo tres semanas esperando y nadie me ayuda.", NEG),
        ("Vielen Dank, das war ein wunderbarer Service, ich bin total begeistert!", POS),
        ("Das ist eine Katastrophe, die Lieferung ist kaputt und der Support ignoriert mich.", NEG),
    ],
)
def test_clear_polarity_in_french_spanish_german(layer: MultilingualLayer, text: str, label: int) -> None:
    probs = layer.sentiment([text])[0]
    assert max(range(3), key=lambda i: probs[i]) == label
    assert sum(probs) == pytest.approx(1.0, abs=1e-5)


def test_batches_long_texts_and_order(layer: MultilingualLayer) -> None:
    short = ["Je suis très déçu.", "Quelle journée magnifique !"]
    long_text = " ".join(["Le produit est arrivé cassé et le service client ne répond pas."] * 80)
    together = layer.sentiment([*short, long_text])
    alone = [layer.sentiment([t])[0] for t in (*short, long_text)]
    for row, single in zip(together, alone, strict=True):  # what else is scored alongside never moves a score
        assert row == pytest.approx(single, abs=1e-6)
    assert max(range(3), key=lambda i: together[2][i]) == NEG
    assert layer.sentiment([]) == []


def test_prepare_text_anonymises_like_umsab() -> None:
    assert prepare_text("@Maria  mira https://x.co/a  ya") == "@user mira http ya"


def test_tampered_weights_are_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "multilingual"
    shutil.copytree(MULTILINGUAL_MODEL_DIR, folder)
    data = bytearray((folder / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "model.onnx").write_bytes(bytes(data))
    tampered = MultilingualLayer(folder)
    with pytest.raises(ModelIntegrityError, match=r"model\.onnx"):
        tampered.load()
    assert not tampered.loaded


def test_a_manifest_without_the_model_files_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "multilingual"
    shutil.copytree(MULTILINGUAL_MODEL_DIR, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["files"]["tokenizer.json"]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match=r"tokenizer\.json"):
        MultilingualLayer(folder)


def test_long_texts_are_read_whole_in_windows(layer: MultilingualLayer) -> None:
    """A text past the model's window is scored window by window, not cut at the first one."""
    good = "Merci beaucoup, le service était parfait et l'équipe adorable. "
    bad = "Le colis est arrivé cassé, personne ne répond, je suis furieux. "
    window = int(layer.manifest["max_tokens"])
    long_text = good * 3 + bad * (window // 4)  # the first window praises, most of the text complains
    (probs,) = layer.sentiment([long_text])
    assert max(range(3), key=lambda i: probs[i]) == NEG
    (head,) = layer.sentiment([good * 3])
    assert max(range(3), key=lambda i: head[i]) == POS


def test_scoring_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from tonewatch.score._multilingual import MultilingualLayer\n"
        "MultilingualLayer().sentiment(['Muy buen servicio'])\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_scores_do_not_depend_on_thread_counts() -> None:
    """A local pool, Dask workers (one thread) and the API must give a text the same score."""
    code = (
        "import sys;from tonewatch.score._multilingual import MultilingualLayer;"
        "texts=['Le produit est arrivé cassé, personne ne répond. ' * (i % 5 + 1) + str(i) for i in range(120)];"
        "print(MultilingualLayer(threads=int(sys.argv[1])).logits(texts).tobytes().hex())"
    )
    outputs = set()
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        run = subprocess.run(
            [sys.executable, "-c", code, threads], capture_output=True, text=True, env=env, timeout=120
        )
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1
