"""Reliability against the real Redis, NATS and PostgreSQL: kills, cut connections, a slow store, many workers.

The default run is a smaller but complete version of each scenario; ``-m soak`` runs the
soak versions (``TONEWATCH_SOAK_EVENTS`` events, ``TONEWATCH_SOAK_KILLS`` kills).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from streams_support import (
    POISON,
    PrivateServer,
    TcpProxy,
    ThreadedWorker,
    WorkerProcess,
    check_store,
    customer_snapshot,
    extra_schema,
    make_events,
    wait_until,
    with_poison,
    worker_command,
    write_jsonl,
)

from tonewatch.ingest import Pipeline
from tonewatch.settings import Settings
from tonewatch.store import EventRow, Store
from tonewatch.streams import (
    NatsJetStreamSource,
    RedisStreamSource,
    Worker,
    WorkerConfig,
    nats_subjects,
    open_output,
    pipeline_factory,
    publish_lines,
)

SOAK_EVENTS = int(os.environ.get("TONEWATCH_SOAK_EVENTS", "20000"))
SOAK_KILLS = int(os.environ.get("TONEWATCH_SOAK_KILLS", "25"))


class Counting:
    """Counts stored events through one long-lived engine (polled while workers run)."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(Store(url).engine.url)

    def __call__(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(EventRow)).scalar_one())

    def close(self) -> None:
        self.engine.dispose()


# -- broker views used by the checks -----------------------------------------------------------


def redis_dead_letters(redis_sync: Any, stream: str) -> list[tuple[bytes, str]]:
    return [(f[b"data"], f[b"reason"].decode()) for _, f in redis_sync.xrange(f"{stream}:dead")]


def redis_results(redis_sync: Any, stream: str) -> list[dict[str, Any]]:
    return [json.loads(f[b"data"]) for _, f in redis_sync.xrange(f"{stream}:results")]


def redis_pending(redis_sync: Any, stream: str, group: str) -> int:
    return int(redis_sync.xpending(stream, group)["pending"])


async def _nats_read(url: str, stream: str, subject: str) -> list[Any]:
    """Every message stored on ``subject`` (as many as the stream says it holds there)."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream, subjects_filter=subject)
        expected = int((info.state.subjects or {}).get(subject, 0))
        # No acks (a reader, not a worker): with explicit acks the server would stop at
        # max_ack_pending and redeliver after ack_wait.
        config = ConsumerConfig(ack_policy=AckPolicy.NONE)
        sub = await js.pull_subscribe(subject, stream=stream, config=config)
        out: list[Any] = []
        deadline = time.monotonic() + 60
        while len(out) < expected and time.monotonic() < deadline:
            try:
                out += await sub.fetch(min(500, expected - len(out)), timeout=2.0)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
        assert len(out) == expected
        assert len({m.metadata.sequence.stream for m in out}) == expected
        return out
    finally:
        await nc.close()


def nats_dead_letters(url: str, stream: str) -> list[tuple[bytes, str]]:
    msgs = asyncio.run(_nats_read(url, stream, nats_subjects(stream)["dead_letter"]))
    return [(bytes(m.data), m.headers["Tonewatch-Reason"]) for m in msgs]


def nats_results(url: str, stream: str) -> list[dict[str, Any]]:
    return [json.loads(m.data) for m in asyncio.run(_nats_read(url, stream, nats_subjects(stream)["output"]))]


def nats_pending(url: str, stream: str, group: str) -> int:
    async def info() -> int:
        import nats

        nc = await nats.connect(url)
        try:
            ci = await nc.jetstream().consumer_info(stream, group)
            return int(ci.num_pending) + int(ci.num_ack_pending)
        finally:
            await nc.close()

    return asyncio.run(info())


def assert_outcome(
    db_url: str,
    events: list[dict[str, Any]],
    dead: list[tuple[bytes, str]],
    results: list[dict[str, Any]],
    pending: int,
) -> None:
    """Every event applied once; the dead letters are exactly the poison; every result announced."""
    check_store(db_url, events)
    assert Counter(d for d, _ in dead) == Counter(POISON)
    assert all(reason for _, reason in dead)
    customer_messages = {e["event_id"] for e in events if e["kind"] == "message" and "author" not in e}
    announced = {r["event_id"] for r in results if r["type"] == "analysis"}
    assert announced == customer_messages  # at least once each (duplicates allowed, losses not)
    assert pending == 0


# -- SIGKILL (and one SIGTERM) at random points -------------------------------------------------


def _publish_cli(path: Path, url: str, stream: str) -> None:
    cmd = [sys.executable, "-c", "from tonewatch.cli import main; main()", "publish", str(path)]
    out = subprocess.run([*cmd, "--to", url, "--stream", stream, "--no-progress"], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    assert json.loads(out.stdout)["published"] == path.read_bytes().count(b"\n")


def _kill_run(
    source_url: str,
    stream: str,
    db_url: str,
    tmp_path: Path,
    events: list[dict[str, Any]],
    kills: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Publish, then start/kill workers ``kills`` times at random points; one stop is a SIGTERM."""
    rng = random.Random(seed)
    _publish_cli(write_jsonl(tmp_path / "events.jsonl", with_poison(events, seed)), source_url, stream)
    Store(db_url).create_all()
    counting = Counting(db_url)
    log = tmp_path / "workers.log"
    signals = [signal.SIGKILL] * kills
    if kills >= 2:
        signals[kills // 2] = signal.SIGTERM
    extra = ["--claim-idle", "1", "--batch-size", "64", "--exit-when-idle", "2.5", "--log-level", "warning"]
    stats: list[dict[str, Any]] = []
    performed = 0
    try:
        for i, sig in enumerate(signals):
            stats_path = tmp_path / f"stats-{i}.json"
            w = WorkerProcess(
                worker_command(source_url, stream, "workers", db_url, *extra, "--stats", str(stats_path)), log
            )
            try:
                before = counting()
                if before >= len(events):
                    break
                # Kill at a random point of the work that is left, leaving a share for the kills still to
                # come: a fixed delay would let a fast machine drain the stream before the last kill.
                share = max(1, (len(events) - before) // (len(signals) - i + 1))
                target = before + rng.randint(1, share)
                assert wait_until(lambda t=target: counting() >= t, 90), log.read_text()[-3000:]
                w.kill(sig)
                code = w.wait(60)
                performed += 1
            finally:
                w.stop()
            if sig == signal.SIGTERM:
                assert code == 0, log.read_text()[-3000:]
                summary = json.loads(stats_path.read_text())
                assert summary["stopped_by"] == "SIGTERM"
                stats.append(summary)
            else:
                assert code == -signal.SIGKILL
        assert performed == len(signals), "the stream drained before every planned kill"
        final_stats = tmp_path / "stats-final.json"
        last = WorkerProcess(
            worker_command(source_url, stream, "workers", db_url, *extra, "--stats", str(final_stats)), log
        )
        try:
            assert last.wait(600) == 0, log.read_text()[-3000:]
        finally:
            last.stop()
        stats.append(json.loads(final_stats.read_text()))
    finally:
        counting.close()
    return stats


@pytest.mark.redis
@pytest.mark.postgres
def test_redis_sigkill_at_random_points_applies_every_event_once(
    redis_url: str, redis_stream: str, redis_sync: Any, postgres_url: str, tmp_path: Path
) -> None:
    events = make_events(1200, customers=80, seed=21)
    _kill_run(redis_url, redis_stream, postgres_url, tmp_path, events, 3, 21)
    assert_outcome(
        postgres_url,
        events,
        redis_dead_letters(redis_sync, redis_stream),
        redis_results(redis_sync, redis_stream),
        redis_pending(redis_sync, redis_stream, "workers"),
    )


@pytest.mark.soak
@pytest.mark.redis
@pytest.mark.postgres
def test_redis_soak_many_kills(
    redis_url: str, redis_stream: str, redis_sync: Any, postgres_url: str, tmp_path: Path
) -> None:
    events = make_events(SOAK_EVENTS, customers=400, seed=22)
    _kill_run(redis_url, redis_stream, postgres_url, tmp_path, events, SOAK_KILLS, 22)
    assert_outcome(
        postgres_url,
        events,
        redis_dead_letters(redis_sync, redis_stream),
        redis_results(redis_sync, redis_stream),
        redis_pending(redis_sync, redis_stream, "workers"),
    )


@pytest.mark.nats
@pytest.mark.postgres
def test_nats_sigkill_at_random_points_applies_every_event_once(
    nats_url: str, nats_stream: str, postgres_url: str, tmp_path: Path
) -> None:
    events = make_events(450, customers=40, seed=23)
    _kill_run(nats_url, nats_stream, postgres_url, tmp_path, events, 2, 23)
    assert_outcome(
        postgres_url,
        events,
        nats_dead_letters(nats_url, nats_stream),
        nats_results(nats_url, nats_stream),
        nats_pending(nats_url, nats_stream, "workers"),
    )


@pytest.mark.soak
@pytest.mark.nats
@pytest.mark.postgres
def test_nats_soak_many_kills(nats_url: str, nats_stream: str, postgres_url: str, tmp_path: Path) -> None:
    events = make_events(SOAK_EVENTS, customers=400, seed=24)
    _kill_run(nats_url, nats_stream, postgres_url, tmp_path, events, SOAK_KILLS, 24)
    assert_outcome(
        postgres_url,
        events,
        nats_dead_letters(nats_url, nats_stream),
        nats_results(nats_url, nats_stream),
        nats_pending(nats_url, nats_stream, "workers"),
    )


# -- connections cut mid-run ------------------------------------------------------------------


async def _publish(url: str, stream: str, lines: list[bytes]) -> None:
    await publish_lines(iter(lines), url, stream)


@pytest.mark.redis
@pytest.mark.postgres
def test_redis_connections_killed_mid_run_reconnect_and_complete(
    redis_url: str, redis_stream: str, redis_sync: Any, pg_store: Store, analyzer: Any, settings: Settings
) -> None:
    events = make_events(500, customers=30, seed=31)
    asyncio.run(_publish(redis_url, redis_stream, with_poison(events, 31)))
    source = RedisStreamSource(redis_url, redis_stream, "g", claim_idle=1.0)
    sink = open_output(redis_url, redis_stream, consumer=source.consumer)
    config = WorkerConfig(batch_size=24, exit_when_idle=2.5)
    make = pipeline_factory(pg_store, analyzer, settings, batch_size=24)
    running = ThreadedWorker(Worker(source, make, sink=sink, config=config)).start()
    counting = Counting(pg_store.url)
    killed = 0
    try:
        for _ in range(2):
            before = counting()
            assert wait_until(lambda b=before: counting() > b + 30, 60)
            # Targeted CLIENT KILL of this worker's connections only (the server is shared).
            for client in redis_sync.client_list():
                if source.consumer in client.get("name", ""):
                    redis_sync.client_kill_filter(_id=client["id"])
                    killed += 1
        stats = running.join(300)
    finally:
        counting.close()
    assert killed >= 2
    assert stats.source["reconnects"] >= 1
    assert_outcome(
        pg_store.url,
        events,
        redis_dead_letters(redis_sync, redis_stream),
        redis_results(redis_sync, redis_stream),
        redis_pending(redis_sync, redis_stream, "g"),
    )


@pytest.mark.nats
@pytest.mark.postgres
def test_nats_connection_cut_mid_run_reconnects_and_completes(
    nats_url: str, nats_stream: str, pg_store: Store, analyzer: Any, settings: Settings
) -> None:
    events = make_events(400, customers=30, seed=32)
    asyncio.run(_publish(nats_url, nats_stream, with_poison(events, 32)))
    with TcpProxy("127.0.0.1", 4222) as proxy:
        url = f"nats://127.0.0.1:{proxy.port}"
        source = NatsJetStreamSource(url, nats_stream, "g", claim_idle=1.5)
        config = WorkerConfig(batch_size=24, exit_when_idle=3.0)
        make = pipeline_factory(pg_store, analyzer, settings, batch_size=24)
        running = ThreadedWorker(Worker(source, make, sink=open_output(url, nats_stream), config=config)).start()
        counting = Counting(pg_store.url)
        try:
            for _ in range(2):
                before = counting()
                assert wait_until(lambda b=before: counting() > b + 30, 60)
                assert proxy.cut() >= 1
            stats = running.join(300)
        finally:
            counting.close()
    assert stats.source["reconnects"] >= 1
    assert_outcome(
        pg_store.url,
        events,
        nats_dead_letters(nats_url, nats_stream),
        nats_results(nats_url, nats_stream),
        nats_pending(nats_url, nats_stream, "g"),
    )


# -- the broker itself restarted mid-run -------------------------------------------------------


def _restart_mid_run(server: PrivateServer, running: ThreadedWorker, counting: Counting, times: int = 2) -> None:
    """Kill the broker (SIGKILL) once work is flowing, keep it down a while, start it again."""
    for _ in range(times):
        before = counting()
        assert wait_until(lambda b=before: counting() > b + 30, 60)
        server.kill()
        time.sleep(1.5)  # the worker's calls fail meanwhile; it must back off, not give up
        server.start()


@pytest.mark.redis
@pytest.mark.postgres
def test_redis_server_restarted_mid_run_the_worker_reconnects_and_completes(
    pg_store: Store, analyzer: Any, settings: Settings, tmp_path: Path
) -> None:
    import redis

    events = make_events(400, customers=30, seed=33)
    with PrivateServer("redis", tmp_path) as server:
        stream = "tw-restart"
        asyncio.run(_publish(server.url, stream, with_poison(events, 33)))
        source = RedisStreamSource(server.url, stream, "g", claim_idle=1.0)
        config = WorkerConfig(batch_size=24, exit_when_idle=4.0)
        make = pipeline_factory(pg_store, analyzer, settings, batch_size=24)
        worker = Worker(source, make, sink=open_output(server.url, stream, consumer=source.consumer), config=config)
        running = ThreadedWorker(worker).start()
        counting = Counting(pg_store.url)
        try:
            _restart_mid_run(server, running, counting)
            stats = running.join(300)
        finally:
            counting.close()
        client = redis.Redis.from_url(server.url)
        try:
            assert stats.source["reconnects"] >= 1
            assert_outcome(
                pg_store.url,
                events,
                redis_dead_letters(client, stream),
                redis_results(client, stream),
                redis_pending(client, stream, "g"),
            )
        finally:
            client.close()


@pytest.mark.nats
@pytest.mark.postgres
def test_nats_server_restarted_mid_run_the_worker_reconnects_and_completes(
    pg_store: Store, analyzer: Any, settings: Settings, tmp_path: Path
) -> None:
    events = make_events(400, customers=30, seed=34)
    with PrivateServer("nats", tmp_path) as server:
        stream = "tw-restart"
        asyncio.run(_publish(server.url, stream, with_poison(events, 34)))
        source = NatsJetStreamSource(server.url, stream, "g", claim_idle=1.5)
        config = WorkerConfig(batch_size=24, exit_when_idle=4.0)
        make = pipeline_factory(pg_store, analyzer, settings, batch_size=24)
        running = ThreadedWorker(Worker(source, make, sink=open_output(server.url, stream), config=config)).start()
        counting = Counting(pg_store.url)
        try:
            _restart_mid_run(server, running, counting)
            stats = running.join(300)
        finally:
            counting.close()
        assert stats.source["reconnects"] >= 1
        assert_outcome(
            pg_store.url,
            events,
            nats_dead_letters(server.url, stream),
            nats_results(server.url, stream),
            nats_pending(server.url, stream, "g"),
        )


# -- a slow store: bounded in-flight work, graceful stop ---------------------------------------


@pytest.mark.redis
@pytest.mark.postgres
def test_a_slow_store_gets_backpressure_not_an_unbounded_buffer(
    redis_url: str, redis_stream: str, redis_sync: Any, postgres_url: str, analyzer: Any, settings: Settings
) -> None:
    events = make_events(1500, customers=40, seed=41)
    asyncio.run(_publish(redis_url, redis_stream, [json.dumps(e).encode() for e in events]))
    Store(postgres_url).create_all()
    with TcpProxy("127.0.0.1", 5432, delay=0.01) as proxy:
        slow_url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        slow = Store(slow_url)
        config = WorkerConfig(batch_size=16, concurrency=2)
        source = RedisStreamSource(redis_url, redis_stream, "g", claim_idle=60)
        worker = Worker(source, pipeline_factory(slow, analyzer, settings, batch_size=16), config=config)
        running = ThreadedWorker(worker).start()
        samples: list[tuple[int, int]] = []
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            [group] = redis_sync.xinfo_groups(redis_stream) or [{"pending": 0, "lag": len(events)}]
            samples.append((int(group["pending"]), int(group.get("lag") or 0)))
            time.sleep(0.05)
        worker.stop("test")
        stats = running.join(120)
        slow.dispose()
    stored = Counting(postgres_url)
    try:
        count = stored()
    finally:
        stored.close()
    assert max(p for p, _ in samples) <= config.max_in_flight
    assert stats.max_in_flight <= config.max_in_flight
    assert max(lag for _, lag in samples) >= len(events) - 300  # the backlog waited in Redis, not in memory
    assert 0 < count == stats.accepted < len(events)
    assert redis_pending(redis_sync, redis_stream, "g") == 0  # stop finished the in-flight batches


# -- several workers sharing one PostgreSQL store ---------------------------------------------


@pytest.mark.redis
@pytest.mark.postgres
def test_concurrent_workers_lose_no_customer_update(
    redis_url: str, redis_stream: str, postgres_url: str, analyzer: Any, tmp_path: Path
) -> None:
    """Three workers on a few hot customers: every event folded once into every state.

    A lost update (two workers folding into the same stale state, the last commit winning)
    shows as a persisted state that differs from a replay of the customer's stored history,
    or as a customer missing events compared with one in-order pipeline. The analyses
    themselves are compared only through the store: the model's scores depend slightly on
    how texts are batched, so two runs with different batches need not score identically.
    """
    events = make_events(160, customers=6, seed=51)
    asyncio.run(_publish(redis_url, redis_stream, [json.dumps(e).encode() for e in events]))
    Store(postgres_url).create_all()
    log = tmp_path / "workers.log"
    extra = ["--claim-idle", "5", "--batch-size", "8", "--exit-when-idle", "2.5", "--log-level", "warning"]
    procs = [
        WorkerProcess(
            worker_command(redis_url, redis_stream, "g", postgres_url, *extra, "--stats", str(tmp_path / f"s{i}.json")),
            log,
        )
        for i in range(3)
    ]
    try:
        codes = [p.wait(300) for p in procs]
    finally:
        for p in procs:
            p.stop()
    assert codes == [0, 0, 0], log.read_text()[-3000:]
    per_worker = [json.loads((tmp_path / f"s{i}.json").read_text()) for i in range(3)]
    assert sum(s["accepted"] for s in per_worker) == len(events)
    assert sum(1 for s in per_worker if s["accepted"] > 0) >= 2  # they really shared the work
    check_store(postgres_url, events)  # each event once; each state == replay of its history

    with extra_schema(postgres_url) as baseline_url:
        baseline = Store(baseline_url)
        baseline.create_all()
        Pipeline(baseline, analyzer, Settings(threads=1), chunk_size=64).ingest(events)
        baseline.dispose()
        expected = customer_snapshot(baseline_url)
    got = customer_snapshot(postgres_url)
    assert got.keys() == expected.keys()
    for cid, want in expected.items():
        assert (got[cid]["events"], got[cid]["last_event_id"]) == (want["events"], want["last_event_id"])
        for name in ("tickets", "usage", "surveys"):  # the signals no model score enters
            assert got[cid]["state"]["signals"].get(name) == want["state"]["signals"].get(name), (cid, name)
