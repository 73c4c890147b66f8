"""The class-bias report (``training/decision_bias.py``): its margins, grid choice and likelihood fit."""

from __future__ import annotations

import numpy as np
import pytest

from training.decision_bias import LINES, crossfit, grid_search, margins, report


def _sets(seed: int, positive_offset: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Two sets of clean 3-class logits; the airline one calls positive too often by ``positive_offset``."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, n, prior in (("tweeteval", 1500, (0.2, 0.45, 0.35)), ("airline", 900, (0.6, 0.25, 0.15))):
        y = rng.choice(3, size=n, p=prior)
        z = np.eye(3)[y] * 2.2 + rng.normal(0, 1.0, (n, 3))
        if name == "airline":
            z[:, 2] += positive_offset
        out[name] = (z, y)
    return out


def test_margins_are_signed_by_the_line_s_direction() -> None:
    reports = {
        "tweeteval": {"macro_recall": 0.75, "ece": 0.05},
        "airline": {"macro_f1": 0.70, "precision": {"positive": 0.80, "neutral": 0.75}},
    }
    m = margins(reports)
    assert list(m) == [f"{s}.{f}" for s, f, _, _ in LINES]
    assert m == {
        "tweeteval.macro_recall": 0.03,
        "tweeteval.ece": -0.02,  # an upper line: above it is a miss
        "airline.macro_f1": -0.08,
        "airline.precision.positive": 0.05,
        "airline.precision.neutral": 0.0,
    }


def test_a_bias_is_added_after_the_temperature() -> None:
    z, y = _sets(0, 0.0)["airline"]
    shifted = z.copy()
    shifted[:, 0] += 2.0 * 0.3
    shifted[:, 2] -= 2.0 * 0.5
    assert report(z, y, 2.0, (0.3, -0.5)) == report(shifted, y, 2.0, (0.0, 0.0))


def test_the_grid_takes_back_an_offset_that_costs_positive_precision() -> None:
    sets = _sets(1, 1.0)
    base = min(margins({k: report(z, y, 1.0, (0.0, 0.0)) for k, (z, y) in sets.items()}).values())
    (neg, pos), best = grid_search(sets, 1.0)
    assert best > base
    assert pos - neg < -0.3  # positive pulled down against negative, as the offset asks
    assert (
        report(*sets["airline"], 1.0, (neg, pos))["precision"]["positive"]
        > report(*sets["airline"], 1.0, (0.0, 0.0))["precision"]["positive"]
    )


def test_crossfit_measures_each_choice_on_the_half_it_did_not_see() -> None:
    folds = crossfit(_sets(2, 1.0), 1.0, seeds=1)
    assert [(f["seed"], f["half"]) for f in folds] == [(0, 0), (0, 1)]
    for f in folds:
        assert set(f["chosen"]) == set(f["none"]) == {"macro_f1", "precision_positive", "precision_neutral"}
        assert f["chosen"]["precision_positive"] > f["none"]["precision_positive"]


def test_the_likelihood_fit_recovers_a_known_temperature_and_bias() -> None:
    pytest.importorskip("torch")
    from training.decision_bias import fit_nll

    rng = np.random.default_rng(4)
    z = rng.normal(0, 3.0, (20_000, 3))
    t_true, b_true = 2.0, np.array([0.4, 0.0, -0.6])
    x = z / t_true + b_true
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    t, (neg, pos) = fit_nll([(z, y, 1.0)])
    assert t == pytest.approx(t_true, rel=0.05)
    assert neg == pytest.approx(0.4, abs=0.06)
    assert pos == pytest.approx(-0.6, abs=0.06)
