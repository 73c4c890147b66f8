"""Backfill benchmark: local process pool vs Dask, 1 vs 2 workers, messages/s and peak memory.

    python bench/bench_backfill.py                         # 2,000 messages (a few minutes on 2 cores)
    python bench/bench_backfill.py --messages 1000000      # the full run: hours on a 2-core machine

The messages are synthetic but realistic and deterministic: customer sentences taken from
the demo company's generated history (``tonewatch.demo``), recombined 1-3 at a time with a
seeded RNG into new messages for new customers and timestamps, so a million of them are
mostly distinct texts (the analyzer would otherwise score repeated texts once).

Measured in one run on the same file: a baseline (the analyzer called in this process,
one thread, no partitions, no pool), then ``run_backfill(..., out=FILE)`` (scoring only;
the store is not the subject here) for each engine and worker count. Peak memory is the
highest sum of resident memory of this process and all its children, sampled every 0.2 s.
Ratios are against the baseline and against one worker of the same engine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from tonewatch.backfill import run_backfill, score_records
from tonewatch.demo import generate
from tonewatch.score import get_analyzer
from tonewatch.settings import Settings

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _sentence_pool(seed: int) -> list[str]:
    pool: set[str] = set()
    for e in generate(customers=120, months=6, seed=seed):
        if e["kind"] != "message" or e.get("author", "customer") != "customer":
            continue
        for part in _SENTENCE.split(str(e["text"]).replace("\n", " ")):
            part = part.strip()
            if 12 <= len(part) <= 220:
                pool.add(part)
    return sorted(pool)


def write_messages(path: Path, n: int, seed: int = 11) -> int:
    """``n`` deterministic customer messages as v1 JSON lines."""
    rng = random.Random(seed)
    pool = _sentence_pool(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    customers = max(50, n // 40)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text = " ".join(rng.choice(pool) for _ in range(rng.choice((1, 1, 2, 2, 3))))
            event = {
                "kind": "message",
                "event_id": f"bf-{i:08d}",
                "customer_id": f"bf-cus-{rng.randrange(customers):06d}",
                "timestamp": (start + timedelta(seconds=31 * i)).isoformat().replace("+00:00", "Z"),
                "channel": rng.choice(("email", "chat", "social", "in_app")),
                "text": text,
            }
            fh.write(json.dumps(event, ensure_ascii=False) + "\n")
    return n


class PeakMemory:
    """Samples the resident memory of this process tree; ``peak`` is the highest total seen."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--engines", default="local,dask")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare")
    ap.add_argument("--partition-size", type=int, default=500)
    ap.add_argument("--baseline-messages", type=int, default=500, help="messages scored for the baseline")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (input, spool, results)")
    args = ap.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tw-bench-backfill-"))
    try:
        return _run(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, workdir: Path) -> int:
    source = workdir / "messages.jsonl"
    started = time.perf_counter()
    write_messages(source, args.messages)
    print(f"generated {args.messages} messages in {time.perf_counter() - started:.1f}s -> {source}", flush=True)

    settings = Settings(threads=1, home=workdir / "home")
    analyzer = get_analyzer(settings)
    analyzer.analyze("warm-up")
    sample: list[tuple[int, dict[str, Any]]] = []
    with source.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line_no > args.baseline_messages:
                break
            sample.append((line_no, json.loads(line)))
    started = time.perf_counter()
    score_records(analyzer, sample)
    base_rate = len(sample) / (time.perf_counter() - started)
    print(f"baseline (in-process, 1 thread, {len(sample)} messages): {base_rate:8.1f} messages/s", flush=True)

    results: dict[str, Any] = {"messages": args.messages, "baseline_messages_per_s": round(base_rate, 1), "runs": []}
    outputs: dict[str, bytes] = {}
    for engine in args.engines.split(","):
        one_worker: float | None = None
        for workers in (int(w) for w in args.workers.split(",")):
            out = workdir / f"results-{engine}-{workers}.jsonl"
            with PeakMemory() as mem:
                t0 = time.perf_counter()
                report = run_backfill(
                    source,
                    engine=engine,
                    workers=workers,
                    out=out,
                    partition_size=args.partition_size,
                    settings=settings,
                    checkpoint=workdir / f"ckpt-{engine}-{workers}",
                )
                seconds = time.perf_counter() - t0
            rate = report.scored / seconds
            one_worker = one_worker or rate
            run = {
                "engine": engine,
                "workers": workers,
                "seconds": round(seconds, 1),
                "messages_per_s": round(rate, 1),
                "vs_baseline": round(rate / base_rate, 2),
                "vs_1_worker": round(rate / one_worker, 2),
                "peak_rss_mb": round(mem.peak / 2**20),
            }
            results["runs"].append(run)
            outputs[f"{engine}-{workers}"] = out.read_bytes()
            print(
                f"{engine:5s} x{workers}: {rate:8.1f} messages/s  {run['vs_baseline']:.2f}x baseline  "
                f"{run['vs_1_worker']:.2f}x vs 1 worker  peak RSS {run['peak_rss_mb']} MB  ({seconds:.1f}s)",
                flush=True,
            )
    first = next(iter(outputs.values()), b"")
    results["identical_results"] = all(v == first for v in outputs.values())
    print(f"identical results across engines and worker counts: {results['identical_results']}")
    print(f"cpu cores: {psutil.cpu_count()}  load average: {psutil.getloadavg()}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
