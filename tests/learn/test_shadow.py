"""Hot switching and shadow scoring on the live ingest path, on SQLite and PostgreSQL.

The analyzers are real (the bundled model, and registry versions made from it with another
calibration temperature, so the shadow's scores really differ from the live ones).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from registry_support import model_folder, tamper
from sqlalchemy import select
from typer.testing import CliRunner

from tonewatch import InputError, ModelIntegrityError
from tonewatch.cli import _ingest, _model
from tonewatch.ingest import CustomerUpdate, Pipeline
from tonewatch.learn import (
    Registry,
    ServingModels,
    ShadowScorer,
    compare_shadow,
    import_model,
    promote,
    rollback,
    serving_analyzer,
    set_shadow,
)
from tonewatch.learn._catalogue import shadow_comparison
from tonewatch.learn._registry_tables import ShadowResultRow
from tonewatch.learn._shadow import ShadowItem
from tonewatch.score import Analyzer, get_analyzer
from tonewatch.settings import Settings
from tonewatch.store import Message, Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEXTS = [
    "This is the third time I ask and nobody answers. Cancel my account.",
    "Thanks a lot, the fix works perfectly!",
    "Where can I download last month's invoice?",
    "The export is slow but your support team was lovely.",
    "Great, another outage. Just what I needed today.",
    "ok",
    "I love the new dashboard, it saves me an hour a day.",
    "Still waiting for a refund after two weeks, this is unacceptable.",
]
BUILTIN_VERSION = get_analyzer(Settings(_env_file=None)).model_version  # type: ignore[call-arg]


def message(i: int, text: str, *, customer: str = "c1", author: str = "customer") -> dict[str, Any]:
    return {
        "kind": "message",
        "event_id": f"m{i}",
        "customer_id": customer,
        "timestamp": (T0 + timedelta(hours=i)).isoformat(),
        "channel": "email",
        "author": author,
        "text": text,
    }


def events(start: int = 0) -> list[dict[str, Any]]:
    out = [message(start + i, t, customer=f"c{i % 3}") for i, t in enumerate(TEXTS)]
    out.append(message(start + 100, "Let me check that for you.", author="agent"))
    return out


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", model_registry=tmp_path / "models", model_refresh_seconds=0)  # type: ignore[call-arg]


@pytest.fixture
def registry(settings: Settings) -> Registry:
    return Registry.from_settings(settings)


def add_version(store: Store, registry: Registry, tmp_path: Path, version: str, temperature: float = 3.0) -> str:
    src = model_folder(tmp_path / "src" / version, version, temperature=temperature)
    return import_model(store, registry, src, actor="test", why="test").name


# -- hot switching -----------------------------------------------------------------------------


def test_promotion_and_rollback_reach_a_running_resolver(
    store: Store, settings: Settings, registry: Registry, tmp_path: Path
) -> None:
    add_version(store, registry, tmp_path, "2.0.0")
    serving = ServingModels(settings, store)
    assert serving.model_version == BUILTIN_VERSION
    assert serving.active_name == "builtin"
    before = serving.analyze(TEXTS[0])
    promote(store, registry, "2.0.0", actor="test", force=True)
    after = serving.analyze(TEXTS[0])
    assert after.model_version == "2.0.0"
    assert serving.active_name == "2.0.0"
    assert after.label == before.label
    assert abs(after.score) < abs(before.score)
    batch = serving.analyze_batch(TEXTS)
    assert {a.model_version for a in batch} == {"2.0.0"}
    rollback(store, registry, actor="test")
    assert serving.analyze(TEXTS[0]).model_version == BUILTIN_VERSION


def test_the_pointer_is_reread_at_most_every_refresh_interval(
    store: Store, settings: Settings, registry: Registry, tmp_path: Path
) -> None:
    add_version(store, registry, tmp_path, "2.0.0")
    now = [100.0]
    serving = ServingModels(settings, store, refresh_seconds=5.0, clock=lambda: now[0])
    assert serving.model_version == BUILTIN_VERSION
    promote(store, registry, "2.0.0", actor="test", force=True)
    now[0] += 4.9
    assert serving.model_version == BUILTIN_VERSION  # cached pointer: no database read yet
    now[0] += 0.2
    assert serving.model_version == "2.0.0"


def test_a_version_that_fails_to_load_never_replaces_the_served_one(
    store: Store, settings: Settings, registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    add_version(store, registry, tmp_path, "2.0.0")
    serving = ServingModels(settings, store)
    assert serving.model_version == BUILTIN_VERSION
    promote(store, registry, "2.0.0", actor="test", force=True)
    tamper(registry.root / "2.0.0", "model.onnx")  # e.g. a bad sync on this machine after promotion
    with caplog.at_level(logging.ERROR, logger="tonewatch.learn.serving"):
        assert serving.analyze(TEXTS[1]).model_version == BUILTIN_VERSION
    assert "cannot switch to model version 2.0.0" in caplog.text
    with pytest.raises(ModelIntegrityError):  # a fresh process has nothing safe to serve instead
        ServingModels(settings, store).model_version  # noqa: B018


def test_model_dir_stays_an_explicit_override(tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "override", "7.7.7")
    settings = Settings(home=tmp_path / "home", model_dir=folder)  # type: ignore[call-arg]
    unreachable = Store("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never touched
    analyzer = serving_analyzer(settings, unreachable)
    assert isinstance(analyzer, Analyzer)
    assert analyzer.model_version == "7.7.7"


def test_the_default_pipeline_scores_with_the_active_version(
    store: Store, settings: Settings, registry: Registry, tmp_path: Path
) -> None:
    add_version(store, registry, tmp_path, "2.0.0")
    Pipeline(store, settings=settings).ingest(events(0))
    promote(store, registry, "2.0.0", actor="test", force=True)
    Pipeline(store, settings=settings).ingest(events(1000))
    with store.session(readonly=True) as s:
        rows = {m.event_id: m.model_version for m in s.scalars(select(Message).where(Message.author == "customer"))}
    assert {v for k, v in rows.items() if int(k[1:]) < 1000} == {BUILTIN_VERSION}
    assert {v for k, v in rows.items() if int(k[1:]) >= 1000} == {"2.0.0"}


# -- shadow ------------------------------------------------------------------------------------


class Counting:
    """A pipeline hook that counts how often it is called (shadow scoring must never call hooks)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, update: CustomerUpdate) -> None:
        self.calls += 1


def test_shadow_scores_committed_messages_without_acting_on_them(
    store: Store, settings: Settings, registry: Registry, tmp_path: Path
) -> None:
    add_version(store, registry, tmp_path, "2.0.0", temperature=3.0)
    set_shadow(store, registry, "2.0.0", actor="test")
    serving = ServingModels(settings, store)
    hook = Counting()
    pipeline = Pipeline(store, serving, settings, hooks=[hook])
    report = pipeline.ingest(events(0))
    assert report.accepted == len(TEXTS) + 1
    assert hook.calls == len(TEXTS) + 1
    assert serving.shadow.flush(60)

    with store.session(readonly=True) as s:
        shadow = {r.event_id: r for r in s.scalars(select(ShadowResultRow))}
        live = {m.event_id: m for m in s.scalars(select(Message).where(Message.author == "customer"))}
    assert set(shadow) == set(live)  # every customer message, no agent message
    for eid, row in shadow.items():
        assert row.version == "2.0.0"
        assert row.active_version == BUILTIN_VERSION
        assert row.active_label == live[eid].label
        assert row.active_score == pytest.approx(live[eid].score, abs=1e-4)
        assert live[eid].model_version == BUILTIN_VERSION  # the stored analysis is the live one
        assert set(row.probabilities) == {"negative", "neutral", "positive"}
        assert 0 <= row.confidence <= 1
    assert hook.calls == len(TEXTS) + 1  # nothing ran the hooks (triggers) again

    # the comparison, against an independent computation from the logged rows
    with store.session(readonly=True) as s:
        cmp = compare_shadow(s, "2.0.0", BUILTIN_VERSION)
        same = shadow_comparison(s, registry)  # default: the current shadow
    assert same == cmp
    rows = list(shadow.values())
    assert cmp.n == len(rows)
    assert cmp.agreement == pytest.approx(np.mean([r.label == r.active_label for r in rows]))
    diffs = np.abs(np.array([r.score for r in rows]) - np.array([r.active_score for r in rows]))
    assert cmp.mean_abs_score_diff == pytest.approx(float(diffs.mean()), abs=1e-6)
    assert cmp.mean_abs_score_diff > 0.01  # temperature 3 flattens the probabilities
    labels = list(cmp.labels)
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for r in rows:
        matrix[labels.index(r.active_label), labels.index(r.label)] += 1
    assert [list(x) for x in cmp.confusion] == matrix.tolist()
    assert sum(cmp.active_labels.values()) == sum(cmp.shadow_labels.values()) == cmp.n

    # ingesting the same events again (duplicates) logs nothing twice
    pipeline.ingest(events(0))
    assert serving.shadow.flush(60)
    with store.session(readonly=True) as s:
        assert len(s.scalars(select(ShadowResultRow)).all()) == len(rows)

    # enough comparisons now: promotion goes through without --force
    entry = promote(store, registry, "2.0.0", actor="test", min_comparisons=len(rows))
    assert not entry.forced
    assert entry.comparisons == len(rows)
    with pytest.raises(InputError):
        promote(store, registry, "builtin", actor="test", min_comparisons=1)  # no shadow results the other way


def test_no_shadow_means_no_shadow_work(store: Store, settings: Settings) -> None:
    serving = ServingModels(settings, store)
    Pipeline(store, serving, settings).ingest(events(0))
    assert serving.shadow.stats.submitted == 0
    with store.session(readonly=True) as s:
        assert s.scalars(select(ShadowResultRow)).all() == []


class Gated:
    """A real analyzer that waits for a gate before scoring (to hold the shadow worker busy)."""

    def __init__(self, gate: threading.Event) -> None:
        self.inner = get_analyzer(Settings(_env_file=None))  # type: ignore[call-arg]
        self.gate = gate
        self.model_version = "9.9.9"

    def analyze(self, text: str, *, language: str | None = None) -> Any:
        raise AssertionError("the shadow scores in batches")

    def analyze_batch(
        self, texts: Sequence[str], *, batch_size: int = 32, languages: Sequence[str | None] | None = None
    ) -> list[Any]:
        assert self.gate.wait(30)
        return list(self.inner.analyze_batch(texts, batch_size=batch_size, languages=languages))


def test_the_shadow_queue_is_bounded_and_never_blocks(store: Store) -> None:
    gate = threading.Event()
    scorer = ShadowScorer(lambda: store, lambda _name: Gated(gate), max_queue=3, batch_size=1)

    def item(i: int) -> ShadowItem:
        return ShadowItem(f"gone-{i}", TEXTS[i % len(TEXTS)], None, "9.9.9", "0.0.1-live", "neutral", 0.0)

    started = time.perf_counter()
    taken = scorer.submit(item(i) for i in range(10))
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5  # the live path never waits for the shadow model
    assert taken <= 4
    assert scorer.stats.dropped == 10 - taken
    assert scorer.stats.submitted == 10
    assert not scorer.flush(0.2)  # still held at the gate
    gate.set()
    assert scorer.flush(60)
    # those events were never stored (or were erased meanwhile): scored, but nothing written
    assert scorer.stats.scored == taken
    assert scorer.stats.written == 0
    assert scorer.stats.failed == 0
    scorer.close()


def test_tonewatch_ingest_waits_for_its_shadow_queue(tmp_path: Path) -> None:
    """A short-lived process: without draining, the queue would die with it."""
    app = typer.Typer()
    _ingest.register(app)
    _model.register(app)
    env = {
        "TONEWATCH_HOME": str(tmp_path / "home"),
        "TONEWATCH_DB_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "TONEWATCH_MODEL_REGISTRY": str(tmp_path / "models"),
    }

    def run(*args: str) -> Any:
        result = CliRunner().invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result

    run("model", "import", str(model_folder(tmp_path / "src", "2.0.0", temperature=3.0)))
    run("model", "shadow", "2.0.0")
    data = tmp_path / "events.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in events(0)) + "\n", encoding="utf-8")
    run("ingest", str(data), "--no-progress", "--no-rules")
    comparison = json.loads(run("model", "compare", "--format", "json").output)
    assert comparison["n"] == len(TEXTS)
    assert comparison["version"] == "2.0.0"
