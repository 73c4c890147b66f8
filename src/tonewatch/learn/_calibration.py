"""Sentiment metrics and temperature scaling for fitting and exporting models (numpy only).

Shared by ``tonewatch train`` and the recipe in ``training/`` so a figure in an adapted
model's manifest means exactly what it means in the bundled model's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "confusion",
    "crossfit_ece",
    "ece",
    "fit_temperature",
    "macro_f1",
    "macro_recall",
    "per_class_prf",
    "prior_weights",
    "sentiment_report",
    "softmax",
    "sqrt_balanced_weights",
]


def confusion(y: NDArray[Any], pred: NDArray[Any], k: int, weights: NDArray[Any] | None = None) -> NDArray[Any]:
    """Counts (or summed sample ``weights``) with true labels in rows and predictions in columns."""
    cm = np.zeros((k, k), dtype=np.int64 if weights is None else np.float64)
    np.add.at(cm, (np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1 if weights is None else weights)
    return cm


def per_class_prf(
    y: NDArray[Any], pred: NDArray[Any], k: int, weights: NDArray[Any] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Precision, recall and F1 of every class (0 where a class is never predicted or never present)."""
    cm = confusion(y, pred, k, weights)
    tp = np.diag(cm).astype(np.float64)
    prec = tp / np.maximum(cm.sum(0), 1e-12)
    rec = tp / np.maximum(cm.sum(1), 1e-12)
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0.0)
    return prec, rec, f1


def macro_f1(y: NDArray[Any], pred: NDArray[Any], k: int, weights: NDArray[Any] | None = None) -> float:
    return float(np.mean(per_class_prf(y, pred, k, weights)[2]))


def macro_recall(y: NDArray[Any], pred: NDArray[Any], k: int) -> float:
    cm = confusion(y, pred, k)
    return float(np.mean(np.diag(cm) / np.maximum(cm.sum(1), 1)))


def ece(conf: NDArray[Any], correct: NDArray[Any], bins: int = 15, weights: NDArray[Any] | None = None) -> float:
    """Expected calibration error of the chosen label's confidence (equal-width bins, optional sample weights)."""
    w = np.ones(len(conf)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):  # noqa: RUF007 - numpy arrays
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            mass = float(w[sel].sum())
            gap = float(np.dot(w[sel], conf[sel]) - np.dot(w[sel], correct[sel])) / mass
            total += mass * abs(gap)
    return total


def softmax(z: NDArray[Any]) -> NDArray[np.float64]:
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(-1, keepdims=True)
    return out


def fit_temperature(logits: NDArray[Any], y: NDArray[Any]) -> float:
    """Temperature minimising the negative log-likelihood (golden-section search on log T in [0.2, 5])."""
    rows = np.arange(len(y))

    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.log(p[rows, y] + 1e-12).mean())

    lo, hi = float(np.log(0.2)), float(np.log(5.0))
    g = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if nll(float(np.exp(a))) < nll(float(np.exp(b))):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


def crossfit_ece(logits: NDArray[Any], y: NDArray[Any]) -> tuple[float, float]:
    """ECE with the temperature fitted on the other half (two folds), and with it fitted on all of the data."""
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
    p = softmax(logits / fit_temperature(logits, y))
    return ece(conf, correct), ece(p.max(1), (p.argmax(1) == y).astype(float))


def sqrt_balanced_weights(y: NDArray[Any] | Sequence[int], k: int = 3) -> NDArray[np.float64]:
    """Per-class loss weights ``(total / count) ** 0.5``, scaled to mean 1: rare classes count more, without the
    full inverse frequency letting a handful of examples dominate. A class with no examples counts as one."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=k).astype(np.float64)
    weights = np.sqrt(counts.sum() / np.maximum(counts, 1.0))
    out: NDArray[np.float64] = weights / weights.mean()
    return out


def prior_weights(y: NDArray[Any], prior: Sequence[float]) -> NDArray[np.float64]:
    """Sample weights that make labels ``y`` count as if drawn with class shares ``prior`` (label shift)."""
    y = np.asarray(y, dtype=np.int64)
    shares = np.bincount(y, minlength=len(prior)) / max(len(y), 1)
    per_class = np.asarray(prior, dtype=np.float64) / np.maximum(shares, 1e-12)
    out: NDArray[np.float64] = per_class[y]
    return out


def sentiment_report(
    logits: NDArray[Any],
    y: NDArray[Any],
    t: float,
    labels: Sequence[str],
    prior: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1/recall, per-class precision/recall/F1, confusion and ECE at temperature ``t``.

    With ``prior``, every example is weighted so the classes count with those shares: the
    figures estimate what the same model would score on traffic with that class mix (precision,
    accuracy and ECE depend on it; recall does not). The confusion matrix stays in raw counts.
    """
    k = len(labels)
    p = softmax(np.asarray(logits) / t)
    pred = p.argmax(1)
    w = None if prior is None else prior_weights(y, prior)
    prec, rec, f1 = per_class_prf(y, pred, k, w)
    correct = (pred == y).astype(float)
    return {
        "n": len(y),
        "accuracy": round(float(np.average(correct, weights=w)), 4),
        "macro_recall": round(float(np.mean(rec)), 4),
        "macro_f1": round(float(np.mean(f1)), 4),
        "precision": {lab: round(float(v), 4) for lab, v in zip(labels, prec, strict=True)},
        "recall": {lab: round(float(v), 4) for lab, v in zip(labels, rec, strict=True)},
        "f1": {lab: round(float(v), 4) for lab, v in zip(labels, f1, strict=True)},
        "confusion": confusion(y, pred, k).tolist(),
        "ece": round(ece(p.max(1), correct, weights=w), 4),
    }
