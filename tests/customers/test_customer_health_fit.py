"""Learning health weights from churn outcomes (logistic regression in numpy)."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from customer_builders import NOW, random_story
from hypothesis import given, settings
from hypothesis import strategies as st

from tonewatch import InputError
from tonewatch.health import FEATURES, HealthWeights, factor_features, fit_weights, health_from_features, roc_auc


def synthetic_rows(n: int, seed: int = 0) -> list[tuple[dict[str, float], bool]]:
    """Churn driven by usage decline and follow-ups, softened by tenure; other factors are noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        f = {name: float(rng.random() < 0.2) * float(rng.random()) for name in FEATURES}
        f["usage_decline"] = float(rng.random())
        f["follow_ups"] = float(rng.random() < 0.3)
        f["tenure"] = float(rng.random())
        logit = -2.0 + 4.0 * f["usage_decline"] + 2.0 * f["follow_ups"] - 2.0 * f["tenure"]
        rows.append((f, bool(rng.random() < 1 / (1 + math.exp(-logit)))))
    return rows


def test_fit_recovers_the_drivers_of_churn() -> None:
    rows = synthetic_rows(1500)
    result = fit_weights(rows, l2=1.0)
    assert result.auc is not None
    assert result.auc > 0.75
    assert result.coefficients["usage_decline"] > 2.5
    assert result.coefficients["follow_ups"] > 1.0
    assert result.coefficients["tenure"] < -1.0
    assert abs(result.coefficients["renewal_soon"]) < 0.6  # pure noise stays small
    w = result.weights
    assert w.usage_decline < -50
    assert w.follow_ups < -20
    assert w.tenure > 20
    assert w.usage_decline == pytest.approx(-25 * result.coefficients["usage_decline"], abs=1e-3)
    assert result.n_train + result.n_test == len(rows)
    assert result.n_test == 375


def test_learned_weights_rank_better_than_flat_ones() -> None:
    rows = synthetic_rows(1200, seed=1)
    flat = HealthWeights.from_dict(dict.fromkeys(FEATURES, 0.0))
    result = fit_weights(rows, current=flat)
    assert result.current_auc == pytest.approx(0.5)
    assert result.auc is not None
    assert result.auc > result.current_auc + 0.2
    # the returned weights (refitted on every row) rank the hold-out as well as the split model did
    test = rows[result.n_train :]
    health = [health_from_features(f, result.weights) for f, _ in test]
    learned = roc_auc([-h for h in health], [y for _, y in test])
    assert learned is not None
    assert learned >= result.auc - 0.02


def test_split_is_by_time_not_by_position() -> None:
    rows = synthetic_rows(200, seed=3)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    times = [start + timedelta(days=i) for i in range(len(rows))]
    order = list(range(len(rows)))
    random.Random(5).shuffle(order)
    shuffled = [rows[i] for i in order]
    shuffled_times = [times[i] for i in order]
    a = fit_weights(rows)
    b = fit_weights(shuffled, times=shuffled_times)
    assert a.auc == pytest.approx(b.auc)
    assert a.weights == b.weights


@settings(max_examples=50, deadline=None)
@given(
    scores=st.lists(st.integers(0, 5), min_size=2, max_size=30),
    labels=st.lists(st.booleans(), min_size=2, max_size=30),
)
def test_roc_auc_matches_pairwise_definition(scores: list[int], labels: list[bool]) -> None:
    n = min(len(scores), len(labels))
    s, y = scores[:n], labels[:n]
    pos = [a for a, lab in zip(s, y, strict=True) if lab]
    neg = [a for a, lab in zip(s, y, strict=True) if not lab]
    if not pos or not neg:
        assert roc_auc(s, y) is None
        return
    pairs = [(1.0 if p > q else 0.5 if p == q else 0.0) for p, q in itertools.product(pos, neg)]
    assert roc_auc(s, y) == pytest.approx(sum(pairs) / len(pairs))


def test_rows_from_real_reports() -> None:
    rows = []
    for seed in range(30):
        report = random_story(seed, n=60, customer_id=f"c{seed}").state().report(NOW)
        rows.append((factor_features(report), report.health < 60))
    if len({y for _, y in rows}) == 2:
        result = fit_weights(rows)
        assert set(result.weights.to_dict()) == {"base", *FEATURES}


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        ([({"usage_decline": 1.0}, True)] * 20, "insufficient_data"),
        ([({"usage_decline": 1.0}, True), ({}, False)] * 3, "insufficient_data"),
        ([({"usage_declin": 1.0}, True), ({}, False)] * 10, "unknown_factor"),
        ([({"usage_decline": math.nan}, True), ({}, False)] * 10, "invalid_value"),
    ],
)
def test_fit_rejects_unusable_rows(rows: list[tuple[dict[str, float], bool]], code: str) -> None:
    with pytest.raises(InputError) as err:
        fit_weights(rows)
    assert err.value.code == code
