"""The evaluation arithmetic behind ``tonewatch eval``, checked on hand-computed cases."""

from __future__ import annotations

import pytest

from tonewatch.score import evaluate_sentiment
from tonewatch.score._metrics import expected_calibration_error


def _p(neg: float, neu: float, pos: float) -> dict[str, float]:
    return {"negative": neg, "neutral": neu, "positive": pos}


def test_perfect_and_confident_predictions() -> None:
    r = evaluate_sentiment(["negative", "neutral", "positive"], [_p(1, 0, 0), _p(0, 1, 0), _p(0, 0, 1)])
    assert (r.accuracy, r.macro_recall, r.macro_f1, r.ece) == (1.0, 1.0, 1.0, 0.0)
    assert r.confusion == ((1, 0, 0), (0, 1, 0), (0, 0, 1))


def test_hand_computed_report() -> None:
    gold = ["negative", "negative", "neutral", "positive"]
    probs = [_p(0.9, 0.1, 0), _p(0.2, 0.7, 0.1), _p(0.1, 0.8, 0.1), _p(0.6, 0.1, 0.3)]
    r = evaluate_sentiment(gold, probs, ["negative", "neutral", "neutral", "mixed"])
    assert r.confusion == ((1, 1, 0), (0, 1, 0), (1, 0, 0))
    assert r.accuracy == 0.5
    assert r.recall == {"negative": 0.5, "neutral": 1.0, "positive": 0.0}
    assert r.precision == {"negative": 0.5, "neutral": 0.5, "positive": 0.0}
    assert r.macro_recall == pytest.approx(0.5)
    assert r.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    assert r.mixed == 1
    # bins: 0.9 (right), 0.7 (wrong), 0.8 (right), 0.6 (wrong) each alone -> |0.9-1|+|0.7-0|+|0.8-1|+|0.6-0| over 4
    assert r.ece == pytest.approx((0.1 + 0.7 + 0.2 + 0.6) / 4)


def test_ece_of_a_calibrated_bin_is_zero() -> None:
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
    assert expected_calibration_error([], []) == 0.0
