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

__all__ = ["Sets", "figures", "sentiment_logits", "validation_sets"]


Sets = dict[str, tuple[list[str], np.ndarray]]


def sentiment_logits(path: Path, tokenizer: Path, sets: Sets) -> dict[str, np.ndarray]:
    """One ONNX file's sentiment logits on each validation set."""
    runner = SpanRunner(path, tokenizer)
    return {name: runner.run(texts).sentiment for name, (texts, _) in sets.items()}


def figures(logits: dict[str, np.ndarray], sets: Sets) -> Metrics:
    """Sentiment figures (temperature 1) per set."""
    return {name: sentiment_report(logits[name], y, 1.0, D.SENTIMENT_LABELS) for name, (_, y) in sets.items()}


def validation_sets() -> Sets:
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
    path, report, _ = choose_precision(
        args.fp32, args.work, lambda p: sentiment_logits(p, args.tokenizer, sets), lambda o: figures(o, sets), log=print
    )
    brief = {k: v for k, v in report.items() if k not in ("fp32", "int8", "int8_mixed")}
    print(path, json.dumps(brief, indent=1))


if __name__ == "__main__":
    main()
