"""Weights recovered from the bundled int8 ONNX rebuild a torch model that scores like the ONNX file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tonewatch.learn._onnx_weights import dequantize

SUBJECTS = (
    "The refund",
    "Your support team",
    "The new dashboard",
    "My last order",
    "The billing page",
    "The mobile app",
    "Your agent Sam",
    "The delivery",
    "This update",
)
PREDICATES = (
    "still hasn't arrived and nobody answers my emails.",
    "was quick and genuinely helpful, thank you!",
    "is fine I guess.",
    "crashed three times today. Unacceptable.",
    "works exactly as described.",
    "is the reason we are looking at other vendors.",
    "made my week, honestly.",
    "has a typo on the second line.",
    "took two weeks, which is not what you promised.",
    "is okay but the export could be faster.",
    "oh great, broken again. Love that for me.",
    "was resolved before I even finished my coffee :)",
    "needs a password reset link, please.",
    "is so confusing that I gave up.",
    "arrived on Tuesday.",
    "is something I would recommend to anyone.",
    "cost us a client. Fix it or we cancel.",
    "could you explain how the invoice is calculated?",
    "is brilliant, the team did a great job.",
    "keeps logging me out, so annoying!!!",
)


def _texts() -> list[str]:
    from tonewatch.score._samples import load_samples

    made = [f"{s} {p}" for s in SUBJECTS for p in PREDICATES]
    return [s["text"] for s in load_samples()] + made[:180]


def test_dequantize_per_tensor_and_per_channel() -> None:
    q = np.array([[0, 10], [-5, 127]], dtype=np.int8)
    np.testing.assert_allclose(dequantize(q, np.array(0.5), np.array(0)), [[0, 5], [-2.5, 63.5]])
    per_out = dequantize(q, np.array([1.0, 0.1]), np.array([0, 0]))  # scale per column (MatMul [in, out])
    np.testing.assert_allclose(per_out, [[0, 1.0], [-5, 12.7]], rtol=1e-6)
    u = np.array([[128, 130]], dtype=np.uint8)
    np.testing.assert_allclose(dequantize(u, np.array(0.25), np.array(128, dtype=np.uint8)), [[0, 0.5]])


@pytest.mark.slow
def test_recovered_torch_model_reproduces_the_bundled_onnx(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("onnx")
    from tonewatch.learn._adapt import model_outputs
    from tonewatch.learn._calibration import softmax
    from tonewatch.learn._export import SpanRunner, export_span_onnx, quantize_int8
    from tonewatch.learn._torch_model import load_model_folder
    from tonewatch.score._model import BUNDLED_MODEL_DIR, read_manifest
    from tonewatch.score._normalize import normalize_for_model

    torch.set_num_threads(2)
    manifest = read_manifest(BUNDLED_MODEL_DIR)
    model = load_model_folder(BUNDLED_MODEL_DIR, manifest)
    texts = [normalize_for_model(t) for t in _texts()]
    assert len(texts) >= 200
    tokenizer = BUNDLED_MODEL_DIR / "tokenizer.json"
    runner = SpanRunner(BUNDLED_MODEL_DIR / "model.onnx", tokenizer)
    onnx_out = runner.run(texts)

    # the recovered weights are the shipped ones: quantised again, they give the shipped outputs
    export_span_onnx(model, tmp_path / "fp32.onnx")
    quantize_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    again = SpanRunner(tmp_path / "int8.onnx", tokenizer).run(texts)
    np.testing.assert_allclose(again.sentiment, onnx_out.sentiment, atol=1e-4)
    np.testing.assert_allclose(again.emotions, onnx_out.emotions, atol=1e-4)

    # and the fp32 torch model scores like the int8 file, up to int8 activation noise
    s, e, z = model_outputs(model, runner.encode(texts))
    t = float(manifest["calibration"]["temperature"])
    p_onnx, p_torch = softmax(onnx_out.sentiment / t), softmax(s / t)
    same = p_onnx.argmax(1) == p_torch.argmax(1)
    top2 = np.sort(p_onnx, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 0.05  # near-ties flip under any noise; they are not a recovery error
    assert clear.sum() >= 180
    assert float(same[clear].mean()) >= 0.98, float(same[clear].mean())
    assert float(same.mean()) >= 0.95, float(same.mean())
    diff = np.abs(p_onnx - p_torch)
    # int8 activations are quantised with one scale per run (README, "A batch can nudge a score"): one
    # text's probabilities can move by about 0.1 against float32; the mean stays small
    assert float(diff.max()) < 0.15, float(diff.max())
    assert float(diff.mean()) < 0.015, float(diff.mean())
    # the other heads come back too (int8 activations add a little noise)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    assert float(np.abs(sig(onnx_out.emotions) - sig(e)).mean()) < 0.01
    assert float(np.abs(sig(onnx_out.sarcasm) - sig(z)).mean()) < 0.02
