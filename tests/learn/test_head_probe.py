"""The head probe (``training/head_probe.py``): its label count, its margins and its head fit."""

from __future__ import annotations

import numpy as np
import pytest

from training.decision_bias import LINES
from training.head_probe import fit_head, label_convention, measure


def test_label_convention_counts_short_thank_you_texts_only() -> None:
    texts = [
        "@user thanks!",
        "@user @user Thank you so much",  # handles are not words: four words
        "@user thank you, the crew were great",  # six words: not short
        "@user great",  # no thanks
        "@user thanks for nothing",
        "@user Thanksgiving travel is a mess",  # not the word "thanks"
    ]
    labels = [2, 1, 2, 2, 0, 0]
    assert label_convention(texts, labels) == {"negative": 1, "neutral": 1, "positive": 1}


def _logits(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=(0.4, 0.35, 0.25))
    return np.eye(3)[y] * 2.0 + rng.normal(0, 1.0, (n, 3)), y


def test_measure_reports_every_line_at_the_temperature_it_is_given() -> None:
    te, air = _logits(1, 1500), _logits(2, 800)
    fitted = measure(te, air)
    assert list(fitted["margins"]) == [f"{s}.{f}" for s, f, _, _ in LINES]
    assert set(fitted["airline"]) == {"macro_f1", "precision.negative", "precision.neutral", "precision.positive"}
    given = measure(te, air, temperature=5.0)
    assert given["temperature"] == 5.0
    # argmax figures do not depend on the temperature; the calibration line does
    assert given["airline"] == fitted["airline"]
    assert given["margins"]["tweeteval.ece"] < fitted["margins"]["tweeteval.ece"]


def test_a_fitted_head_separates_a_planted_linear_problem() -> None:
    pytest.importorskip("torch", reason="the head probe fits heads with torch (the [train] extra)")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1200, 16)).astype(np.float32)
    w = rng.normal(size=(16, 3))
    y = (x @ w).argmax(1)
    head = fit_head(x[:900], y[:900], epochs=40)
    assert head(x[900:]).shape == (300, 3)
    assert (head(x[900:]).argmax(1) == y[900:]).mean() > 0.9
