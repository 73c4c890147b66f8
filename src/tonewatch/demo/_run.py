"""The ``tonewatch demo`` loop: generate (or reuse) the history, then ingest it as production would.

The history is anchored so it ends this week: the dashboard's "now" then falls right after
the last event instead of months later (which would make every customer look silent). It
is kept under ``<home>/demo/`` with a ``meta.json`` describing it, and reused while the
parameters and the anchor week are unchanged.

Ingestion goes through the production :class:`~tonewatch.ingest.Pipeline` with the
playbook's :class:`~tonewatch.triggers.TriggerHook`, one week at a time, with a sweep at the
end of each week, as a deployment's periodic sweep would run: the clock rules (silence,
renewal proximity, silent churner) then fire when they would have in real life.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tonewatch.score._model import file_sha256

from ._company import COMPANY
from ._generate import generate, ground_truth, write_jsonl
from ._plan import add_months
from ._truth import GroundTruth

if TYPE_CHECKING:
    from tonewatch.settings import Settings
    from tonewatch.store import Store


__all__ = [
    "DEMO_CUSTOMERS",
    "DemoData",
    "IngestOutcome",
    "Progress",
    "demo_anchor",
    "ingest_demo",
    "prepare_data",
    "write_meta",
]

# Sized so the whole loop (generate, score, store, rules, sweeps) fits in two minutes on two cores.
DEMO_CUSTOMERS = 200
_META_VERSION = 1

Progress = Callable[[str, int, int | None], None]
"""Progress callback: (step, advance, total-or-None); total is given once per step, with advance 0."""


def _no_progress(step: str, advance: int, total: int | None) -> None:
    return None


def demo_anchor(today: date) -> date:
    """The Monday of ``today``'s week: the demo history ends there (and is reused all week)."""
    return today - timedelta(days=today.weekday())


@dataclass(frozen=True, slots=True)
class DemoData:
    """A generated history on disk, with the truth behind it."""

    folder: Path
    events_path: Path
    truth_path: Path
    meta: dict[str, Any]
    reused: bool

    @property
    def start(self) -> date:
        return date.fromisoformat(self.meta["start"])

    @property
    def end(self) -> date:
        return date.fromisoformat(self.meta["end"])

    @property
    def events(self) -> int:
        return int(self.meta["events"])

    @property
    def digest(self) -> str:
        return str(self.meta["sha256"])

    def truth(self) -> GroundTruth:
        return GroundTruth.read(self.truth_path)


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def write_meta(data: DemoData, **changes: Any) -> DemoData:
    """Record more about the data (e.g. which database it was ingested into)."""
    meta = {**data.meta, **changes}
    path = data.folder / "meta.json"
    path.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return DemoData(data.folder, data.events_path, data.truth_path, meta, data.reused)


def prepare_data(
    folder: Path,
    *,
    customers: int = DEMO_CUSTOMERS,
    months: int = 6,
    seed: int = 7,
    today: date | None = None,
    fresh: bool = False,
    progress: Progress = _no_progress,
) -> DemoData:
    """Generate the history ending in ``today``'s week under ``folder``, or reuse the one there."""
    end = demo_anchor(today or datetime.now(UTC).date())
    start = add_months(end, -months)
    events_path, truth_path, meta_path = folder / "events.jsonl", folder / "truth.json", folder / "meta.json"
    wanted = {
        "version": _META_VERSION,
        "customers": customers,
        "months": months,
        "seed": seed,
        "start": start.isoformat(),
    }
    meta = None if fresh else _read_meta(meta_path)
    if (
        meta is not None
        and all(meta.get(k) == v for k, v in wanted.items())
        and events_path.is_file()
        and truth_path.is_file()
        and meta.get("sha256") == file_sha256(events_path)
    ):
        return DemoData(folder, events_path, truth_path, meta, reused=True)

    folder.mkdir(parents=True, exist_ok=True)
    progress("generate", 0, customers)
    truth = ground_truth(customers=customers, months=months, seed=seed, start=start)
    n = write_jsonl(generate(customers=customers, months=months, seed=seed, start=start), events_path)
    truth.write(truth_path)
    progress("generate", customers, customers)
    meta = {
        **wanted,
        "company": COMPANY,
        "end": truth.end.isoformat(),
        "events": n,
        "sha256": file_sha256(events_path),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    meta_path.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return DemoData(folder, events_path, truth_path, meta, reused=False)


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What one demo ingestion did."""

    accepted: int
    duplicate: int
    rejected: int
    rejections: tuple[str, ...]
    sweeps: int
    firings: int
    seconds: float


def _periods(
    events: Iterator[tuple[int, Any]], first_sweep: datetime, every: timedelta
) -> Iterator[tuple[datetime, list[tuple[int, Any]]]]:
    """Split the (time-ordered) stream into periods; yield each period's events with the sweep time after it."""
    boundary = first_sweep
    period: list[tuple[int, Any]] = []
    for line, event in events:
        ts = _timestamp(event)
        while ts is not None and ts >= boundary:
            yield boundary, period
            period = []
            boundary += every
        period.append((line, event))
    yield boundary, period


def _timestamp(event: Any) -> datetime | None:
    if not isinstance(event, dict) or not isinstance(event.get("timestamp"), str):
        return None
    try:
        ts = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def ingest_demo(
    data: DemoData,
    store: Store,
    settings: Settings,
    *,
    progress: Progress = _no_progress,
    batch_size: int = 32,
    sweep_every: timedelta = timedelta(days=7),
) -> IngestOutcome:
    """Ingest the history through the production pipeline and playbook, sweeping every ``sweep_every``.

    The last sweep runs as of the end of the history, so the stored health, bands, review
    queue and rule firings are those a team would see on that day.
    """
    import time as clock

    from tonewatch.ingest import IngestReport, Pipeline, read_events
    from tonewatch.triggers import TriggerHook, active_playbook

    started = clock.perf_counter()
    hook = TriggerHook(active_playbook(settings), settings)
    pipeline = Pipeline(store, settings=settings, hooks=[hook], batch_size=batch_size)
    end = datetime.combine(data.end, time(0), UTC)
    first_monday = data.start + timedelta(days=(7 - data.start.weekday()) % 7 or 7)
    report = IngestReport()
    sweeps = 0
    progress("ingest", 0, data.events)
    periods = _periods(read_events(data.events_path), datetime.combine(first_monday, time(0), UTC), sweep_every)
    for sweep_at, period in periods:
        if period:
            report += pipeline.ingest(period)
            progress("ingest", len(period), None)
        pipeline.sweep(min(sweep_at, end))
        sweeps += 1
    return IngestOutcome(
        accepted=report.accepted,
        duplicate=report.duplicate,
        rejected=len(report.rejected),
        rejections=tuple(f"line {r.line}: {r.reason}" for r in report.rejected[:20]),
        sweeps=sweeps,
        firings=len(hook.fired),
        seconds=clock.perf_counter() - started,
    )
