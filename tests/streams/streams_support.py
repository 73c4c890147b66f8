"""Helpers for the stream tests: deterministic events, poison messages, a TCP proxy, store checks.

Everything here talks to the real services; the proxy is a real TCP relay (used to cut a
client's connections or to make the database slow), not a stand-in for any service.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tonewatch.ingest import HealthModel, load_history
from tonewatch.store import Customer, EventRow, Message, Store, Survey, Usage
from tonewatch.streams import Worker, WorkerStats

_FEATURES = ["export", "login", "invoice", "calendar sync", "search", "the mobile app", "notifications", "reports"]
_TEXTS = [
    "The {f} is broken again and nobody answers.",
    "Thanks a lot, the {f} works great now!",
    "Why does the {f} take so long to load?",
    "I want a refund, the {f} never worked for us.",
    "Quick question about the {f} settings.",
    "This is the third time I report the {f} problem.",
    "Great support today, the {f} issue is solved.",
    "We are thinking about cancelling because of the {f}.",
    "Could you explain how the {f} handles duplicates?",
    "Unacceptable: the {f} lost our data twice this week.",
]

POISON: tuple[bytes, ...] = (
    b"{this is not json",
    b'{"kind": "message", "event_id": "poison-missing-customer", "timestamp": "2025-01-01T00:00:00Z",'
    b' "channel": "chat", "text": "hello"}',
    b'{"kind": "telepathy", "event_id": "poison-kind", "customer_id": "c-1", "timestamp": "2025-01-01T00:00:00Z"}',
    b'{"kind": "survey", "event_id": "poison-csat", "customer_id": "c-2", "timestamp": "2025-01-01T00:00:00Z",'
    b' "survey": "csat", "score": 42}',
    b"[1, 2, 3]",
    b'{"kind": "message", "event_id": "poison-blank", "customer_id": "c-3", "timestamp": "2025-01-01T00:00:00Z",'
    b' "channel": "email", "text": "   "}',
)


def make_events(n: int, customers: int, seed: int = 7, *, prefix: str = "ev") -> list[dict[str, Any]]:
    """``n`` valid v1 events over ``customers`` customers, in timestamp order; no PII in texts."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 6, 9, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    tickets: dict[str, tuple[int, int]] = {}
    for i in range(n):
        cid = f"{prefix}-cus-{rng.randrange(customers):04d}"
        ts = (start + timedelta(minutes=7 * i)).isoformat().replace("+00:00", "Z")
        base = {"event_id": f"{prefix}-{i:07d}", "customer_id": cid, "timestamp": ts}
        roll = rng.random()
        if roll < 0.25:
            text = rng.choice(_TEXTS).format(f=rng.choice(_FEATURES))
            out.append({"kind": "message", "channel": rng.choice(["chat", "email"]), "text": text, **base})
        elif roll < 0.35:
            out.append({"kind": "message", "channel": "chat", "author": "agent", "text": "On it, thanks!", **base})
        elif roll < 0.7:
            out.append({"kind": "usage", "metric": "logins", "value": float(rng.randrange(0, 60)), **base})
        elif roll < 0.9:
            # Each ticket goes opened -> pending -> resolved, then the customer's next ticket.
            number, stage = tickets.get(cid, (0, 0))
            status = ("opened", "pending", "resolved")[stage]
            tickets[cid] = (number + 1, 0) if stage == 2 else (number, stage + 1)
            out.append({"kind": "ticket", "ticket_id": f"{cid}-t{number}", "status": status, **base})
        else:
            out.append({"kind": "survey", "survey": "csat", "score": float(rng.randrange(1, 6)), **base})
    return out


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode("utf-8")


def with_poison(events: list[dict[str, Any]], seed: int = 11) -> list[bytes]:
    """The events' JSON with every poison message planted at a random position."""
    rng = random.Random(seed)
    lines = [encode(e) for e in events]
    for p in POISON:
        lines.insert(rng.randrange(len(lines) + 1), p)
    return lines


def write_jsonl(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- checking the store --------------------------------------------------------------------


def check_store(url: str, events: list[dict[str, Any]]) -> dict[str, int]:
    """Every event stored exactly once with its content; every customer's state equals a replay.

    Replaying a customer's stored history from scratch and comparing it with the persisted
    incremental state is what shows that no event was folded twice or lost from a state.
    """
    store = Store(url)
    try:
        with store.session(readonly=True) as s:
            rows = s.execute(sa.select(EventRow.event_id, EventRow.customer_id, EventRow.kind)).all()
            ids = Counter(r.event_id for r in rows)
            expected = {e["event_id"]: e for e in events}
            assert sum(ids.values()) == len(events), (sum(ids.values()), len(events))
            assert set(ids) == set(expected)
            assert max(ids.values()) == 1
            for r in rows:
                e = expected[r.event_id]
                assert (r.customer_id, r.kind) == (e["customer_id"], e["kind"])
            messages = {m.event_id: m for m in s.scalars(sa.select(Message))}
            usage = {u.event_id: u for u in s.scalars(sa.select(Usage))}
            surveys = {v.event_id: v for v in s.scalars(sa.select(Survey))}
            scored = 0
            for e in events:
                if e["kind"] == "message":
                    m = messages[e["event_id"]]
                    assert m.text == e["text"]
                    if e.get("author", "customer") == "customer":
                        assert m.label is not None
                        assert m.model_version
                        scored += 1
                    else:
                        assert m.label is None
                elif e["kind"] == "usage":
                    assert usage[e["event_id"]].value == e["value"]
                elif e["kind"] == "survey":
                    assert surveys[e["event_id"]].score == e["score"]
            model = HealthModel()
            last: dict[str, tuple[str, str]] = {}
            for e in events:
                key = (e["timestamp"], e["event_id"])
                last[e["customer_id"]] = max(last.get(e["customer_id"], key), key)
            customers = list(s.scalars(sa.select(Customer)))
            assert {c.id for c in customers} == set(last)
            for c in customers:
                assert c.last_event_id == last[c.id][1], (c.id, c.last_event_id, last[c.id])
                replayed = model.replay(c.id, c.attributes or {}, load_history(s, c.id)).to_state()
                assert _canonical(replayed) == _canonical(c.state), c.id
    finally:
        store.dispose()
    return {"events": len(events), "scored": scored, "customers": len(last)}


def _canonical(state: Any) -> Any:
    return json.loads(json.dumps(state, sort_keys=True, default=str))


def customer_snapshot(url: str) -> dict[str, dict[str, Any]]:
    """Each customer's persisted state, report and health: what concurrent workers must not lose."""
    store = Store(url)
    try:
        with store.session(readonly=True) as s:
            out = {}
            for c in s.scalars(sa.select(Customer)):
                events = s.scalar(sa.select(sa.func.count()).select_from(EventRow).where(EventRow.customer_id == c.id))
                out[c.id] = {
                    "events": events,
                    "last_event_id": c.last_event_id,
                    "health": c.health,
                    "band": c.band,
                    "state": _canonical(c.state),
                    "report": _canonical(c.report),
                }
            return out
    finally:
        store.dispose()


# -- a second PostgreSQL schema (the fixture gives one) -----------------------------------------


@contextlib.contextmanager
def extra_schema(postgres_url: str) -> Iterator[str]:
    base = postgres_url.split("?", 1)[0]
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# -- worker processes --------------------------------------------------------------------------


def worker_command(source: str, stream: str, group: str, db: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from tonewatch.cli import main; main()",
        "worker",
        "--source",
        source,
        "--stream",
        stream,
        "--group",
        group,
        "--db",
        db,
        *extra,
    ]


@dataclass
class WorkerProcess:
    """A ``tonewatch worker`` subprocess this test started (and may kill, by its pid)."""

    args: list[str]
    log: Path
    proc: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        env = dict(os.environ, TONEWATCH_THREADS="1", PYTHONUNBUFFERED="1")
        self._fh = self.log.open("ab")
        self.proc = subprocess.Popen(self.args, stdout=self._fh, stderr=subprocess.STDOUT, env=env)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is not None:
                self._fh.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill(signal.SIGKILL)
            self.proc.wait(10)
        self._fh.close()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def count_events(url: str) -> int:
    store = Store(url)
    try:
        with store.session(readonly=True) as s:
            return int(s.scalar(sa.select(sa.func.count()).select_from(EventRow)) or 0)
    finally:
        store.dispose()


# -- an in-process worker, on its own event loop in a thread ---------------------------------


class ThreadedWorker:
    """Runs ``Worker.run()`` in a background thread so the test can act while it works."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stats: WorkerStats | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        try:
            self.stats = asyncio.run(self.worker.run())
        except BaseException as exc:  # surfaced by join()
            self.error = exc

    def start(self) -> ThreadedWorker:
        self._thread.start()
        return self

    def join(self, timeout: float) -> WorkerStats:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "worker did not finish in time"
        if self.error is not None:
            raise self.error
        assert self.stats is not None
        return self.stats


# -- a TCP relay that can add latency or cut every connection -------------------------------


class TcpProxy:
    """Relays 127.0.0.1:<port> to a target; ``cut()`` drops the live connections, ``delay`` slows them."""

    def __init__(self, target_host: str, target_port: int, *, delay: float = 0.0) -> None:
        self.target = (target_host, target_port)
        self.delay = delay
        self.port = 0
        self.cuts = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            if w.transport is not None:
                w.transport.abort()
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.connections += 1
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    def cut(self) -> int:
        """Abort every live connection (both sides see a reset); new ones are accepted."""

        def abort() -> int:
            n = 0
            for w in list(self._writers):
                transport = w.transport
                if transport is not None:
                    transport.abort()
                    n += 1
            return n

        future = asyncio.run_coroutine_threadsafe(_call(abort), self._loop)
        n = future.result(5)
        self.cuts += 1
        return n


async def _call(fn: Callable[[], int]) -> int:
    return fn()


# -- a private broker that a test may kill and start again ------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateServer:
    """A Redis or NATS server of the test's own (the shared ones must never be restarted).

    Its data lives in ``workdir`` (Redis: append-only file fsynced on every write; NATS:
    JetStream file store), so killing it and starting it again is a real server restart.
    """

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        binary = shutil.which("redis-server" if kind == "redis" else "nats-server")
        if binary is None:
            pytest.skip(f"no {kind} server binary to run a private {kind} server")
        self.binary = binary

    @property
    def url(self) -> str:
        return f"{self.kind}://127.0.0.1:{self.port}"

    def _argv(self) -> list[str]:
        if self.kind == "redis":
            durable = ["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"]
            return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir), *durable]
        return [self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.workdir)]

    def start(self) -> PrivateServer:
        self.process = subprocess.Popen(self._argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"private {self.kind} server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the clients."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def __enter__(self) -> PrivateServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
