"""Ingestion throughput, end to end, on SQLite and PostgreSQL.

    python bench/bench_ingest.py                 # 100,000 events, SQLite and PostgreSQL
    python bench/bench_ingest.py --events 5000 --backend sqlite

Events come from the demo generator (``tonewatch.demo``, Northwind Cloud: messages, tickets,
surveys, usage, outcomes) or, with ``--generator simple``, from a small deterministic
generator in this file. They are written to a JSON-lines file and ingested with
``read_events`` + ``Pipeline`` exactly as ``tonewatch ingest`` does: parse, validate, mask,
score (real bundled model), categorise, store, fold customer state, report, snapshot.

Baselines measured in the same run, on fresh databases:

- ``cached``: the same pipeline with every analysis already known (texts scored by the first
  run are served from memory), i.e. the cost of everything except model inference;
- ``raw insert``: the events alone bulk-inserted into the events table, the storage floor.

By default the pipeline scores the next chunk in a worker thread while it stores the current
one (``--no-overlap`` measures them one after the other). The goal of the customer-health
issue is >= 1,000 events/s on SQLite including scoring.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

GOAL_EVENTS_PER_SECOND = 1000.0
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def simple_events(n: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """A deterministic mix close to a helpdesk export: ~1 customer per 100 events."""
    rng = random.Random(seed)
    customers = max(1, n // 100)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    phrases = [
        "Thanks a lot, the new dashboard works great!",
        "How do I export my invoices to CSV?",
        "The sync failed again this morning, this is getting frustrating.",
        "I was charged twice this month, please refund the duplicate payment.",
        "Please advise on the status of my ticket, it has been open for two weeks.",
        "Everything is fine now, thank you for the quick help.",
        "The app is very slow since the last update and my team is complaining.",
        "Can you call me back at +1 415 555 0134 about the renewal?",
    ]
    emitted = 0
    for c in range(customers):
        if emitted >= n:
            return
        yield {
            "kind": "customer",
            "customer_id": f"c{c}",
            "event_id": f"c{c}-attrs",
            "attributes": {
                "plan": rng.choice(["basic", "pro", "business"]),
                "segment": rng.choice(["smb", "mid"]),
                "renewal_date": (start + timedelta(days=rng.randint(30, 400))).date().isoformat(),
            },
        }
        emitted += 1
    i = 0
    while emitted < n:
        c = rng.randrange(customers)
        ts = (start + timedelta(minutes=i * 7 + rng.randint(0, 6))).isoformat()
        roll = rng.random()
        eid = f"e{i}"
        if roll < 0.35:
            event = {
                "kind": "message",
                "event_id": eid,
                "customer_id": f"c{c}",
                "timestamp": ts,
                "channel": rng.choice(["email", "chat", "phone"]),
                "ticket_id": f"t{c}-{i // 50}",
                "author": "customer" if rng.random() < 0.55 else "agent",
                "text": rng.choice(phrases),
            }
        elif roll < 0.5:
            event = {
                "kind": "ticket",
                "event_id": eid,
                "customer_id": f"c{c}",
                "ticket_id": f"t{c}-{i // 50}",
                "timestamp": ts,
                "status": rng.choice(["opened", "pending", "resolved"]),
                "subject": "Sync issue",
            }
        elif roll < 0.55:
            event = {
                "kind": "survey",
                "event_id": eid,
                "customer_id": f"c{c}",
                "timestamp": ts,
                "survey": "csat",
                "score": rng.randint(1, 5),
            }
        elif roll < 0.999:
            event = {
                "kind": "usage",
                "event_id": eid,
                "customer_id": f"c{c}",
                "timestamp": ts,
                "metric": "logins",
                "value": rng.randint(0, 60),
            }
        else:
            event = {"kind": "outcome", "event_id": eid, "customer_id": f"c{c}", "timestamp": ts, "outcome": "renewed"}
        yield event
        emitted += 1
        i += 1


def demo_events(n: int) -> Iterator[dict[str, Any]]:
    """The first ``n`` events of a Northwind Cloud history large enough to hold them."""
    from itertools import islice

    from tonewatch.demo import generate

    customers = min(5000, max(10, n // 95))
    return islice(generate(customers=customers, months=6), n)


class CachingAnalyzer:
    """The real analyzer, remembering results by (text, language): the ``cached`` baseline."""

    def __init__(self, analyzer: Any) -> None:
        self._analyzer = analyzer
        self.cache: dict[tuple[str, str | None], Any] = {}
        self.scored = 0
        self.seconds = 0.0

    @property
    def model_version(self) -> str:
        return str(self._analyzer.model_version)

    def analyze(self, text: str, *, language: str | None = None) -> Any:
        return self.analyze_batch([text], languages=[language])[0]

    def analyze_batch(
        self, texts: Sequence[str], *, batch_size: int = 32, languages: Sequence[str | None] | None = None
    ) -> list[Any]:
        langs = list(languages) if languages is not None else [None] * len(texts)
        missing = [(t, lang) for t, lang in zip(texts, langs, strict=True) if (t, lang) not in self.cache]
        if missing:
            started = time.perf_counter()
            results = self._analyzer.analyze_batch(
                [t for t, _ in missing], batch_size=batch_size, languages=[lang for _, lang in missing]
            )
            self.seconds += time.perf_counter() - started
            self.scored += len(missing)
            self.cache.update(zip(missing, results, strict=True))
        return [self.cache[(t, lang)] for t, lang in zip(texts, langs, strict=True)]


class Backend:
    """Fresh databases of one kind: SQLite files in a temp folder, or PostgreSQL schemas."""

    def __init__(self, kind: str, folder: Path, postgres_url: str) -> None:
        self.kind = kind
        self.folder = folder
        self.postgres_url = postgres_url
        self._schemas: list[str] = []

    def fresh_url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / (name + '.db')}"
        import sqlalchemy as sa

        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(self.postgres_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        self._schemas.append(schema)
        sep = "&" if "?" in self.postgres_url else "?"
        return f"{self.postgres_url}{sep}options=-csearch_path%3D{schema}"

    def cleanup(self) -> None:
        if not self._schemas:
            return
        import sqlalchemy as sa

        engine = sa.create_engine(self.postgres_url)
        with engine.begin() as conn:
            for schema in self._schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def run_pipeline(url: str, path: Path, analyzer: Any, args: argparse.Namespace, label: str) -> dict[str, Any]:
    from tonewatch.ingest import Pipeline, read_events
    from tonewatch.settings import Settings
    from tonewatch.store import Store

    store = Store(url)
    store.create_all()
    settings = Settings(home=path.parent / "home")
    pipeline = Pipeline(
        store, analyzer, settings, chunk_size=args.chunk_size, batch_size=args.batch_size, overlap=not args.no_overlap
    )
    done = 0
    last_print = time.perf_counter()
    started = time.perf_counter()

    def progress(n: int) -> None:
        nonlocal done, last_print
        done += n
        now = time.perf_counter()
        if now - last_print > 10:
            rate = done / (now - started)
            print(f"    {label}: {done:,} events, {rate:,.0f} events/s", file=sys.stderr, flush=True)
            last_print = now

    report = pipeline.ingest(read_events(path), on_progress=progress)
    seconds = time.perf_counter() - started
    store.dispose()
    return {
        "events": report.total,
        "accepted": report.accepted,
        "rejected": len(report.rejected),
        "seconds": round(seconds, 2),
        "events_per_second": round(report.total / seconds, 1),
    }


def run_raw_insert(url: str, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Parse the file and bulk-insert bare event rows (one customer row each), chunk by chunk."""
    from sqlalchemy import insert

    from tonewatch.ingest import parse_event, read_events
    from tonewatch.store import Customer, EventRow, Store

    store = Store(url)
    store.create_all()
    started = time.perf_counter()
    now = datetime.now(UTC)
    seen: set[str] = set()
    n = 0
    chunk: list[dict[str, Any]] = []

    def flush() -> None:
        customers = sorted({r["customer_id"] for r in chunk} - seen)
        seen.update(customers)
        with store.session() as s:
            if customers:
                s.execute(
                    insert(Customer),
                    [
                        {"id": c, "attributes": {}, "created_at": now, "updated_at": now, "version": 1}
                        for c in customers
                    ],
                )
            s.execute(insert(EventRow), chunk)
        chunk.clear()

    for i, (_, item) in enumerate(read_events(path)):
        if not isinstance(item, dict):
            continue
        event = parse_event(item)
        chunk.append(
            {
                "event_id": getattr(event, "event_id", None) or f"raw-{i}",
                "customer_id": event.customer_id,
                "kind": event.kind,
                "timestamp": event.timestamp or now,
                "payload": event.model_dump(mode="json", exclude_none=True),
                "ingested_at": now,
            }
        )
        n += 1
        if len(chunk) >= args.chunk_size:
            flush()
    if chunk:
        flush()
    seconds = time.perf_counter() - started
    store.dispose()
    return {"events": n, "seconds": round(seconds, 2), "events_per_second": round(n / seconds, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="Events to generate and ingest")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("TONEWATCH_BENCH_POSTGRES", DEFAULT_POSTGRES))
    parser.add_argument("--generator", choices=["demo", "simple"], default="demo")
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0 = all cores)")
    parser.add_argument("--skip-cached", action="store_true", help="Skip the cached-scoring baseline")
    parser.add_argument("--no-overlap", action="store_true", help="Score and store one chunk after the other")
    parser.add_argument("--out", type=Path, help="Also write the results as JSON here")
    args = parser.parse_args(argv)

    from tonewatch.score import Analyzer

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {
        "events_requested": args.events,
        "generator": args.generator,
        "chunk_size": args.chunk_size,
        "batch_size": args.batch_size,
        "overlap": not args.no_overlap,
        "cpus": os.cpu_count(),
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="tonewatch-bench-") as tmp:
        folder = Path(tmp)
        path = folder / "events.jsonl"
        started = time.perf_counter()
        events = demo_events(args.events) if args.generator == "demo" else simple_events(args.events)
        kinds: dict[str, int] = {}
        customer_texts = 0
        with path.open("w", encoding="utf-8") as fh:
            for e in events:
                kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
                customer_texts += e["kind"] == "message" and e.get("author", "customer") == "customer"
                customer_texts += e["kind"] == "survey" and bool(e.get("comment"))
                fh.write(json.dumps(e, ensure_ascii=False) + "\n")
        results["events"] = sum(kinds.values())
        results["kinds"] = kinds
        results["texts_to_score"] = customer_texts
        print(
            f"generated {results['events']:,} events ({customer_texts:,} customer texts to score) "
            f"in {time.perf_counter() - started:.1f}s: {kinds}",
            file=sys.stderr,
        )

        analyzer = Analyzer(threads=args.threads).load()
        results["model_version"] = analyzer.model_version
        for kind in backends:
            backend = Backend(kind, folder, args.postgres_url)
            try:
                print(f"[{kind}] full pipeline (scoring included)...", file=sys.stderr, flush=True)
                caching = CachingAnalyzer(analyzer)
                full = run_pipeline(backend.fresh_url("full"), path, caching, args, f"{kind} full")
                full["texts_scored"] = caching.scored
                full["scoring_seconds"] = round(caching.seconds, 2)
                full["texts_per_second"] = round(caching.scored / caching.seconds, 1) if caching.seconds else None
                row: dict[str, Any] = {"full": full}
                if not args.skip_cached:
                    print(f"[{kind}] same pipeline, scoring cached...", file=sys.stderr, flush=True)
                    row["cached"] = run_pipeline(backend.fresh_url("cached"), path, caching, args, f"{kind} cached")
                print(f"[{kind}] raw insert of bare event rows...", file=sys.stderr, flush=True)
                row["raw_insert"] = run_raw_insert(backend.fresh_url("raw"), path, args)
                results["backends"][kind] = row
            finally:
                backend.cleanup()

    print()
    print(
        f"{results['events']:,} events, {results['texts_to_score']:,} texts scored, model {results['model_version']}, "
        f"{results['cpus']} CPUs, chunk {args.chunk_size}, batch {args.batch_size}, "
        f"scoring {'overlapped with' if results['overlap'] else 'before'} storing"
    )
    print(
        f"{'backend':<11} {'full ev/s':>10} {'cached ev/s':>12} {'raw ev/s':>10} {'full/cached':>12} "
        f"{'full/raw':>9} {'texts/s':>8}"
    )
    for kind, row in results["backends"].items():
        full = row["full"]["events_per_second"]
        cached = row.get("cached", {}).get("events_per_second")
        raw = row["raw_insert"]["events_per_second"]
        ratio = full / cached if cached else 0.0
        texts = row["full"]["texts_per_second"] or 0
        print(
            f"{kind:<11} {full:>10,.0f} {cached or 0:>12,.0f} {raw:>10,.0f} "
            f"{ratio:>12.2f} {full / raw:>9.2f} {texts:>8,.0f}"
        )
    if "sqlite" in results["backends"]:
        rate = results["backends"]["sqlite"]["full"]["events_per_second"]
        verdict = "met" if rate >= GOAL_EVENTS_PER_SECOND else "NOT met"
        print(f"goal >= {GOAL_EVENTS_PER_SECOND:,.0f} events/s on SQLite including scoring: {verdict} ({rate:,.0f})")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
