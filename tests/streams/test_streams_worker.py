"""The worker on the embedded in-process queue: exactly-once effects, dead letters, outputs, isolation."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from streams_support import POISON, check_store, encode, make_events, with_poison

from tonewatch._errors import TonewatchError
from tonewatch.ingest import CustomerUpdate, Pipeline
from tonewatch.settings import Settings
from tonewatch.store import Store
from tonewatch.streams import InProcessSink, InProcessSource, Worker, WorkerConfig, pipeline_factory


def _run(worker: Worker) -> Any:
    return asyncio.run(worker.run())


def test_every_event_once_poison_dead_lettered_and_outputs(
    sqlite_store: Store, analyzer: Any, settings: Settings
) -> None:
    events = make_events(400, customers=12, seed=3)
    source = InProcessSource(maxsize=1000, max_deliveries=3)
    for line in with_poison(events):
        source.put_nowait(line)
    for e in events[:50]:  # a producer re-sending: must change nothing
        source.put_nowait(encode(e))
    sink = InProcessSink()
    config = WorkerConfig(batch_size=32, exit_when_idle=0.3, concurrency=2)
    stats = _run(
        Worker(source, pipeline_factory(sqlite_store, analyzer, settings, batch_size=32), sink=sink, config=config)
    )

    checked = check_store(sqlite_store.url, events)
    assert stats.accepted == len(events)
    assert stats.duplicate == 50
    assert stats.rejected == len(POISON)
    assert stats.max_in_flight <= config.max_in_flight
    assert source.unacked == 0
    assert sorted(d.delivery.data for d in source.dead) == sorted(POISON)
    reasons = {d.delivery.data: d for d in source.dead}
    assert reasons[POISON[0]].code == "invalid_json"
    assert "customer_id" in reasons[POISON[1]].reason
    assert reasons[POISON[2]].reason.startswith("invalid_event: kind must be one of")

    results = Counter(r["event_id"] for r in sink.records if r["type"] == "analysis")
    assert sum(results.values()) == checked["scored"]  # re-sent duplicates announce nothing
    assert max(results.values()) == 1
    flags = [r for r in sink.records if r["type"] == "flag"]
    assert flags
    assert all(r["published_ms"] <= r["emitted_ms"] for r in sink.records)


class ExplodingHook:
    """A pipeline hook with a bug that only one customer's events trigger."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id

    def __call__(self, update: CustomerUpdate, /) -> None:
        if update.customer_id == self.customer_id:
            raise RuntimeError(f"hook bug for {self.customer_id}")


def test_a_poison_message_is_isolated_then_dead_lettered_with_its_reason(
    sqlite_store: Store, analyzer: Any, settings: Settings
) -> None:
    events = make_events(120, customers=6, seed=5)
    bad = events[40]["customer_id"]
    source = InProcessSource(max_deliveries=2)
    for e in events:
        source.put_nowait(encode(e))

    def make(hooks: Any) -> Pipeline:
        return Pipeline(sqlite_store, analyzer, settings, hooks=[ExplodingHook(bad), *hooks], chunk_size=16)

    stats = _run(Worker(source, make, config=WorkerConfig(batch_size=16, exit_when_idle=0.3)))
    poisoned = [e for e in events if e["customer_id"] == bad]
    healthy = [e for e in events if e["customer_id"] != bad]
    check_store(sqlite_store.url, healthy)
    assert stats.accepted == len(healthy)
    assert sorted(d.delivery.data for d in source.dead) == sorted(encode(e) for e in poisoned)
    assert all(d.code == "max_deliveries" and f"hook bug for {bad}" in d.reason for d in source.dead)
    assert stats.failed == 2 * len(poisoned)  # each tried max_deliveries times


def test_a_systemic_failure_stops_the_worker_instead_of_dead_lettering(
    sqlite_store: Store, analyzer: Any, settings: Settings
) -> None:
    events = make_events(40, customers=4, seed=9)
    source = InProcessSource(max_deliveries=2)
    for e in events:
        source.put_nowait(encode(e))

    def broken(update: CustomerUpdate, /) -> None:
        raise RuntimeError("the playbook file is missing")

    def make(hooks: Any) -> Pipeline:
        return Pipeline(sqlite_store, analyzer, settings, hooks=[broken, *hooks], chunk_size=16)

    worker = Worker(source, make, config=WorkerConfig(batch_size=16, exit_when_idle=0.3))
    with pytest.raises(TonewatchError, match="every message fails"):
        _run(worker)
    assert source.dead == []
    assert source.unacked == 0  # given back, not lost


def test_outputs_that_cannot_be_published_roll_the_batch_back(
    sqlite_store: Store, analyzer: Any, settings: Settings
) -> None:
    """Nothing is committed unannounced: a failing output sink means retry, not a silent commit."""
    events = make_events(30, customers=3, seed=13)
    source = InProcessSource()
    for e in events:
        source.put_nowait(encode(e))

    class FlakySink(InProcessSink):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        async def send(self, records: Any) -> None:
            self.calls += 1
            if self.calls <= 2:
                raise ConnectionError("output broker down")
            await super().send(records)

    sink = FlakySink()
    config = WorkerConfig(batch_size=64, exit_when_idle=0.5, store_backoff_max=0.2)
    stats = _run(
        Worker(source, pipeline_factory(sqlite_store, analyzer, settings, batch_size=64), sink=sink, config=config)
    )
    assert stats.store_retries == 2
    assert stats.accepted == len(events)
    check_store(sqlite_store.url, events)
    ids = [r["event_id"] for r in sink.records if r["type"] == "analysis"]
    assert len(ids) == len(set(ids)) > 0
    assert json.dumps(sink.records)  # JSON-ready


def test_playbook_firings_are_published_with_the_outputs(
    sqlite_store: Store, analyzer: Any, settings: Settings
) -> None:
    from tonewatch.triggers import FiringRow, TriggerHook

    events = make_events(300, customers=5, seed=2)
    source = InProcessSource()
    for e in events:
        source.put_nowait(encode(e))
    sink = InProcessSink()
    worker = Worker(
        source,
        pipeline_factory(sqlite_store, analyzer, settings, batch_size=32),
        sink=sink,
        config=WorkerConfig(batch_size=32, exit_when_idle=0.3),
        make_triggers=lambda: TriggerHook(settings=settings),
    )
    _run(worker)
    fired = [r for r in sink.records if r["type"] == "trigger"]
    assert fired
    with sqlite_store.session(readonly=True) as s:
        stored = {row.id for row in s.query(FiringRow)}
    assert {r["firing"] for r in fired} == stored  # announced exactly what was committed


@pytest.mark.postgres
def test_values_the_database_refuses_are_dead_lettered_not_retried_forever(
    pg_store: Store, analyzer: Any, settings: Settings
) -> None:
    """PostgreSQL refuses NUL characters: such an event can never be stored, so it must not stall the worker.

    (NUL in message text is dropped at validation since it carries nothing; one inside free-form
    customer attributes still reaches the database, which refuses it.)
    """
    events = make_events(60, customers=4, seed=17)
    nul_attr = {"kind": "customer", "customer_id": events[20]["customer_id"], "attributes": {"note": "a\u0000b"}}
    source = InProcessSource(max_deliveries=2)
    for e in [*events[:45], nul_attr, *events[45:]]:
        source.put_nowait(encode(e))
    config = WorkerConfig(batch_size=16, exit_when_idle=0.5)
    stats = _run(Worker(source, pipeline_factory(pg_store, analyzer, settings, batch_size=16), config=config))
    check_store(pg_store.url, events)
    assert stats.accepted == len(events)
    assert [d.delivery.data for d in source.dead] == [encode(nul_attr)]
    assert all("StoreError" in d.reason and d.code == "max_deliveries" for d in source.dead)
