"""HTTP API latency and throughput on loopback, against a real ``tonewatch serve`` process.

    python bench/bench_api.py                   # 100 req/s for 60 s, then the batch comparison
    python bench/bench_api.py --duration 10     # shorter run

1. Sustained load: single-text ``POST /v1/classify-sentiment`` at a fixed rate (open loop:
   requests are sent on schedule whether or not earlier ones have answered, and latency is
   measured from the scheduled send time, so a slow server cannot hide its queueing).
   Reports p50/p95/p99 latency and errors. Goal of the API issue: p99 < 50 ms, zero errors.
2. Batch throughput: texts/s through the batch endpoint (``texts`` of ``--batch-size``) against
   ``Analyzer.analyze_batch`` called in this process on the same texts in the same run.
   Goal: the endpoint reaches >= 80% of the in-process rate.

The server is started with a fresh SQLite database under a temporary folder, on 127.0.0.1
only; an admin key is created with ``tonewatch keys create``. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

P99_GOAL_MS = 50.0
BATCH_RATIO_GOAL = 0.8

TEXTS = [
    "Thank you so much for sorting out my refund so quickly!",
    "I have asked three times and nobody answers. This is ridiculous.",
    "How do I export my invoices to CSV?",
    "The sync failed again this morning, this is getting frustrating.",
    "I was charged twice this month, please refund the duplicate payment.",
    "Please advise on the status of my ticket, it has been open for two weeks.",
    "Everything is fine now, thanks for the quick help.",
    "The app is very slow since the last update and my team is complaining.",
    "Oh great, another delay. Just what I needed.",
    "Can someone call me back about the renewal? We are considering other vendors.",
    "Love the new dashboard, the charts are much clearer.",
    "I can't log in since the password reset, it says my account is locked.",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tonewatch() -> str:
    exe = Path(sys.executable).with_name("tonewatch")
    return str(exe) if exe.exists() else (shutil.which("tonewatch") or "tonewatch")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


class Server:
    """``tonewatch serve`` in a subprocess on a temporary database."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.port = port
        self.db = f"sqlite:///{workdir / 'bench.db'}"
        self.env = {**os.environ, "TONEWATCH_HOME": str(workdir / "home"), "TONEWATCH_RATE_LIMIT_PER_MINUTE": "1000000"}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "server.log"

    def create_key(self) -> str:
        out = subprocess.run(
            [_tonewatch(), "keys", "create", "--role", "admin", "--db", self.db],
            check=True,
            capture_output=True,
            env=self.env,
        )
        return out.stdout.decode().strip().splitlines()[0]

    def __enter__(self) -> Server:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [_tonewatch(), "serve", "--port", str(self.port), "--db", self.db, "--log-level", "warning"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError("server did not become ready")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class _Conn:
    """One keep-alive HTTP/1.1 connection (raw asyncio streams: a load generator must be cheap).

    httpx costs milliseconds of CPU per request; on a 2-core machine that the server shares,
    the client would then be what limits the rate and inflates the latency it measures.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> _Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes, key: str) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode("ascii") + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the idle connection")
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        payload = await self.reader.readexactly(length)
        return int(status_line.split()[1]), payload

    def close(self) -> None:
        self.writer.close()


async def sustained(url: str, port: int, key: str, rate: float, duration: float) -> dict[str, Any]:
    """Open-loop single-text load; latency from each request's scheduled time."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    total = int(rate * duration)
    bodies = [json.dumps({"text": t}).encode("utf-8") for t in TEXTS]
    idle: list[_Conn] = [await _Conn.open(port) for _ in range(16)]
    for i, text in enumerate(bodies):  # warm the connections and the model
        await idle[i % len(idle)].post("/v1/classify-sentiment", text, key)

    async def one(i: int, due: float) -> None:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = idle.pop() if idle else await _Conn.open(port)
        try:
            try:
                status, _ = await conn.post("/v1/classify-sentiment", bodies[i % len(bodies)], key)
            except ConnectionResetError:  # keep-alive expired while idle: reconnect once, as clients do
                conn.close()
                conn = await _Conn.open(port)
                status, _ = await conn.post("/v1/classify-sentiment", bodies[i % len(bodies)], key)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            conn.close()
            return
        idle.append(conn)
        if status != 200:
            errors[str(status)] = errors.get(str(status), 0) + 1
            return
        latencies.append((time.perf_counter() - due) * 1000)

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        before = (await client.get("/metrics")).text
        start = time.perf_counter() + 0.1
        await asyncio.gather(*(one(i, start + i / rate) for i in range(total)))
        elapsed = time.perf_counter() - start
        after = (await client.get("/metrics")).text
    for conn in idle:
        conn.close()
    server = _server_view(before, after)
    return {
        "target_rate": rate,
        "requests": total,
        "achieved_rate": round(total / elapsed, 1),
        "ok": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2),
        "p99_ms": round(_percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "server": server,
    }


def _histogram(text: str, name: str, labels: str = "") -> dict[float, float]:
    """Cumulative bucket counts of one Prometheus histogram series."""
    out: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket{") and labels in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def _quantile(buckets: dict[float, float], q: float) -> float | None:
    """Upper bucket bound holding the q-th quantile (what histogram_quantile approximates)."""
    total = buckets.get(float("inf"), 0.0)
    if total <= 0:
        return None
    for bound in sorted(buckets):
        if buckets[bound] >= q * total:
            return bound
    return None


def _server_view(before: str, after: str) -> dict[str, Any]:
    """What the server saw during the run: its own latency buckets and how it batched."""
    route = 'route="/v1/classify-sentiment"'
    lat = {
        k: v - _histogram(before, "tonewatch_http_request_duration_seconds", route).get(k, 0.0)
        for k, v in _histogram(after, "tonewatch_http_request_duration_seconds", route).items()
    }
    sizes = {
        k: v - _histogram(before, "tonewatch_inference_batch_size").get(k, 0.0)
        for k, v in _histogram(after, "tonewatch_inference_batch_size").items()
    }
    passes = sizes.get(float("inf"), 0.0)
    return {
        "p50_ms_at_most": None if (x := _quantile(lat, 0.5)) is None else x * 1000,
        "p99_ms_at_most": None if (x := _quantile(lat, 0.99)) is None else x * 1000,
        "forward_passes": passes,
        "single_pass_share": round(sizes.get(1.0, 0.0) / passes, 3) if passes else None,
    }


def batch_throughput(url: str, key: str, batch_size: int, batches: int, rounds: int) -> dict[str, Any]:
    """texts/s via the batch endpoint vs the analyzer in this process, same texts, same run.

    The two are measured in alternating rounds so that a change in background load (this is a
    shared machine) hits both sides alike; the ratio compares the summed times.
    """
    from tonewatch.score import get_analyzer
    from tonewatch.settings import Settings

    texts = [f"{TEXTS[i % len(TEXTS)]} (ref {i})" for i in range(batch_size * batches)]
    chunks = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    headers = {"Authorization": f"Bearer {key}"}
    analyzer = get_analyzer(Settings(_env_file=None))
    analyzer.analyze_batch(chunks[0])  # load and warm up
    http_seconds = inproc_seconds = 0.0
    with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
        client.post("/v1/classify-sentiment", json={"texts": chunks[0]})  # warm-up
        for _ in range(rounds):
            started = time.perf_counter()
            for chunk in chunks:
                r = client.post("/v1/classify-sentiment", json={"texts": chunk})
                r.raise_for_status()
                assert len(r.json()["results"]) == len(chunk)
            http_seconds += time.perf_counter() - started
            started = time.perf_counter()
            for chunk in chunks:
                analyzer.analyze_batch(chunk)
            inproc_seconds += time.perf_counter() - started
    n = len(texts) * rounds
    http_tps = n / http_seconds
    inproc_tps = n / inproc_seconds
    return {
        "texts": n,
        "batch_size": batch_size,
        "rounds": rounds,
        "http_texts_per_s": round(http_tps, 1),
        "in_process_texts_per_s": round(inproc_tps, 1),
        "ratio": round(http_tps / inproc_tps, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of sustained load (default 60)")
    ap.add_argument("--rate", type=float, default=100.0, help="requests per second (default 100)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--batches", type=int, default=4, help="batches per round")
    ap.add_argument("--rounds", type=int, default=3, help="alternating HTTP / in-process rounds")
    ap.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tonewatch-bench-") as tmp:
        server = Server(Path(tmp), _free_port())
        key = server.create_key()
        with server:
            load = asyncio.run(sustained(server.url, server.port, key, args.rate, args.duration))
            batch = batch_throughput(server.url, key, args.batch_size, args.batches, args.rounds)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "sustained": load,
        "batch": batch,
        "goals": {
            "p99_under_50ms": load["p99_ms"] < P99_GOAL_MS,
            "zero_errors": load["errors"] == 0,
            "batch_ratio_at_least_0.8": batch["ratio"] >= BATCH_RATIO_GOAL,
        },
    }
    print(
        f"single text at {args.rate:g} req/s for {args.duration:g}s: p50 {load['p50_ms']} ms, "
        f"p95 {load['p95_ms']} ms, p99 {load['p99_ms']} ms, errors {load['errors']}/{load['requests']}"
    )
    print(
        f"batch of {batch['batch_size']}: {batch['http_texts_per_s']} texts/s over HTTP vs "
        f"{batch['in_process_texts_per_s']} in process (ratio {batch['ratio']})"
    )
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
