"""Analysis corrections, and two pipelines ingesting the same events at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tonewatch import InputError, NotFoundError
from tonewatch.audit import AuditLog
from tonewatch.ingest import HealthModel, IngestReport, Pipeline, load_history
from tonewatch.store import Customer, EventRow, Feedback, Store, add_feedback

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def test_feedback_is_stored_next_to_the_analysis_and_audited(
    store: Store, make_pipeline: Callable[..., Pipeline]
) -> None:
    make_pipeline(store).ingest(
        [
            {
                "kind": "message",
                "event_id": "m1",
                "customer_id": "c1",
                "timestamp": T0.isoformat(),
                "channel": "chat",
                "text": "Oh great, it broke again.",
            }
        ]
    )
    with store.session() as s:
        row = add_feedback(s, "m1", actor="qa-lead", label="negative", category="bug", note="sarcasm")
        with pytest.raises(InputError):
            add_feedback(s, "m1", actor="qa-lead", label="furious")
        with pytest.raises(InputError):
            add_feedback(s, "m1", actor="qa-lead", score=3.0)
        with pytest.raises(NotFoundError):
            add_feedback(s, "nope", actor="qa-lead", label="neutral")
    assert row.customer_id == "c1"
    assert row.model_version
    with store.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 1
        (entry,) = AuditLog(s).entries()
    assert (entry.action, entry.subject) == ("analysis.corrected", "message:m1")
    assert entry.details["label"][1] == "negative"


def test_concurrent_pipelines_store_each_event_once(store: Store, make_pipeline: Callable[..., Pipeline]) -> None:
    events: list[dict[str, Any]] = []
    for i in range(60):
        events.append(
            {
                "kind": "usage",
                "event_id": f"u{i}",
                "customer_id": f"c{i % 3}",
                "timestamp": (T0 + timedelta(hours=i)).isoformat(),
                "metric": "logins",
                "value": i % 7,
            }
        )
    reports: list[IngestReport] = []
    errors: list[BaseException] = []

    def work(order: list[dict[str, Any]]) -> None:
        try:
            reports.append(make_pipeline(store, chunk_size=5).ingest(order))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(list(events),)),
        threading.Thread(target=work, args=(list(reversed(events)),)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.accepted for r in reports) == 60
    assert sum(r.duplicate for r in reports) == 60
    model = HealthModel()
    with store.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(EventRow)) == 60
        for cid in ("c0", "c1", "c2"):
            c = s.get(Customer, cid)
            assert c is not None
            assert c.state == model.replay(cid, c.attributes, load_history(s, cid)).to_state()
