"""Drift: PSI against a numpy oracle and its properties, the report over a constructed store (SQLite and
PostgreSQL), alerts through the audit log, the webhook outbox and the metrics, and the command.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from learn_fixtures import NOW, add_message, days
from sqlalchemy import func, select
from typer.testing import CliRunner

from tonewatch._errors import InputError
from tonewatch.api._models import WebhookDeliveryRow
from tonewatch.api._webhooks import create_subscription
from tonewatch.audit import AuditLog
from tonewatch.cli._drift import register
from tonewatch.learn import compute_drift, drift_gauges, latest_drift, parse_window, psi, record_drift
from tonewatch.learn._drift import SCORE_EDGES, drift_windows, score_bin
from tonewatch.learn._drift_tables import DriftReportRow
from tonewatch.settings import Settings
from tonewatch.store import Store

AS_OF = NOW + days(1)
SETTINGS = Settings(_env_file=None)

# -- PSI ----------------------------------------------------------------------------------------


def numpy_psi(reference: Sequence[float], current: Sequence[float], floor: float = 1e-4) -> float:
    """The textbook computation, vectorised: the oracle."""
    e = np.asarray(reference, dtype=float)
    a = np.asarray(current, dtype=float)
    pe = np.clip(e / e.sum(), floor, None)
    pa = np.clip(a / a.sum(), floor, None)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def _pair(min_value: int = 0) -> st.SearchStrategy[tuple[list[int], list[int]]]:
    return st.integers(2, 12).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(min_value, 500), min_size=n, max_size=n).filter(lambda x: sum(x) > 0),
            st.lists(st.integers(min_value, 500), min_size=n, max_size=n).filter(lambda x: sum(x) > 0),
        )
    )


@settings(max_examples=200, deadline=None)
@given(_pair())
def test_psi_matches_the_numpy_oracle(pair: tuple[list[int], list[int]]) -> None:
    reference, current = pair
    assert psi(reference, current) == pytest.approx(numpy_psi(reference, current), rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=2, max_size=12).filter(lambda x: sum(x) > 0), st.integers(1, 9))
def test_psi_of_the_same_distribution_is_zero_whatever_the_volume(counts: list[int], scale: int) -> None:
    assert psi(counts, counts) == 0.0
    assert psi(counts, [c * scale for c in counts]) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(_pair(min_value=1), st.floats(0, 1), st.floats(0, 1))
def test_psi_grows_as_the_current_distribution_moves_away(
    pair: tuple[list[int], list[int]], t1: float, t2: float
) -> None:
    """Mixing ever more of another distribution in never lowers the index, and it is symmetric."""
    reference, other = pair
    lo, hi = sorted((t1, t2))
    pe = np.asarray(reference, float) / sum(reference)
    pq = np.asarray(other, float) / sum(other)
    near, far = (1 - lo) * pe + lo * pq, (1 - hi) * pe + hi * pq
    assert psi(reference, list(near)) <= psi(reference, list(far)) + 1e-12
    assert psi(reference, list(far)) >= 0.0
    assert psi(reference, other) == pytest.approx(psi(other, reference))


def _scores(mean: float, n: int = 400) -> list[int]:
    """Binned counts of ``n`` evenly spaced quantiles of a normal score distribution (no sampling noise)."""
    dist = NormalDist(mean, 0.3)
    counts = [0] * (len(SCORE_EDGES) - 1)
    for i in range(n):
        counts[score_bin(max(-1.0, min(1.0, dist.inv_cdf((i + 0.5) / n))))] += 1
    return counts


def test_psi_of_the_score_distribution_rises_with_the_shift_of_the_scores() -> None:
    base = _scores(0.2)
    values = [psi(base, _scores(0.2 - shift)) for shift in (0.0, 0.05, 0.1, 0.2, 0.4, 0.8)]
    assert values[0] == 0.0
    assert values == sorted(values)
    assert values[1] < 0.1 < values[-1]
    assert len(set(values)) == len(values)


def test_psi_edge_cases() -> None:
    assert psi([0, 0], [1, 2]) == 0.0
    with pytest.raises(InputError):
        psi([1, 2], [1, 2, 3])


def test_scores_fall_in_fixed_bins_of_width_a_fifth() -> None:
    assert SCORE_EDGES[0] == -1.0
    assert SCORE_EDGES[-1] == 1.0
    assert [score_bin(x) for x in (-1.0, -0.8, -0.6, -0.0001, 0.0, 0.6, 0.99, 1.0, 1.5, -3.0)] == [
        0,
        1,
        2,
        4,
        5,
        8,
        9,
        9,
        9,
        0,
    ]


# -- windows ------------------------------------------------------------------------------------


def test_windows() -> None:
    ref, cur = drift_windows(AS_OF, current_days=7, reference_days=28)
    assert (cur.end - cur.start).days == 7
    assert ref.end == cur.start
    assert (ref.end - ref.start).days == 28
    w = parse_window("2026-04-01..2026-04-28")
    assert w.start == datetime(2026, 4, 1, tzinfo=UTC)
    assert w.end == datetime(2026, 4, 29, tzinfo=UTC)  # a date END includes that day
    w2 = parse_window("2026-04-01T06:00:00Z..2026-04-02T06:00:00+02:00")
    assert w2.end == datetime(2026, 4, 2, 4, tzinfo=UTC)
    for bad in (
        "2026-04-01",
        "2026-04-28..2026-04-01",
        "april..may",
        "..2026-04-01",
        "0001-01-01T00:00+14:00..2026-01-01",
    ):
        with pytest.raises(InputError) as exc:
            parse_window(bad)
        assert exc.value.code == "invalid_window"
    with pytest.raises(InputError) as overlap:
        drift_windows(AS_OF, current_days=7, reference_days=28, reference=parse_window("2026-05-01..2026-05-12"))
    assert "must end by" in overlap.value.message
    with pytest.raises(InputError) as early:
        drift_windows(datetime(1, 1, 3, tzinfo=UTC), current_days=7, reference_days=28)
    assert early.value.code == "invalid_window"


# -- the report over a store -----------------------------------------------------------------------

_REFERENCE_TEXTS = [
    "Thanks, the delivery arrived and the invoice is right.",
    "The app works well, thank you for the help.",
    "Can you send me the invoice for my last order?",
    "Everything is fine with my account, thanks.",
]


def _seed(store: Store, *, drifted: bool) -> None:
    """60 ordinary reference messages; 60 current ones, ordinary or drifted (negative, unsure, new words)."""
    with store.session() as s:
        for i in range(60):
            label = ("positive", "neutral")[i % 2]
            add_message(
                s,
                f"ref-{i}",
                _REFERENCE_TEXTS[i % 4],
                when=AS_OF - days(8 + i * 0.4),
                customer=f"r{i % 9}",
                label=label,
                confidence=0.9,
                score=0.6 if label == "positive" else 0.05,
            )
        for i in range(60):
            if drifted and i % 2 == 0:
                text = f"The zorbix dongle keeps crashing, {('skibidi', 'blorptastic', 'quantumsync')[i % 3]} mess."
                add_message(
                    s,
                    f"cur-{i}",
                    text,
                    when=AS_OF - days(0.5 + i * 0.1),
                    customer=f"c{i % 11}",
                    label="negative",
                    confidence=0.4,
                    score=-0.7,
                    model_version="1.1.0",
                )
            else:
                label = ("positive", "neutral")[i % 2]
                add_message(
                    s,
                    f"cur-{i}",
                    _REFERENCE_TEXTS[i % 4],
                    when=AS_OF - days(0.5 + i * 0.1),
                    customer=f"c{i % 11}",
                    label=label,
                    confidence=0.9,
                    score=0.6 if label == "positive" else 0.05,
                )


def test_a_stable_week_raises_nothing(store: Store) -> None:
    _seed(store, drifted=False)
    with store.session(readonly=True) as s:
        report = compute_drift(s, SETTINGS, as_of=AS_OF, fragmentation=False)
    assert (report.reference.messages, report.current.messages) == (60, 60)
    assert report.enough_data
    assert report.score_psi is not None
    assert report.score_psi < 0.01
    assert report.label_psi is not None
    assert report.label_psi < 0.01
    assert report.oov_share == 0.0
    assert report.low_confidence_rise == 0.0
    assert report.new_terms == []
    assert report.alerts == []


def test_a_drifted_week_crosses_every_threshold_and_names_the_new_terms(store: Store) -> None:
    _seed(store, drifted=True)
    with store.session(readonly=True) as s:
        report = compute_drift(s, SETTINGS, as_of=AS_OF)
    assert {a.measure for a in report.alerts} == {"score_psi", "label_psi", "oov_share", "low_confidence_rise"}
    assert report.score_psi is not None
    assert report.score_psi > 1.0
    assert report.low_confidence_rise == pytest.approx(0.5)
    assert report.current.low_confidence_share == pytest.approx(0.5)
    assert report.oov_share is not None
    assert 0.3 < report.oov_share < 0.6
    terms = {t.term: t for t in report.new_terms}
    assert terms["zorbix"].current == 30
    assert terms["zorbix"].reference == 0
    assert terms["blorptastic"].current == 10
    assert "thanks" not in terms
    assert report.current.model_versions == {"1.1.0": 30, "1.0.0": 30}
    # the bundled tokenizer splits the invented words into more pieces than the everyday ones
    assert report.reference.tokens_per_word is not None
    assert report.current.tokens_per_word is not None
    assert report.fragmentation_change is not None
    assert report.fragmentation_change > 0.1
    again = type(report).from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.to_dict() == report.to_dict()


def test_windows_end_at_the_newest_message_by_default_and_small_windows_conclude_nothing(store: Store) -> None:
    _seed(store, drifted=True)
    with store.session(readonly=True) as s:
        default = compute_drift(s, SETTINGS, fragmentation=False)
        small = compute_drift(s, Settings(_env_file=None, drift_min_messages=61), as_of=AS_OF, fragmentation=False)
    assert default.current.messages == 60
    assert default.as_of == AS_OF - days(0.5) + timedelta(seconds=1)  # just after the newest message
    assert not small.enough_data
    assert (small.score_psi, small.label_psi, small.oov_share, small.low_confidence_rise) == (None, None, None, None)
    assert small.alerts == []


def test_alerts_are_recorded_once_in_the_audit_log_and_the_webhook_outbox(store: Store) -> None:
    _seed(store, drifted=True)
    with store.session() as s:
        create_subscription(s, "https://hooks.example.com/tw", ["drift.alert"], actor="tests")
        create_subscription(s, "https://other.example.com/tw", ["flag"], actor="tests")
    with store.session(readonly=True) as s:
        drifted = compute_drift(s, SETTINGS, as_of=AS_OF, fragmentation=False)
        calm = compute_drift(s, SETTINGS, as_of=AS_OF - days(7), fragmentation=False)  # before the new words
    assert calm.alerts == []
    with store.session() as s:
        first = record_drift(s, drifted, actor="cron")
    with store.session() as s:
        second = record_drift(s, drifted, actor="cron")  # the same drift, an hour later
    assert (len(first.raised), first.webhooks) == (4, 1)
    assert (second.raised, second.webhooks) == ([], 0)
    with store.session(readonly=True) as s:
        entries = [e for e in AuditLog(s).iter_entries() if e.action == "drift.alert"]
        assert [(e.actor, e.subject) for e in entries] == [("cron", f"drift:{first.id}")]
        assert {r["measure"] for r in entries[0].details["raised"]} == {
            "score_psi",
            "label_psi",
            "oov_share",
            "low_confidence_rise",
        }
        deliveries = s.scalars(select(WebhookDeliveryRow)).all()
        assert [d.event_type for d in deliveries] == ["drift.alert"]
        payload = deliveries[0].payload
        assert payload["type"] == "drift.alert"
        assert payload["data"]["report"] == first.id
        assert payload["data"]["current"]["messages"] == 60
        assert "zorbix" not in json.dumps(payload) + json.dumps(entries[0].details)  # numbers, never words
        AuditLog(s).verify()
        samples = {(name, tuple(sorted(labels.items()))): value for name, _, labels, value in drift_gauges(s)}
        assert samples[("tonewatch_drift_alert", (("measure", "score_psi"),))] == 1.0
        assert samples[("tonewatch_drift_window_messages", (("window", "current"),))] == 60
        assert samples[("tonewatch_drift_measure", (("measure", "oov_share"),))] == pytest.approx(drifted.oov_share)
        latest = latest_drift(s)
        assert latest is not None
        assert latest[0] == second.id
    with store.session() as s:
        record_drift(s, calm, actor="cron")  # it clears...
        third = record_drift(s, drifted, actor="cron")  # ...and comes back: announced again
        assert len(third.raised) == 4
        samples = {(name, tuple(sorted(labels.items()))): value for name, _, labels, value in drift_gauges(s)}
        assert samples[("tonewatch_drift_alert", (("measure", "label_psi"),))] == 1.0


def test_the_drift_reports_migration_matches_its_model(store: Store) -> None:
    """Autogenerate finds nothing to do for the drift table: the ``learn_0001`` revision and the ORM agree."""
    from schema_support import migration_drift

    assert "learn_0001" in store.current_revisions()
    assert migration_drift(store, {"drift_reports"}) == []


def test_no_gauges_before_the_first_report(store: Store) -> None:
    with store.session(readonly=True) as s:
        assert drift_gauges(s) == []
        assert latest_drift(s) is None


# -- the command ----------------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _run(cli: typer.Typer, store: Store, *args: str) -> tuple[int, str, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["drift", "report", *args, "--db", url])
    return result.exit_code, result.stdout, result.stderr


def test_drift_report_command_writes_json_and_html_and_records_the_report(
    cli: typer.Typer, store: Store, tmp_path: Path
) -> None:
    _seed(store, drifted=True)
    out = tmp_path / "drift"
    code, stdout, err = _run(cli, store, "--as-of", AS_OF.isoformat(), "--json", "--out", str(out))
    assert code == 0, err
    payload = json.loads(stdout)
    assert {a["measure"] for a in payload["alerts"]} == {"score_psi", "label_psi", "oov_share", "low_confidence_rise"}
    assert len(payload["recorded"]["raised"]) == 4
    on_disk = json.loads((out / "drift.json").read_text(encoding="utf-8"))
    assert on_disk["measures"] == payload["measures"]
    html = (out / "drift.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 2
    assert "zorbix" in html
    assert "<script" not in html
    code, stdout, err = _run(cli, store, "--as-of", AS_OF.isoformat(), "--no-record", "--fail-on-alert")
    assert code == 1
    flat = " ".join(stdout.split())
    assert "ALERT" in flat
    assert "zorbix" in flat
    with store.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(DriftReportRow)) == 1


def test_drift_report_command_with_an_explicit_reference_window_and_bad_options(cli: typer.Typer, store: Store) -> None:
    _seed(store, drifted=False)
    ref = f"{(AS_OF - days(35)).date().isoformat()}..{(AS_OF - days(8)).date().isoformat()}"
    code, stdout, err = _run(cli, store, "--as-of", AS_OF.isoformat(), "--reference", ref, "--json", "--no-record")
    assert code == 0, err
    payload = json.loads(stdout)
    assert payload["reference"]["start"].startswith((AS_OF - days(35)).date().isoformat())
    assert payload["alerts"] == []
    code, _, err = _run(cli, store, "--reference", ref, "--reference-days", "20")
    assert code == 2
    assert "not both" in err
    code, _, err = _run(cli, store, "--reference", "last month")
    assert code == 2
    assert "is not a window" in err
    code, _, err = _run(cli, store, "--as-of", AS_OF.isoformat(), "--reference", "2026-05-01..2026-05-12")
    assert code == 2
    assert "must end by" in err
