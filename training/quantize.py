"""The export's int8 decision on its own, as a report (``tonewatch.learn._quantize``).

    python -m training.quantize MODEL.fp32.onnx TOKENIZER.json

Measures on TweetEval sentiment validation and the airline hold-out, the sets the export decides on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from tonewatch.learn._calibration import sentiment_report
from tonewatch.learn._export import SpanRunner
from tonewatch.learn._quantize import Metrics, choose_precision
from training import data as D

__all__ = ["measure", "validation_sets"]


def measure(path: Path, tokenizer: Path, sets: dict[str, tuple[list[str], np.ndarray]]) -> Metrics:
    """Sentiment figures (temperature 1) of one ONNX file on each validation set."""
    runner = SpanRunner(path, tokenizer)
    labels = D.SENTIMENT_LABELS
    return {name: sentiment_report(runner.run(texts).sentiment, y, 1.0, labels) for name, (texts, y) in sets.items()}


def validation_sets() -> dict[str, tuple[list[str], np.ndarray]]:
    """TweetEval sentiment validation and the airline hold-out, the sets the rule is measured on."""
    _, s_va = D.tweeteval_sentiment()
    _, a_ho = D.airline()
    return {"tweeteval": (s_va.texts, np.array(s_va.labels)), "airline": (a_ho.texts, np.array(a_ho.labels))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fp32", type=Path)
    ap.add_argument("tokenizer", type=Path)
    ap.add_argument("--work", type=Path, default=Path("training/runs/quantize"))
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sets = validation_sets()
    path, report = choose_precision(args.fp32, args.work, lambda p: measure(p, args.tokenizer, sets))
    brief = {k: v for k, v in report.items() if k not in ("fp32", "int8", "int8_mixed")}
    print(path, json.dumps(brief, indent=1))


if __name__ == "__main__":
    main()
