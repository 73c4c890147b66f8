"""Trajectory objects against numpy oracles, and the decline detector on the cases that matter."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from customer_builders import NOW, day
from hypothesis import given, settings
from hypothesis import strategies as st

from tonewatch import InputError
from tonewatch.trajectory import DAY, WEEK, EWMean, PageHinkley, Slope, Trajectory

times_and_scores = st.lists(
    st.tuples(st.floats(0, 400, allow_nan=False), st.floats(-1, 1, allow_nan=False)), min_size=1, max_size=60
)


@settings(max_examples=60, deadline=None)
@given(points=times_and_scores, half_life=st.floats(0.5, 120))
def test_ewmean_matches_numpy_weighted_average(points: list[tuple[float, float]], half_life: float) -> None:
    points = sorted(points)
    ew = EWMean(half_life)
    for offset, score in points:
        ew.update(day(-400 + offset), score)
    t = np.array([p[0] for p in points])
    xs = np.array([p[1] for p in points])
    w = 0.5 ** ((t[-1] - t) / half_life)
    assert ew.value == pytest.approx(float(np.average(xs, weights=w)), abs=1e-9)
    assert ew.weight_at(day(-400 + t[-1])) == pytest.approx(float(w.sum()), rel=1e-9)


def test_ewmean_does_not_depend_on_arrival_order() -> None:
    pts = [(day(-d), math.sin(d)) for d in (1, 30, 7, 90, 3, 45)]
    forward, shuffled = EWMean(14), EWMean(14)
    for t, x in sorted(pts):
        forward.update(t, x)
    for t, x in pts:
        shuffled.update(t, x)
    assert shuffled.value == pytest.approx(forward.value, abs=1e-12)


def test_ewmean_half_life_halves_the_weight() -> None:
    ew = EWMean(10).update(day(-10), 1.0).update(day(0), 0.0)
    assert ew.value == pytest.approx(1 / 3)  # weights 0.5 and 1


@settings(max_examples=60, deadline=None)
@given(points=st.lists(st.tuples(st.floats(0, 200), st.floats(-1, 1)), min_size=3, max_size=80))
def test_slope_matches_polyfit_over_the_window(points: list[tuple[float, float]]) -> None:
    points = sorted(points)
    slope = Slope(42.0)
    for offset, x in points:
        slope.update(day(-200 + offset), x)
    last = points[-1][0]
    inside = [(t, x) for t, x in points if t > last - 42]
    fit = slope.at(day(-200 + last))
    span = inside[-1][0] - inside[0][0] if inside else 0.0
    if len(inside) < 3 or span < 7:
        assert fit is None
        return
    weeks = np.array([t for t, _ in inside]) / 7.0
    xs = np.array([x for _, x in inside])
    expected = float(np.polyfit(weeks, xs, 1)[0])
    assert fit is not None
    assert fit.n == len(inside)
    assert fit.slope == pytest.approx(expected, abs=1e-6)


def test_slope_window_follows_as_of() -> None:
    slope = Slope(42.0)
    for d, x in ((-60, 0.9), (-50, 0.8), (-30, 0.1), (-20, 0.0), (-10, 0.05)):
        slope.update(day(d), x)
    now_fit = slope.at(day(-10))
    assert now_fit is not None
    assert now_fit.n == 4
    later = slope.at(day(10))  # only days -30, -20, -10 remain
    assert later is not None
    assert later.n == 3
    assert slope.at(day(30)) is None  # one point left


def test_slope_t_statistic_separates_trend_from_noise() -> None:
    trend, noise = Slope(), Slope()
    for k in range(6):
        trend.update(day(-35 + 7 * k), 0.8 - 0.08 * k)
        noise.update(day(-35 + 7 * k), -0.5 + (0.15 if k % 2 else -0.15))
    t_fit, n_fit = trend.at(NOW), noise.at(NOW)
    assert t_fit is not None
    assert n_fit is not None
    assert t_fit.slope == pytest.approx(-0.08)
    assert t_fit.t_stat < -10
    assert abs(n_fit.t_stat) < 2


def test_page_hinkley_fires_on_a_sustained_drop_not_on_one_bad_message() -> None:
    sustained = PageHinkley()
    for k in range(8):
        sustained.update(day(-80 + k), 0.7)
    for k in range(4):
        sustained.update(day(-20 + 5 * k), 0.0)
    assert sustained.alarms == 1
    assert sustained.last_alarm is not None
    assert sustained.last_alarm >= day(-20)

    outlier = PageHinkley()
    for k in range(8):
        outlier.update(day(-80 + k), 0.7)
    outlier.update(day(-10), -1.0)
    for k in range(4):
        outlier.update(day(-9 + k), 0.7)
    assert outlier.alarms == 0


@settings(max_examples=40, deadline=None)
@given(level=st.floats(-1, 1), n=st.integers(1, 80))
def test_page_hinkley_never_fires_on_a_constant_series(level: float, n: int) -> None:
    ph = PageHinkley()
    for k in range(n):
        ph.update(day(-n + k), level)
    assert ph.alarms == 0
    assert ph.statistic == pytest.approx(0.0, abs=1e-9)


def test_page_hinkley_restarts_after_an_alarm() -> None:
    ph = PageHinkley()
    for k in range(6):
        ph.update(day(-60 + k), 0.8)
    for k in range(4):
        ph.update(day(-30 + k), -0.2)
    assert ph.alarms == 1
    for k in range(20):  # steady at the new level: no second alarm
        ph.update(day(-20 + k), -0.2)
    assert ph.alarms == 1


def test_gradual_decline_point_eight_to_point_four_in_six_weeks_is_declining() -> None:
    traj = Trajectory()
    for k, x in enumerate((0.8, 0.75, 0.65, 0.6, 0.5, 0.4)):
        traj.update(day(-35 + 7 * k), x)
    trend = traj.at(NOW)
    assert trend.declining
    assert any("slope" in r for r in trend.reasons)


def test_chronic_complainer_steady_at_minus_half_is_not_declining() -> None:
    traj = Trajectory()
    wobble = (0.0, 0.08, -0.06, 0.05, -0.08)
    for k, offset in enumerate(range(-720, 0, 10)):
        traj.update(day(offset), -0.5 + wobble[k % 5])
    for as_of in (day(-300), day(-100), NOW):
        assert not traj.at(as_of).declining


@settings(max_examples=40, deadline=None)
@given(level=st.floats(-1, 1), n=st.integers(1, 40), gap=st.floats(0.2, 20))
def test_a_constant_series_at_the_segment_baseline_is_never_declining(level: float, n: int, gap: float) -> None:
    traj = Trajectory()
    for k in range(n):
        traj.update(NOW - timedelta(days=gap * (n - k)), level)
    trend = traj.at(NOW, segment_baseline=level)
    assert not trend.declining
    assert trend.drop == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(level=st.floats(-1, 1), n=st.integers(5, 40))
def test_a_steady_customer_with_history_is_not_declining_whatever_their_level(level: float, n: int) -> None:
    traj = Trajectory()
    for k in range(n):
        traj.update(NOW - timedelta(days=(30 / n) * (n - k)), level)
    assert not traj.at(NOW).declining


def test_new_customer_far_below_the_segment_is_compared_with_peers() -> None:
    traj = Trajectory().update(day(-3), -0.8)
    alone = traj.at(NOW)
    with_segment = traj.at(NOW, segment_baseline=0.4)
    assert alone.reference is not None
    assert with_segment.reference is not None
    assert with_segment.reference > alone.reference
    assert with_segment.drop == pytest.approx((-0.8 + 0.4) / 2 + 0.8)


def test_declining_needs_a_recent_message() -> None:
    traj = Trajectory()
    for k, x in enumerate((0.8, 0.7, 0.5, 0.3, 0.1, -0.1)):
        traj.update(day(-100 + 7 * k), x)
    assert traj.at(day(-60)).declining
    assert not traj.at(NOW).declining  # the last message is two months old
    assert traj.at(NOW).freshness < traj.at(day(-60)).freshness


def test_invalid_parameters_are_input_errors() -> None:
    with pytest.raises(InputError):
        EWMean(0)
    with pytest.raises(InputError):
        Slope(window_days=-1)
    with pytest.raises(InputError):
        Slope(min_points=2)
    with pytest.raises(InputError):
        PageHinkley(threshold=0)


def test_units() -> None:
    assert WEEK == 7 * DAY == 604_800
