"""Shadow scoring: a candidate version reads the live messages too, and nobody acts on what it says.

Where it runs: after the ingest pipeline has *committed* a chunk (so a rolled-back chunk is
never shadowed and the live transaction never waits for a second model), the chunk's scored
customer messages go into a bounded in-memory queue. One background thread per process
takes them in batches, scores them with the shadow version (on one intra-op thread, so it
takes at most one core from live scoring) and writes ``shadow_results`` rows in its own
transaction. When the queue is full, new items are dropped and counted
(``stats.dropped``) rather than waited for: shadow figures are a sample, live latency is not
negotiable. Results are written with "insert unless present", so a chunk retried after a
conflict, or an event ingested twice, is compared once. Nothing here touches the stored
analysis, the customer state or the triggers.

A short-lived process must drain the queue before it exits (``Pipeline.drain``;
``tonewatch ingest`` does): at interpreter exit the worker is a daemon thread and whatever is
still queued is lost, which for a sample is acceptable.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ._registry_tables import ShadowResultRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tonewatch.ingest import AnalyzerLike
    from tonewatch.store import Store

__all__ = [
    "COMPARED_LABELS",
    "ShadowComparison",
    "ShadowItem",
    "ShadowScorer",
    "ShadowStats",
    "compare_shadow",
]

_log = logging.getLogger("tonewatch.learn.shadow")

COMPARED_LABELS: tuple[str, ...] = ("negative", "neutral", "positive", "mixed")


@dataclass(frozen=True, slots=True)
class ShadowItem:
    """One committed live result to re-score: the (masked) text stays in memory only."""

    event_id: str
    text: str
    language: str | None
    version: str  # the shadow's registry name
    active_version: str  # the live analysis' model_version
    active_label: str
    active_score: float


@dataclass(slots=True)
class ShadowStats:
    submitted: int = 0
    dropped: int = 0
    scored: int = 0
    written: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "submitted": self.submitted,
            "dropped": self.dropped,
            "scored": self.scored,
            "written": self.written,
            "failed": self.failed,
        }


class ShadowScorer:
    """A bounded queue and one worker thread that score and log shadow results."""

    def __init__(
        self,
        store: Callable[[], Store],
        analyzer_for: Callable[[str], AnalyzerLike],
        *,
        max_queue: int = 10_000,
        batch_size: int = 32,
    ) -> None:
        self._store = store
        self._analyzer_for = analyzer_for
        self._max_queue = max(1, max_queue)
        self._batch_size = max(1, batch_size)
        self._items: deque[ShadowItem] = deque()
        self._busy = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.stats = ShadowStats()

    def submit(self, items: Iterable[ShadowItem]) -> int:
        """Queue items for scoring without blocking; returns how many were taken (the rest are dropped)."""
        taken = 0
        with self._cond:
            for item in items:
                self.stats.submitted += 1
                if len(self._items) >= self._max_queue or self._closed:
                    self.stats.dropped += 1
                    continue
                self._items.append(item)
                taken += 1
            if taken:
                self._start()
                self._cond.notify()
        return taken

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="tonewatch-shadow", daemon=True)
            self._thread.start()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._items) + self._busy

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is written (or failed); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._items and self._busy == 0, timeout=timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Drain, then stop taking items."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._items) or self._closed, timeout=5.0)
                if not self._items:
                    if self._closed:
                        return
                    continue
                batch = [self._items.popleft() for _ in range(min(self._batch_size, len(self._items)))]
                self._busy = len(batch)
            try:
                self._process(batch)
            except Exception:  # the live path must never notice a failing shadow
                _log.exception("shadow scoring of %d messages failed", len(batch))
                with self._cond:
                    self.stats.failed += len(batch)
            finally:
                with self._cond:
                    self._busy = 0
                    self._cond.notify_all()

    def _process(self, batch: Sequence[ShadowItem]) -> None:
        by_version: dict[str, list[ShadowItem]] = {}
        for item in batch:
            by_version.setdefault(item.version, []).append(item)
        rows: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        for version, items in by_version.items():
            analyzer = self._analyzer_for(version)
            results = analyzer.analyze_batch(
                [i.text for i in items], batch_size=self._batch_size, languages=[i.language for i in items]
            )
            for item, result in zip(items, results, strict=True):
                if result.model_version == item.active_version:
                    continue  # the shadow is what served this message: nothing to compare
                rows.append(
                    {
                        "event_id": item.event_id,
                        "version": result.model_version,
                        "label": result.label,
                        "probabilities": {k: round(float(v), 4) for k, v in result.probabilities.items()},
                        "confidence": round(float(result.confidence), 4),
                        "score": round(float(result.score), 4),
                        "active_version": item.active_version,
                        "active_label": item.active_label,
                        "active_score": round(float(item.active_score), 4),
                        "created_at": now,
                    }
                )
        with self._cond:
            self.stats.scored += len(rows)
        written = _insert_new(self._store(), rows)
        with self._cond:
            self.stats.written += written


def _insert_new(store: Store, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping (event, version) pairs already there and events erased in the meantime."""
    if not rows:
        return 0
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from tonewatch.store._models import EventRow

    with store.session() as session:
        ids = {r["event_id"] for r in rows}
        present = set(session.scalars(select(EventRow.event_id).where(EventRow.event_id.in_(ids))))
        rows = [r for r in rows if r["event_id"] in present]
        if not rows:
            return 0
        insert = pg_insert if store.dialect == "postgresql" else sqlite_insert
        stmt = insert(ShadowResultRow).values(rows).on_conflict_do_nothing(index_elements=["event_id", "version"])
        result = session.execute(stmt)
        count = getattr(result, "rowcount", None)
    return int(count) if isinstance(count, int) and count >= 0 else len(rows)


@dataclass(frozen=True, slots=True)
class ShadowComparison:
    """How a shadow version read the live messages, compared with the active version's reading.

    ``confusion[i][j]`` counts messages the active version labelled ``labels[i]`` and the
    shadow labelled ``labels[j]``.
    """

    version: str
    active_version: str
    n: int
    agreement: float | None
    mean_abs_score_diff: float | None
    active_labels: dict[str, int]
    shadow_labels: dict[str, int]
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    first_at: datetime | None
    last_at: datetime | None
    other_active: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def r4(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {
            "version": self.version,
            "active_version": self.active_version,
            "n": self.n,
            "agreement": r4(self.agreement),
            "mean_abs_score_diff": r4(self.mean_abs_score_diff),
            "label_distribution": {"active": self.active_labels, "shadow": self.shadow_labels},
            "confusion": {
                "rows": "active",
                "columns": "shadow",
                "labels": list(self.labels),
                "matrix": [list(r) for r in self.confusion],
            },
            "first_at": self.first_at.isoformat() if self.first_at else None,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "against_other_active_versions": self.other_active,
        }


def compare_shadow(session: Session, version: str, active_version: str) -> ShadowComparison:
    """Agreement, label distributions, mean |score difference| and confusion, from ``shadow_results``.

    ``version`` and ``active_version`` are model versions (what the analyses report). Only
    results recorded against ``active_version`` are compared; counts against earlier active
    versions are listed in ``other_active``.
    """
    r = ShadowResultRow
    mine = (r.version == version, r.active_version == active_version)
    pairs = session.execute(
        select(r.active_label, r.label, func.count()).where(*mine).group_by(r.active_label, r.label)
    )
    cells: Counter[tuple[str, str]] = Counter()
    for active_label, label, n in pairs:
        cells[(str(active_label), str(label))] += int(n)
    stats = session.execute(
        select(
            func.count(), func.avg(func.abs(r.score - r.active_score)), func.min(r.created_at), func.max(r.created_at)
        ).where(*mine)
    ).one()
    others = session.execute(
        select(r.active_version, func.count())
        .where(r.version == version, r.active_version != active_version)
        .group_by(r.active_version)
    )
    n = int(stats[0] or 0)
    seen = {lab for pair in cells for lab in pair}
    labels = tuple(lab for lab in COMPARED_LABELS if lab in seen or lab != "mixed") + tuple(
        sorted(seen - set(COMPARED_LABELS))
    )
    confusion = tuple(tuple(cells[(a, s)] for s in labels) for a in labels)
    agree = sum(cells[(lab, lab)] for lab in labels)
    from tonewatch.store._base import UTCDateTime

    def when(value: Any) -> datetime | None:
        return UTCDateTime().process_result_value(value, session.get_bind().dialect) if value is not None else None

    return ShadowComparison(
        version=version,
        active_version=active_version,
        n=n,
        agreement=agree / n if n else None,
        mean_abs_score_diff=float(stats[1]) if stats[1] is not None else None,
        active_labels={lab: sum(cells[(lab, s)] for s in labels) for lab in labels},
        shadow_labels={lab: sum(cells[(a, lab)] for a in labels) for lab in labels},
        labels=labels,
        confusion=confusion,
        first_at=when(stats[2]),
        last_at=when(stats[3]),
        other_active={str(v): int(c) for v, c in others},
    )
