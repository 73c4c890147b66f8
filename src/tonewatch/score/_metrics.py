"""Sentiment evaluation against labelled data: what ``tonewatch eval`` reports.

Scores are three-way (negative / neutral / positive) because labelled sets are: a result
labelled ``mixed`` is scored by its highest probability, and how many were ``mixed`` is
reported alongside. ECE uses the same definition as the export script (15 equal-width
bins over the chosen class's probability), so figures are comparable with the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CLASSES", "SentimentReport", "evaluate_sentiment", "expected_calibration_error", "per_class_scores"]

CLASSES: tuple[str, str, str] = ("negative", "neutral", "positive")


@dataclass(frozen=True, slots=True)
class SentimentReport:
    """Accuracy, macro recall/F1, per-class precision/recall/F1, confusion (rows gold, columns predicted), ECE."""

    n: int
    accuracy: float
    macro_recall: float
    macro_f1: float
    precision: Mapping[str, float]
    recall: Mapping[str, float]
    f1: Mapping[str, float]
    confusion: tuple[tuple[int, ...], ...]
    ece: float
    mixed: int

    def to_dict(self) -> dict[str, Any]:
        def r4(v: float) -> float:
            return round(v, 4)

        return {
            "n": self.n,
            "accuracy": r4(self.accuracy),
            "macro_recall": r4(self.macro_recall),
            "macro_f1": r4(self.macro_f1),
            "precision": {k: r4(v) for k, v in self.precision.items()},
            "recall": {k: r4(v) for k, v in self.recall.items()},
            "f1": {k: r4(v) for k, v in self.f1.items()},
            "confusion": {"labels": list(CLASSES), "matrix": [list(row) for row in self.confusion]},
            "ece": r4(self.ece),
            "predicted_mixed": self.mixed,
        }


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 15) -> float:
    """Mean |confidence - accuracy| over equal-width confidence bins, weighted by bin size."""
    n = len(confidence)
    if n == 0:
        return 0.0
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidence) if lo < c <= hi or (b == 0 and c == 0.0)]
        if idx:
            mean_conf = sum(confidence[i] for i in idx) / len(idx)
            acc = sum(1.0 for i in idx if correct[i]) / len(idx)
            total += len(idx) / n * abs(mean_conf - acc)
    return total


def per_class_scores(
    confusion: Sequence[Sequence[int]], classes: Sequence[str]
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Precision, recall and F1 of each class from a confusion matrix (rows gold, columns predicted)."""
    k = len(classes)
    precision: dict[str, float] = {}
    recall: dict[str, float] = {}
    f1: dict[str, float] = {}
    for i, c in enumerate(classes):
        tp = confusion[i][i]
        col = sum(confusion[r][i] for r in range(k))
        row = sum(confusion[i])
        precision[c] = tp / col if col else 0.0
        recall[c] = tp / row if row else 0.0
        s = precision[c] + recall[c]
        f1[c] = 2 * precision[c] * recall[c] / s if s else 0.0
    return precision, recall, f1


def evaluate_sentiment(
    gold: Sequence[str], probabilities: Sequence[Mapping[str, float]], labels: Sequence[str] | None = None
) -> SentimentReport:
    """Compare gold labels with predicted probabilities (``labels`` only counts ``mixed`` predictions)."""
    if len(gold) != len(probabilities):
        raise ValueError("gold and probabilities differ in length")
    k = len(CLASSES)
    cm = [[0] * k for _ in range(k)]
    conf: list[float] = []
    correct: list[bool] = []
    for g, p in zip(gold, probabilities, strict=True):
        pred = max(CLASSES, key=lambda c: p.get(c, 0.0))
        gi, pi = CLASSES.index(g), CLASSES.index(pred)
        cm[gi][pi] += 1
        conf.append(float(p.get(pred, 0.0)))
        correct.append(gi == pi)
    n = len(gold)
    precision, recall, f1 = per_class_scores(cm, CLASSES)
    return SentimentReport(
        n=n,
        accuracy=sum(cm[i][i] for i in range(k)) / n if n else 0.0,
        macro_recall=sum(recall.values()) / k,
        macro_f1=sum(f1.values()) / k,
        precision=precision,
        recall=recall,
        f1=f1,
        confusion=tuple(tuple(row) for row in cm),
        ece=expected_calibration_error(conf, correct),
        mixed=sum(1 for lab in labels or () if lab == "mixed"),
    )
