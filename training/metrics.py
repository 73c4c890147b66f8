"""Classification metrics used by training and export (numpy only, no sklearn needed).

The sentiment metrics (confusion, precision/recall/F1, ECE) are the runtime package's, shared
with ``tonewatch train``; the multi-label GoEmotions and binary sarcasm ones live here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tonewatch.learn._calibration import confusion, ece, macro_f1, macro_recall, per_class_prf

__all__ = [
    "binary_f1",
    "confusion",
    "ece",
    "f1_per_label",
    "goemotions_macro_f1",
    "macro_f1",
    "macro_recall",
    "multilabel_targets",
    "per_class_prf",
    "tune_thresholds",
]


def binary_f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(((y == 1) & (pred == 1)).sum())
    fp = float(((y == 0) & (pred == 1)).sum())
    fn = float(((y == 1) & (pred == 0)).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1.0)


def multilabel_targets(labels: Sequence[Sequence[int]], k: int) -> np.ndarray:
    t = np.zeros((len(labels), k), dtype=int)
    for i, labs in enumerate(labels):
        t[i, list(labs)] = 1
    return t


def f1_per_label(probs: np.ndarray, targets: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    pred = probs >= thresholds[None, :]
    tp = (pred & (targets == 1)).sum(0).astype(float)
    fp = (pred & (targets == 0)).sum(0).astype(float)
    fn = (~pred & (targets == 1)).sum(0).astype(float)
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1.0)


def tune_thresholds(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-label threshold maximising F1 on the given data."""
    grid = np.arange(0.05, 0.95, 0.025)
    best = np.full(probs.shape[1], 0.5)
    for j in range(probs.shape[1]):
        scores = [f1_per_label(probs[:, [j]], targets[:, [j]], np.array([t]))[0] for t in grid]
        best[j] = grid[int(np.argmax(scores))]
    return best


def goemotions_macro_f1(probs: np.ndarray, labels: Sequence[Sequence[int]], k: int) -> tuple[float, float]:
    """Macro-F1 at 0.5 and with per-label thresholds cross-fitted on two halves (honest estimate)."""
    t = multilabel_targets(labels, k)
    at_half = float(f1_per_label(probs, t, np.full(k, 0.5)).mean())
    n = len(probs)
    idx = np.arange(n)
    a, b = idx % 2 == 0, idx % 2 == 1
    th_a = tune_thresholds(probs[a], t[a])
    th_b = tune_thresholds(probs[b], t[b])
    pred = np.zeros_like(t, dtype=bool)
    pred[b] = probs[b] >= th_a[None, :]
    pred[a] = probs[a] >= th_b[None, :]
    tp = (pred & (t == 1)).sum(0).astype(float)
    fp = (pred & (t == 0)).sum(0).astype(float)
    fn = (~pred & (t == 1)).sum(0).astype(float)
    crossfit = float((2 * tp / np.maximum(2 * tp + fp + fn, 1.0)).mean())
    return at_half, crossfit
