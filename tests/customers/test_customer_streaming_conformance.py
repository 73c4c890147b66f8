"""Every streaming object of trajectory/signals/health passes the same checks.

update returns self; the state is JSON (no NaN, no objects); ``from_state(to_state())`` continues
exactly like the original (same state, same outputs); two runs are identical; nothing reads the
wall clock.
"""

from __future__ import annotations

import ast
import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from customer_builders import NOW, day, random_story
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tonewatch
from tonewatch.health import CustomerState
from tonewatch.signals import (
    ChannelEscalation,
    ContactFrequency,
    FollowUps,
    NegativeMessages,
    Outcomes,
    Renewal,
    RepeatContact,
    Silence,
    SurveyTrend,
    Tenure,
    Tickets,
    UrgencySignal,
    UsageDecline,
)
from tonewatch.trajectory import EWMean, PageHinkley, Slope, Trajectory

# Times at which outputs are compared: within, at the end of, and after the stream.
PROBES = (day(-90), day(-20), day(-1), NOW, NOW + timedelta(days=45))


def _numeric_stream(seed: int, n: int = 80) -> list[tuple[datetime, float]]:
    rng = random.Random(seed)
    t = day(-150)
    out = []
    for _ in range(n):
        t += timedelta(hours=rng.uniform(1, 90))
        out.append((t, round(rng.uniform(-1, 1), 3)))
    return out


@dataclass(frozen=True)
class Kind:
    """How to make, feed and read one kind of streaming object."""

    name: str
    make: Callable[[], Any]
    feed: Callable[[Any, Any], Any]
    read: Callable[[Any], Any]
    items: Callable[[int], Sequence[Any]]


def _numeric(name: str, make: Callable[[], Any], read: Callable[[Any], Any]) -> Kind:
    return Kind(name, make, lambda obj, item: obj.update(*item), read, _numeric_stream)


def _steps(seed: int) -> list[Any]:
    return random_story(seed, n=150).ordered()


def _signal(cls: type) -> Kind:
    return Kind(
        cls.__name__,
        cls,
        lambda obj, step: obj.update(*step),
        lambda obj: [obj.at(t).to_dict() for t in PROBES],
        _steps,
    )


def _state_read(obj: CustomerState) -> Any:
    return [obj.report(t).to_dict() for t in PROBES] + [obj.report(NOW, segment_baseline=0.3).to_dict()]


KINDS = [
    _numeric("EWMean", lambda: EWMean(10.0), lambda o: (o.value, o.n, [o.weight_at(t) for t in PROBES])),
    _numeric("Slope", lambda: Slope(42.0), lambda o: (o.value, o.n, [o.at(t) for t in PROBES])),
    _numeric("PageHinkley", PageHinkley, lambda o: (o.statistic, o.baseline, o.alarms, o.last_alarm)),
    _numeric("Trajectory", Trajectory, lambda o: [o.at(t).details() for t in PROBES]),
    *(
        _signal(cls)
        for cls in (
            ContactFrequency,
            RepeatContact,
            ChannelEscalation,
            Silence,
            NegativeMessages,
            Tickets,
            FollowUps,
            SurveyTrend,
            UsageDecline,
            UrgencySignal,
            Renewal,
            Tenure,
            Outcomes,
        )
    ),
    Kind(
        "CustomerState",
        lambda: CustomerState("rnd", {"segment": "smb"}),
        lambda o, s: o.update(*s),
        _state_read,
        _steps,
    ),
]


def _json_roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    restored: dict[str, Any] = json.loads(json.dumps(state, allow_nan=False))
    return restored


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_update_returns_self(kind: Kind) -> None:
    obj = kind.make()
    for item in kind.items(1)[:40]:
        assert kind.feed(obj, item) is obj


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_state_is_plain_json(kind: Kind) -> None:
    obj = kind.make()
    for item in kind.items(2):
        kind.feed(obj, item)
    state = obj.to_state()
    assert _json_roundtrip(state) == state
    assert type(obj).from_state(state).to_state() == state


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
@pytest.mark.parametrize("seed", [3, 4])
def test_round_trip_continues_exactly(kind: Kind, seed: int) -> None:
    items = kind.items(seed)
    for split in (0, len(items) // 3, len(items) - 1):
        original = kind.make()
        for item in items[:split]:
            kind.feed(original, item)
        restored = type(original).from_state(_json_roundtrip(original.to_state()))
        assert kind.read(restored) == kind.read(original)
        for item in items[split:]:
            kind.feed(original, item)
            kind.feed(restored, item)
        assert restored.to_state() == original.to_state()
        assert kind.read(restored) == kind.read(original)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_deterministic(kind: Kind) -> None:
    a, b = kind.make(), kind.make()
    for item in kind.items(5):
        kind.feed(a, item)
        kind.feed(b, item)
    assert a.to_state() == b.to_state()
    assert kind.read(a) == kind.read(b)
    assert kind.read(a) == kind.read(a)  # reading does not change the state


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_reading_does_not_mutate(kind: Kind) -> None:
    obj = kind.make()
    for item in kind.items(6):
        kind.feed(obj, item)
    before = obj.to_state()
    kind.read(obj)
    assert obj.to_state() == before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 160), cut=st.floats(0, 1))
def test_customer_state_round_trip_at_any_point(seed: int, n: int, cut: float) -> None:
    steps = random_story(seed, n=n).ordered()
    split = int(cut * len(steps))
    original = CustomerState("rnd", {"segment": "smb"})
    for step in steps[:split]:
        original.update(*step)
    restored = CustomerState.from_state(_json_roundtrip(original.to_state()))
    for step in steps[split:]:
        original.update(*step)
        restored.update(*step)
    assert restored.to_state() == original.to_state()
    assert restored.report(NOW).to_dict() == original.report(NOW).to_dict()


_PACKAGES = ("trajectory", "signals", "health")
_CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}


def test_no_wall_clock_in_customer_code() -> None:
    """As-of semantics: nothing in these packages may read the clock (reports must replay)."""
    root = Path(tonewatch.__file__).parent
    offenders = []
    for package in _PACKAGES:
        for path in sorted((root / package).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                if call and node.func.attr in _CLOCK_CALLS:  # type: ignore[attr-defined]
                    offenders.append(f"{path.name}:{node.lineno} .{node.func.attr}()")  # type: ignore[attr-defined]
                if isinstance(node, ast.ImportFrom) and node.module in ("time",):
                    offenders.append(f"{path.name}:{node.lineno} from time import ...")
    assert offenders == []


def test_reports_depend_only_on_as_of() -> None:
    state = random_story(11).state()
    first = state.report(NOW).to_dict()
    later = state.report(NOW + timedelta(days=30)).to_dict()
    assert state.report(NOW).to_dict() == first
    assert later != first  # time-windowed signals age with as_of


def test_numeric_objects_reject_non_finite_values() -> None:
    from tonewatch import InputError

    for obj in (EWMean(), Slope(), PageHinkley(), Trajectory()):
        with pytest.raises(InputError):
            obj.update(NOW, math.nan)
        with pytest.raises(InputError):
            obj.update(NOW, math.inf)
