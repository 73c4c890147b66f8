"""Helpers for the backfill tests: a realistic history file and the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tonewatch.demo import generate
from tonewatch.store import EventRow, Store

CLI = [sys.executable, "-c", "from tonewatch.cli import main; main()"]


def history(path: Path, *, customers: int, months: int, seed: int = 7, poison: bool = True) -> list[dict[str, Any]]:
    """A deterministic support history (the demo company's) as JSON lines, plus two bad lines."""
    events = list(generate(customers=customers, months=months, seed=seed))
    lines = [json.dumps(e) for e in events]
    if poison:
        lines.insert(len(lines) // 3, "{not json")
        lines.insert(len(lines) // 2, json.dumps({"kind": "message", "event_id": "bad-1", "customer_id": "x"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return events


def customer_messages(events: list[dict[str, Any]]) -> set[str]:
    return {e["event_id"] for e in events if e["kind"] == "message" and e.get("author", "customer") == "customer"}


def stored_ids(url: str) -> list[str]:
    store = Store(url)
    try:
        with store.session(readonly=True) as s:
            return list(s.scalars(sa.select(EventRow.event_id)))
    finally:
        store.dispose()


def backfill_cmd(*args: str) -> list[str]:
    return [*CLI, "backfill", *args, "--no-progress"]


def run_backfill_cli(*args: str, timeout: float = 600) -> dict[str, Any]:
    env = dict(os.environ, TONEWATCH_THREADS="1")
    out = subprocess.run(backfill_cmd(*args), capture_output=True, timeout=timeout, env=env)
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    report: dict[str, Any] = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return report


def interrupt_backfill(*args: str, checkpoint: Path, after_done: int, timeout: float = 300) -> int:
    """Start the CLI, SIGKILL its whole process group once ``after_done`` partitions are checkpointed."""
    env = dict(os.environ, TONEWATCH_THREADS="1")
    proc = subprocess.Popen(
        backfill_cmd(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True
    )
    deadline = time.monotonic() + timeout
    done = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            done = len(list((checkpoint / "done").glob("part-*.json"))) if (checkpoint / "done").exists() else 0
            if done >= after_done:
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    return done
