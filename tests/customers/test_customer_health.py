"""Health reports: bounds, bands, an exact breakdown, flags, weights — as properties and examples."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from customer_builders import NOW, Story, day, random_story
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tonewatch import InputError, NotFoundError
from tonewatch.health import (
    FEATURES,
    FLAGS,
    CustomerState,
    HealthReport,
    HealthWeights,
    band_of,
    factor_features,
)

weights_strategy = st.builds(
    lambda base, scale, flip: HealthWeights.from_dict(
        {
            "base": base,
            **{name: HealthWeights().points(name) * scale * (-1 if name in flip else 1) for name in FEATURES},
        }
    ),
    base=st.floats(0, 100),
    scale=st.floats(0, 6),
    flip=st.sets(st.sampled_from(FEATURES), max_size=5),
)


def check_report(report: HealthReport) -> None:
    assert 0.0 <= report.health <= 100.0
    assert report.band == band_of(report.health)
    assert round(report.health, 1) == report.health
    total = sum(f.points for f in report.factors)
    assert total == pytest.approx(report.health - report.base, abs=1e-6)
    assert all(f.points != 0 and f.reason for f in report.factors)
    assert [f.points for f in report.factors] == sorted(f.points for f in report.factors)
    assert set(report.flags) <= set(FLAGS)
    assert list(report.flags) == [f for f in FLAGS if f in report.flags]
    assert set(factor_features(report)) == set(FEATURES)
    json.dumps(report.to_dict(), allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(0, 150),
    weights=weights_strategy,
    later=st.floats(0, 120),
    segment=st.none() | st.floats(-1, 1),
)
def test_health_is_bounded_banded_and_its_breakdown_adds_up(
    seed: int, n: int, weights: HealthWeights, later: float, segment: float | None
) -> None:
    state = random_story(seed, n=n).state()
    check_report(state.report(NOW + timedelta(days=later), weights=weights, segment_baseline=segment))


@pytest.mark.parametrize(
    ("health", "band"),
    [
        (100, "healthy"),
        (70, "healthy"),
        (69.9, "watch"),
        (50, "watch"),
        (49.9, "at-risk"),
        (30, "at-risk"),
        (29.9, "critical"),
        (0, "critical"),
    ],
)
def test_bands(health: float, band: str) -> None:
    assert band_of(health) == band


def test_a_customer_with_no_events_scores_the_base() -> None:
    report = CustomerState("empty").report(NOW)
    assert report.health == HealthWeights().base
    assert report.factors == ()
    assert report.flags == ()
    assert report.to_dict()["trend"] == {"level": None, "slope": None, "declining": False}


def test_scores_are_floored_at_zero_and_the_breakdown_is_scaled_to_match() -> None:
    harsh = HealthWeights.from_dict({"base": 20, "negative_sentiment": -200, "usage_decline": -100})
    state = Story("x").message(day(-1), "Awful.", -0.9).state()
    report = state.report(NOW, weights=harsh)
    assert report.health == 0.0
    assert sum(f.points for f in report.factors) == pytest.approx(-20.0)
    assert "scaled" in report.factors[0].reason


def test_scores_are_capped_at_a_hundred() -> None:
    generous = HealthWeights.from_dict({"base": 95, "positive_sentiment": 50})
    state = Story("x").message(day(-1), "Wonderful.", 0.9).state()
    report = state.report(NOW, weights=generous)
    assert report.health == 100.0
    assert report.band == "healthy"
    assert sum(f.points for f in report.factors) == pytest.approx(5.0)


def test_weights_change_points_not_flags() -> None:
    story = random_story(7)
    state = story.state()
    default = state.report(NOW)
    zero = state.report(NOW, weights=HealthWeights.from_dict(dict.fromkeys(FEATURES, 0.0)))
    assert zero.health == HealthWeights().base
    assert zero.factors == ()
    assert zero.flags == default.flags


def test_factor_features_are_the_unweighted_values() -> None:
    report = random_story(21).state().report(NOW)
    feats = factor_features(report)
    for f in report.factors:
        assert f.points == pytest.approx(HealthWeights().points(f.name) * feats[f.name], abs=0.051)
    assert all(v >= 0 for v in feats.values())


def test_as_of_ignores_nothing_it_should_not_and_ages_windows() -> None:
    story = Story("x")
    for offset in (-9, -5, -1):
        story.message(day(offset), "Billing again.", -0.4, ticket=f"b{offset}", category="billing")
    state = story.state()
    assert "repeat_contact" in state.report(NOW).flags
    assert "repeat_contact" not in state.report(NOW + timedelta(days=30)).flags


def test_customer_state_validates_its_input() -> None:
    with pytest.raises(InputError) as err:
        CustomerState("a").update(Story("b").message(day(-1), "hi").steps[0][0])
    assert err.value.code == "customer_mismatch"
    with pytest.raises(InputError) as err:
        CustomerState("a", {"renewal_date": "soon"})
    assert err.value.code == "invalid_attributes"
    with pytest.raises(InputError) as err:
        CustomerState.from_state({"version": 99})
    assert err.value.code == "invalid_state"
    with pytest.raises(InputError) as err:
        CustomerState.from_state({"version": 1, "customer_id": "a"})
    assert err.value.code == "invalid_state"


def test_customer_events_merge_attributes() -> None:
    state = CustomerState("a", {"plan": "pro", "renewal_date": "2026-12-01"})
    story = Story("a").update_attributes(plan="enterprise", renewal_date=day(20).date().isoformat())
    state.update(*story.steps[0])
    assert state.attributes["plan"] == "enterprise"
    assert "renewal_soon" in state.report(NOW).flags


def test_weights_from_dict_and_yaml(tmp_path: Path) -> None:
    path = tmp_path / "weights.yaml"
    path.write_text("base: 80\nusage_decline: -40\n", encoding="utf-8")
    w = HealthWeights.from_yaml(path)
    assert w.base == 80
    assert w.usage_decline == -40
    assert w.follow_ups == HealthWeights().follow_ups
    round_trip = tmp_path / "out.yaml"
    round_trip.write_text(w.to_yaml(), encoding="utf-8")
    assert HealthWeights.from_yaml(round_trip) == w


@pytest.mark.parametrize(
    ("data", "field"),
    [({"usage_declin": -3}, "usage_declin"), ({"base": 120}, "base"), ({"tenure": "lots"}, "tenure")],
)
def test_invalid_weights_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as err:
        HealthWeights.from_dict(data)
    assert err.value.code == "invalid_weights"
    assert err.value.field == field


def test_weights_file_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        HealthWeights.from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: [1, 2\n", encoding="utf-8")
    with pytest.raises(InputError):
        HealthWeights.from_yaml(bad)
    with pytest.raises(InputError):
        HealthWeights().points("nope")
