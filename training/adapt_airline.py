"""Show what ``tonewatch train`` gains on a customer-service domain, end to end, with one command.

    python -m training.adapt_airline --per-class 400 --seed 13

1. From the airline sample's 80 % training part (``training.data.airline_is_holdout`` false),
   draw ``--per-class`` messages of each class (seeded) and write them as the JSONL that
   ``tonewatch label export`` writes.
2. Run ``tonewatch train`` on that file (the bundled model is the base).
3. Evaluate base and adapted models on the airline 20 % hold-out (never trained on by either)
   and, for forgetting, on TweetEval sentiment validation, GoEmotions dev and TweetEval irony
   validation: macro-F1, accuracy, per-class precision, ECE at each model's own temperature.
   A third column, "base recalibrated", gives the bundled model the adapted model's calibration
   (temperature and prior correction fitted on the same held-out split of the same file), so the
   table separates what fine-tuning adds from what recalibrating alone would give.

Everything lands in ``--work`` (default ``training/runs/adapt_airline``, ignored by git); the
table is printed and saved as ``results.json``. Caveat: the bundled model already saw the
airline 80 % part (oversampled) in its own training, so the gain measures what adapting does
with the team's label conventions and class balance, not learning an unseen domain.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tonewatch.learn._calibration import fit_temperature, sentiment_report
from tonewatch.learn._export import SpanRunner
from tonewatch.learn._train_data import read_labelled, stratified_split
from tonewatch.score._model import BUNDLED_MODEL_DIR
from training import data as D
from training.metrics import binary_f1, f1_per_label, multilabel_targets

LABELS = D.SENTIMENT_LABELS


def write_sample(path: Path, per_class: int, seed: int) -> tuple[dict[str, int], dict[str, float]]:
    """``per_class`` airline training-part messages of each class as label-export JSONL, and the part's shares."""
    rows: dict[str, list[dict[str, str]]] = {lab: [] for lab in LABELS}
    with (D.DATASETS / "airline" / "train.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if not D.airline_is_holdout(row["tweet_id"]):
                rows[row["airline_sentiment"]].append({"id": row["tweet_id"], "text": row["text"]})
    rng = random.Random(seed)
    total = sum(len(v) for v in rows.values())
    shares = {lab: round(len(rows[lab]) / total, 3) for lab in LABELS}
    counts = {}
    with path.open("w", encoding="utf-8") as fh:
        for label in LABELS:
            chosen = rng.sample(rows[label], min(per_class, len(rows[label])))
            counts[label] = len(chosen)
            for r in chosen:
                fh.write(json.dumps({"id": r["id"], "text": r["text"], "label": label, "source": "airline"}) + "\n")
    return counts, shares


def recalibration(data: Path, seed: int, heldout: float, prior: tuple[float, ...] | None) -> tuple[float, np.ndarray]:
    """Temperature and logit shift fitted to the base model exactly as ``tonewatch train`` fits the adapted one.

    Same held-out split of the same file, same temperature fit, same prior correction: the
    "base, recalibrated" column separates what fine-tuning adds from what calibration adds.
    """
    labelled = read_labelled(data)
    _, held = stratified_split(labelled.labels, heldout, seed)
    y = np.array([labelled.labels[i] for i in held])
    runner = SpanRunner(BUNDLED_MODEL_DIR / "model.onnx", BUNDLED_MODEL_DIR / "tokenizer.json", threads=2)
    logits = runner.run([labelled.texts[i] for i in held]).sentiment
    t = fit_temperature(logits, y)
    shift = np.zeros(3)
    if prior is not None:
        shift = t * (np.log(np.array(prior)) - np.log(np.bincount(y, minlength=3) / len(y)))
    return t, shift


def evaluate(
    model_dir: Path, sets: dict[str, Any], recalibrated: tuple[float, np.ndarray] | None = None
) -> dict[str, Any]:
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    t = float(manifest["calibration"]["temperature"])
    shift = np.zeros(3)
    if recalibrated is not None:
        t, shift = recalibrated
    thresholds = np.array(manifest["calibration"]["goemotions_thresholds"])
    runner = SpanRunner(model_dir / "model.onnx", model_dir / "tokenizer.json", threads=2)
    out: dict[str, Any] = {"version": manifest["version"], "temperature": round(t, 4)}
    for name in ("airline_holdout", "tweeteval_val"):
        split = sets[name]
        logits = runner.run(split.texts).sentiment + shift
        out[name] = sentiment_report(logits, np.array(split.labels), t, LABELS)
    if "goemotions_dev" in sets:
        g = sets["goemotions_dev"]
        probs = 1 / (1 + np.exp(-runner.run(g.texts).emotions))
        targets = multilabel_targets(g.labels, len(D.GOEMOTIONS_LABELS))
        out["goemotions_dev_macro_f1"] = round(float(f1_per_label(probs, targets, thresholds).mean()), 4)
        z = sets["irony_val"]
        out["irony_val_f1"] = round(binary_f1(np.array(z.labels), (runner.run(z.texts).sarcasm > 0).astype(int)), 4)
    return out


def table(columns: dict[str, dict[str, Any]]) -> str:
    """One row per figure, one column per model."""
    cols = list(columns.values())
    lines = [f"{'':30}" + "".join(f"{name:>20}" for name in columns)]

    def row(name: str, key: str, pick: Any) -> None:
        cells = (f"{float(pick(c[key])):>20.3f}" if key in c else f"{'-':>20}" for c in cols)
        lines.append(f"{name:30}" + "".join(cells))

    for split, title in (("airline_holdout", "airline 20% hold-out"), ("tweeteval_val", "TweetEval sentiment val")):
        lines.append(f"{title} (n={cols[0][split]['n']})")
        row("  macro-F1", split, lambda r: r["macro_f1"])
        row("  accuracy", split, lambda r: r["accuracy"])
        for lab in LABELS:
            row(f"  precision {lab}", split, lambda r, lab=lab: r["precision"][lab])
        for lab in LABELS:
            row(f"  recall {lab}", split, lambda r, lab=lab: r["recall"][lab])
        row("  ECE", split, lambda r: r["ece"])
    if "goemotions_dev_macro_f1" in cols[0]:
        lines.append("other heads (thresholds from the manifest)")
        row("  GoEmotions dev macro-F1", "goemotions_dev_macro_f1", float)
        row("  TweetEval irony val F1", "irony_val_f1", float)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-class", type=int, default=400)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path("training/runs/adapt_airline"))
    ap.add_argument("--skip-other-heads", action="store_true", help="skip the GoEmotions and irony checks")
    ap.add_argument("--reuse", action="store_true", help="evaluate an adapted model already in --work")
    ap.add_argument("--no-prior", action="store_true", help="no --prior: treat the balanced sample as the traffic")
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    data = args.work / "airline_labels.jsonl"
    model = args.work / "model"
    counts, shares = write_sample(data, args.per_class, args.seed)
    prior = ",".join(f"{k}={v}" for k, v in shares.items())
    print(f"wrote {data}: {counts}; class shares of the training part: {prior}", flush=True)
    started = time.time()
    if not args.reuse:
        shutil.rmtree(model, ignore_errors=True)
        cmd = [sys.executable, "-c", "from tonewatch.cli import main; main()", "train", "--data", str(data)]
        cmd += ["--out", str(model), "--seed", str(args.seed), "--epochs", str(args.epochs)]
        cmd += ["--threads", str(args.threads), "--version", f"1.0.0+adapt.airline{args.per_class}"]
        if not args.no_prior:
            cmd += ["--prior", prior]
        print("$ tonewatch " + " ".join(cmd[3:]), flush=True)
        subprocess.run(cmd, check=True)
    train_minutes = (time.time() - started) / 60

    _, airline_hold = D.airline()
    _, tweeteval_val = D.tweeteval_sentiment()
    sets: dict[str, Any] = {"airline_holdout": airline_hold, "tweeteval_val": tweeteval_val}
    if not args.skip_other_heads:
        sets["goemotions_dev"] = D.goemotions()[1]
        sets["irony_val"] = D.sarcasm()[1]
    print("evaluating base and adapted models", flush=True)
    base = evaluate(BUNDLED_MODEL_DIR, sets)
    shares_or_none = None if args.no_prior else tuple(shares.values())
    sentiment_sets = {k: sets[k] for k in ("airline_holdout", "tweeteval_val")}  # the other heads are the base's
    recal = evaluate(BUNDLED_MODEL_DIR, sentiment_sets, recalibration(data, args.seed, 0.2, shares_or_none))
    adapted = evaluate(model, sets)
    text = table({"base (as shipped)": base, "base recalibrated": recal, "adapted": adapted})
    print(text)
    manifest = json.loads((model / "manifest.json").read_text(encoding="utf-8"))
    summary = {
        "command": f"python -m training.adapt_airline --per-class {args.per_class} --seed {args.seed}",
        "sample": counts,
        "prior": None if args.no_prior else shares,
        "train_minutes": round(train_minutes, 1),
        "adapted_precision": manifest["precision"],
        "adaptation": {k: manifest["adaptation"][k] for k in ("best", "stopped_early", "planned_steps")},
        "base": base,
        "base_recalibrated": recal,
        "adapted": adapted,
    }
    (args.work / "results.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (args.work / "results.txt").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
