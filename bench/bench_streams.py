"""End-to-end stream benchmark: Redis Streams -> worker (scoring) -> store, and event-to-flag latency.

    python bench/bench_streams.py                      # 3,000 events, 10 s of latency at 200 events/s
    python bench/bench_streams.py --events 20000 --db postgresql+psycopg://postgres@127.0.0.1:5432/test

Three measurements in one run, on the same realistic events (``tonewatch.demo.generate``):

1. baseline: the ingest ``Pipeline`` fed directly in-process (no broker), with the same
   output hook the worker uses (results and flags built, not sent) -> events/s;
2. throughput: the events published to a Redis stream up front, then consumed by the
   worker (batching, acks, outputs) into a fresh store -> events/s and the ratio to 1.;
3. latency: events published at ``--rate`` per second while the worker runs; for every
   result and flag, the time from the producer's XADD to the worker's XADD of the output
   (both read from Redis entry ids, one clock) -> p50 / p99.

Bounded: each phase stops at ``--timeout`` seconds; the model is loaded once, before timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from tonewatch.demo import generate
from tonewatch.ingest import Pipeline
from tonewatch.score import get_analyzer
from tonewatch.settings import Settings
from tonewatch.store import EventRow, Store
from tonewatch.streams import (
    OutputHook,
    RedisStreamSource,
    Worker,
    WorkerConfig,
    WorkerStats,
    open_output,
    pipeline_factory,
    publish_lines,
)


def _events(n: int, seed: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    customers = max(20, n // 50)
    for e in generate(customers=customers, months=12, seed=seed):
        out.append(e)
        if len(out) == n:
            break
    return out


def _store(db: str | None, label: str, workdir: Path) -> Store:
    if db is None:
        store = Store(f"sqlite:///{workdir / f'{label}.db'}")
    else:
        schema = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        base = db.split("?", 1)[0]
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        store = Store(f"{base}?options=-csearch_path%3D{schema}")
    store.create_all()
    return store


def _count(store: Store) -> int:
    with store.session(readonly=True) as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(EventRow)) or 0)


class _Running:
    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stats: WorkerStats | None = None
        self.thread = threading.Thread(target=lambda: setattr(self, "stats", asyncio.run(worker.run())), daemon=True)
        self.thread.start()


def _ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=3000)
    p.add_argument("--rate", type=float, default=200.0, help="events/s in the latency phase")
    p.add_argument("--latency-seconds", type=float, default=10.0)
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    p.add_argument("--db", default=None, help="PostgreSQL base URL (default: temporary SQLite files)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="model threads (0 = all cores)")
    p.add_argument("--timeout", type=float, default=600.0)
    args = p.parse_args()

    settings = Settings(threads=args.threads)
    analyzer = get_analyzer(settings)
    analyzer.analyze("warm-up")
    events = _events(args.events, seed=7)
    kinds: dict[str, int] = {}
    for e in events:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    print(f"events: {len(events)} {json.dumps(kinds)}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="tw-bench-streams-"))
    r = redis.Redis.from_url(args.redis)
    stream = f"tw-bench-{uuid.uuid4().hex[:8]}"
    results: dict[str, Any] = {"events": len(events), "kinds": kinds}
    try:
        # 1. baseline: the pipeline alone
        base_store = _store(args.db, "baseline", workdir)
        started = time.perf_counter()
        # Same work as the worker's pipelines (the output hook builds results and flags).
        hooks = [OutputHook(lambda records: None)]
        Pipeline(base_store, analyzer, settings, hooks=hooks, chunk_size=args.batch_size).ingest(events)
        base_s = time.perf_counter() - started
        base_store.dispose()
        results["baseline_events_per_s"] = round(len(events) / base_s, 1)
        print(f"baseline pipeline (no broker): {len(events) / base_s:8.1f} events/s", flush=True)

        # 2. throughput through Redis Streams
        lines = [json.dumps(e).encode() for e in events]
        asyncio.run(publish_lines(iter(lines), args.redis, stream))
        store = _store(args.db, "stream", workdir)
        config = WorkerConfig(batch_size=args.batch_size, concurrency=args.concurrency)
        source = RedisStreamSource(args.redis, stream, "bench", claim_idle=60)
        make = pipeline_factory(store, analyzer, settings, batch_size=args.batch_size)
        running = _Running(Worker(source, make, sink=open_output(args.redis, stream), config=config))
        started = time.perf_counter()
        deadline = started + args.timeout
        while _count(store) < len(events) and time.perf_counter() < deadline:
            time.sleep(0.05)
        stream_s = time.perf_counter() - started
        done = _count(store)
        results["stream_events_per_s"] = round(done / stream_s, 1)
        results["stream_vs_baseline"] = round((done / stream_s) / (len(events) / base_s), 3)
        print(
            f"redis stream -> worker -> store: {done / stream_s:8.1f} events/s "
            f"({results['stream_vs_baseline']:.2f}x baseline, {done}/{len(events)} applied)",
            flush=True,
        )

        # 3. latency at a steady rate, the same worker still running
        n = int(args.rate * args.latency_seconds)
        more = _events(len(events) + n, seed=7)[len(events) :]
        out_key = f"{stream}:results"
        mark = r.xinfo_stream(out_key)["last-generated-id"] if r.exists(out_key) else b"0-0"
        asyncio.run(publish_lines(iter([json.dumps(e).encode() for e in more]), args.redis, stream, rate=args.rate))
        target = len(events) + len(more)
        deadline = time.perf_counter() + args.timeout
        while _count(store) < target and time.perf_counter() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        running.worker.stop("benchmark done")
        running.thread.join(60)
        lat: dict[str, list[float]] = {"analysis": [], "flag": []}
        by_second: dict[int, list[float]] = {}
        first_ms: int | None = None
        for entry_id, fields in r.xrange(out_key, min=f"({mark.decode() if isinstance(mark, bytes) else mark}"):
            rec = json.loads(fields[b"data"])
            if rec.get("source_id") and rec["type"] in lat:
                sent = _ms(rec["source_id"])
                first_ms = sent if first_ms is None else min(first_ms, sent)
                lat[rec["type"]].append(_ms(entry_id) - sent)
                by_second.setdefault((sent - first_ms) // 1000, []).append(_ms(entry_id) - sent)
        results["latency_p50_by_second_ms"] = [_percentile(v, 0.5) for _, v in sorted(by_second.items())]
        print(f"p50 latency by second of the run (ms): {results['latency_p50_by_second_ms']}", flush=True)
        for kind, values in lat.items():
            results[f"{kind}_latency_ms"] = {
                "n": len(values),
                "p50": _percentile(values, 0.5),
                "p99": _percentile(values, 0.99),
                "max": max(values) if values else float("nan"),
                "mean": round(statistics.fmean(values), 1) if values else float("nan"),
            }
            print(
                f"{kind:8s} latency at {args.rate:.0f} events/s: n={len(values)} p50={_percentile(values, 0.5):.0f} ms "
                f"p99={_percentile(values, 0.99):.0f} ms",
                flush=True,
            )
        if running.stats is not None:
            results["worker"] = running.stats.to_dict()
        store.dispose()
    finally:
        keys = list(r.scan_iter(match=f"{stream}*"))
        if keys:
            r.delete(*keys)
        r.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
