"""The ingest pipeline end to end on SQLite and PostgreSQL, with the real analyzer.

Idempotency, all-or-nothing rejection, out-of-order arrival, masking before storage,
encrypted raw text, hooks in the chunk's transaction, and the clock-driven sweep.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from tonewatch import ConfigurationError
from tonewatch.audit import AuditLog
from tonewatch.ingest import CustomerUpdate, Pipeline, read_events
from tonewatch.mask import RawTextVault
from tonewatch.settings import Settings
from tonewatch.store import Customer, EventRow, HealthSnapshot, Message, Store, Survey, Ticket

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TABLES = ("customers", "events", "messages", "tickets", "surveys", "usage", "outcomes", "health_snapshots")

PraiseA = "Thank you so much, the new dashboard is wonderful and your team is fantastic!"
Angry = "This is unacceptable. The invoice is wrong for the third time and nobody helps me. I am furious."


def at(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def message(eid: str, cid: str, days: float, body: str, **kw: Any) -> dict[str, Any]:
    return {
        "kind": "message",
        "event_id": eid,
        "customer_id": cid,
        "timestamp": at(days),
        "channel": kw.pop("channel", "email"),
        "author": kw.pop("author", "customer"),
        "text": body,
        **kw,
    }


def history(prefix: str) -> list[dict[str, Any]]:
    """A small mixed history for two customers (ids prefixed so two copies can share a database)."""
    a, b = f"{prefix}a", f"{prefix}b"
    return [
        {
            "kind": "customer",
            "customer_id": a,
            "attributes": {"plan": "pro", "segment": "smb", "renewal_date": "2026-06-01"},
        },
        message(f"{prefix}1", a, 0, PraiseA, ticket_id=f"{prefix}t1", channel="chat"),
        message(f"{prefix}2", a, 0.1, "Glad to help! Anything else?", author="agent", ticket_id=f"{prefix}t1"),
        {
            "kind": "ticket",
            "event_id": f"{prefix}3",
            "customer_id": a,
            "ticket_id": f"{prefix}t1",
            "timestamp": at(0),
            "status": "opened",
            "subject": "Dashboard question",
        },
        {
            "kind": "ticket",
            "event_id": f"{prefix}4",
            "customer_id": a,
            "ticket_id": f"{prefix}t1",
            "timestamp": at(1),
            "status": "resolved",
        },
        {
            "kind": "usage",
            "event_id": f"{prefix}5",
            "customer_id": a,
            "timestamp": at(2),
            "metric": "logins",
            "value": 40,
        },
        message(f"{prefix}6", a, 10, "The export keeps failing and the invoice is wrong.", ticket_id=f"{prefix}t2"),
        message(f"{prefix}7", a, 12, Angry, ticket_id=f"{prefix}t2", channel="phone"),
        {
            "kind": "ticket",
            "event_id": f"{prefix}8",
            "customer_id": a,
            "ticket_id": f"{prefix}t2",
            "timestamp": at(10),
            "status": "opened",
            "subject": "Invoice wrong",
        },
        {
            "kind": "ticket",
            "event_id": f"{prefix}9",
            "customer_id": a,
            "ticket_id": f"{prefix}t2",
            "timestamp": at(13),
            "status": "reopened",
        },
        {
            "kind": "survey",
            "event_id": f"{prefix}10",
            "customer_id": a,
            "timestamp": at(14),
            "survey": "csat",
            "score": 2,
            "comment": "Slow and unhelpful.",
        },
        {
            "kind": "usage",
            "event_id": f"{prefix}11",
            "customer_id": a,
            "timestamp": at(30),
            "metric": "logins",
            "value": 8,
        },
        message(f"{prefix}12", b, 3, PraiseA),
        message(f"{prefix}13", b, 3, "Also, the weekly report is great.", channel="chat"),
        {"kind": "outcome", "event_id": f"{prefix}14", "customer_id": b, "timestamp": at(20), "outcome": "renewed"},
        {"kind": "customer", "customer_id": b, "attributes": {"plan": "basic", "segment": "smb"}},
    ]


def dump(store: Store, *, rename: tuple[str, str] | None = None) -> dict[str, list[str]]:
    """Every row of the customer-data tables as sorted JSON strings (``rename`` maps id prefixes)."""
    out: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for table in TABLES:
            rows = []
            for row in conn.execute(text(f"SELECT * FROM {table}")).mappings():
                d = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
                line = json.dumps(d, sort_keys=True, default=str)
                if rename:
                    line = line.replace(rename[0], rename[1])
                rows.append(line)
            out[table] = sorted(rows)
    return out


def test_counts_and_stored_analysis(store: Store, make_pipeline: Callable[..., Pipeline]) -> None:
    report = make_pipeline(store).ingest(history("p"))
    assert report.accepted == 16
    assert report.duplicate == 0
    assert report.rejected == []
    with store.session(readonly=True) as s:
        praise = s.get(Message, "p1")
        agent = s.get(Message, "p2")
        assert praise is not None
        assert agent is not None
        assert praise.label is not None
        assert praise.score is not None
        assert praise.model_version
        assert praise.analysis is not None
        assert praise.category
        assert agent.label is None  # agent text is stored (masked) but not scored
        assert agent.analysis is None
        t1, t2 = s.get(Ticket, "pt1"), s.get(Ticket, "pt2")
        assert t1 is not None
        assert t1.status == "resolved"
        assert t2 is not None
        assert t2.status == "reopened"
        assert t2.reopen_count == 1
        customer = s.get(Customer, "pa")
        assert customer is not None
        assert customer.state is not None
        assert customer.report is not None
        assert customer.report["customer_id"] == "pa"
        assert customer.band in {"healthy", "watch", "at-risk", "critical"}
        assert customer.last_event_at == T0 + timedelta(days=30)
        days = s.scalars(select(HealthSnapshot.day).where(HealthSnapshot.customer_id == "pa")).all()
        assert sorted(days) == [
            "2026-03-02",
            "2026-03-03",
            "2026-03-04",
            "2026-03-12",
            "2026-03-14",
            "2026-03-15",
            "2026-03-16",
            "2026-04-01",
        ]
        late = s.get(Customer, "pb")
        assert late is not None
        assert late.attributes == {"plan": "basic", "segment": "smb"}


def test_same_file_twice_changes_nothing(store: Store, make_pipeline: Callable[..., Pipeline], tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(e) for e in history("p")]
    lines.insert(3, '{"kind": "message", "event_id": "broken"}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pipeline = make_pipeline(store)
    first = pipeline.ingest(read_events(path))
    before = dump(store)
    second = make_pipeline(store).ingest(read_events(path))
    assert dump(store) == before
    assert first.accepted == 16
    assert second.accepted == 0
    assert second.duplicate == 16
    assert [r.line for r in first.rejected] == [r.line for r in second.rejected] == [4]


def test_duplicates_inside_one_batch_count_once(store: Store, make_pipeline: Callable[..., Pipeline]) -> None:
    e = message("d1", "c1", 0, PraiseA)
    report = make_pipeline(store).ingest([e, e, dict(e, text="changed text, same id")])
    assert (report.accepted, report.duplicate) == (1, 2)
    with store.session(readonly=True) as s:
        m = s.get(Message, "d1")
        assert m is not None
        assert m.text == PraiseA


def test_nul_characters_are_dropped_not_refused_by_the_database(
    store: Store, make_pipeline: Callable[..., Pipeline]
) -> None:
    """PostgreSQL refuses NUL in text; a message carrying one is stored without it, never lost."""
    report = make_pipeline(store).ingest([message("nul1", "c1", 0, "The export\x00 is broken again.")])
    assert report.accepted == 1, report.rejected
    with store.session(readonly=True) as s:
        m = s.get(Message, "nul1")
        assert m is not None
        assert m.text == "The export is broken again."


_VOLATILE = ("updated_at", "version", "created_at", "id", "ingested_at")


def _rows(store: Store, table: str, prefix: str) -> list[dict[str, Any]]:
    """Rows of one copy of the history, ids renamed to the ``x`` copy, volatile columns dropped."""
    rows = [r.replace(prefix, "IN-") for r in dump(store)[table] if f'"{prefix}' in r]
    return sorted(({k: v for k, v in json.loads(r).items() if k not in _VOLATILE} for r in rows), key=json.dumps)


def test_out_of_order_arrival_reaches_the_in_order_state(store: Store, make_pipeline: Callable[..., Pipeline]) -> None:
    """Shuffled arrival (customer events last, tickets before their messages) ends where in-order does.

    One event per chunk on both sides, so every text is scored on its own and the two copies
    get identical analyses; the shuffled side rebuilds states whenever an older event arrives.
    """
    ordered = sorted(history("IN-"), key=lambda e: (e.get("timestamp") or "", e.get("event_id") or ""))
    shuffled = history("OUT-")
    random.Random(7).shuffle(shuffled)
    make_pipeline(store, chunk_size=1).ingest(ordered)
    report = make_pipeline(store, chunk_size=1).ingest(shuffled)
    assert report.rebuilt > 0
    for table in ("customers", "health_snapshots", "tickets", "messages", "surveys", "outcomes", "usage"):
        expected = _rows(store, table, "IN-")
        assert expected, table
        assert _rows(store, table, "OUT-") == expected, table


def test_out_of_order_chunks_end_at_the_replayed_state(store: Store, make_pipeline: Callable[..., Pipeline]) -> None:
    """With several events per chunk, the stored state is the state of replaying the stored history in order."""
    from tonewatch.ingest import HealthModel, load_history

    shuffled = history("z")
    random.Random(3).shuffle(shuffled)
    report = make_pipeline(store, chunk_size=5).ingest(shuffled)
    assert report.rebuilt > 0
    model = HealthModel()
    with store.session(readonly=True) as s:
        for cid in ("za", "zb"):
            c = s.get(Customer, cid)
            assert c is not None
            assert c.last_event_at is not None
            replayed = model.replay(cid, c.attributes, load_history(s, cid))
            assert c.state == replayed.to_state()
            assert c.report == model.report(replayed, c.last_event_at, c.attributes).to_dict()


def test_rejected_events_are_never_half_applied(
    store: Store, make_pipeline: Callable[..., Pipeline], settings: Settings
) -> None:
    events = [
        message("ok1", "c1", 0, PraiseA),
        message("bad-channel", "c1", 1, "Hello", channel="fax"),
        message("too-long", "c1", 2, "word " * 100),
        {
            "kind": "survey",
            "event_id": "bad-nps",
            "customer_id": "c1",
            "timestamp": at(3),
            "survey": "nps",
            "score": 11,
        },
        {
            "kind": "usage",
            "event_id": "bad-value",
            "customer_id": "c1",
            "timestamp": at(3),
            "metric": "x",
            "value": "a",
        },
        message("ok2", "c1", 4, "Thanks, that fixed it."),
        "not an object",
    ]
    pipeline = make_pipeline(store, settings=settings.model_copy(update={"max_text_chars": 200}))
    report = pipeline.ingest(events)
    assert report.accepted == 2
    assert [(r.line, r.event_id, r.code) for r in report.rejected] == [
        (2, "bad-channel", "invalid_event"),
        (3, "too-long", "text_too_long"),
        (4, "bad-nps", "invalid_event"),
        (5, "bad-value", "invalid_event"),
        (7, None, "invalid_event"),
    ]
    assert report.rejected[0].field == "channel"
    with store.session(readonly=True) as s:
        assert sorted(s.scalars(select(EventRow.event_id))) == ["ok1", "ok2"]
        assert sorted(s.scalars(select(Message.event_id))) == ["ok1", "ok2"]
        assert s.scalars(select(Survey)).all() == []


def test_a_failing_hook_rolls_back_its_whole_chunk(store: Store, make_pipeline: Callable[..., Pipeline]) -> None:
    seen: list[CustomerUpdate] = []

    def hook(update: CustomerUpdate) -> None:
        seen.append(update)
        AuditLog(update.session).record("test", "hook.saw", f"event:{update.event.event_id if update.event else '-'}")
        if update.event is not None and update.event.event_id == "h4":
            raise RuntimeError("hook failed")

    events = [message(f"h{i}", "c1", i, PraiseA) for i in range(6)]
    pipeline = make_pipeline(store, hooks=[hook], chunk_size=3, retries=0)
    with pytest.raises(RuntimeError):
        pipeline.ingest(events)
    with store.session(readonly=True) as s:
        assert sorted(s.scalars(select(EventRow.event_id))) == ["h0", "h1", "h2"]
        log = AuditLog(s)
        assert log.verify() == 3
        assert [e.subject for e in log.entries()] == ["event:h0", "event:h1", "event:h2"]
    first = seen[0]
    assert first.customer_id == "c1"
    assert first.analysis is not None
    assert first.previous is None
    assert first.report.customer_id == "c1"
    assert first.source == "event"
    assert seen[1].previous is not None
    assert seen[1].as_of == T0 + timedelta(days=1)


def test_sweep_reports_as_of_a_later_time(store: Store, make_pipeline: Callable[..., Pipeline]) -> None:
    updates: list[CustomerUpdate] = []
    pipeline = make_pipeline(store)
    pipeline.ingest([message("s1", "c1", 0, Angry), message("s2", "c2", 0, PraiseA)])
    pipeline.add_hook(updates.append)
    later = T0 + timedelta(days=45)
    result = pipeline.sweep(later)
    assert (result.customers, result.persisted) == (2, 2)
    assert sorted(u.customer_id for u in updates) == ["c1", "c2"]
    assert all(u.event is None and u.source == "sweep" and u.as_of == later for u in updates)
    with store.session(readonly=True) as s:
        c1 = s.get(Customer, "c1")
        assert c1 is not None
        assert c1.as_of == later
        assert c1.report is not None
        days = s.scalars(select(HealthSnapshot.day).where(HealthSnapshot.customer_id == "c1")).all()
        assert "2026-04-16" in days
    past = pipeline.sweep(T0 - timedelta(days=1))
    assert past.persisted == 0


PII = {
    "email": "jane.roe@example.com",
    "phone": "+1 415 555 0134",
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
    "ssn": "123-45-6789",
    "ip": "203.0.113.42",
}


def _pii_events(prefix: str = "") -> list[dict[str, Any]]:
    body = (
        f"Hi, please refund card {PII['card']} or IBAN {PII['iban']}. Reach me at {PII['email']} or {PII['phone']}. "
        f"My SSN is {PII['ssn']} and I log in from {PII['ip']}. This is really disappointing."
    )
    return [
        message(f"{prefix}m1", "c1", 0, body),
        message(f"{prefix}m2", "c1", 1, f"We will call you on {PII['phone']}.", author="agent"),
        {
            "kind": "survey",
            "event_id": f"{prefix}s1",
            "customer_id": "c1",
            "timestamp": at(2),
            "survey": "nps",
            "score": 3,
            "comment": f"Email me at {PII['email']}",
        },
        {
            "kind": "ticket",
            "event_id": f"{prefix}t1",
            "customer_id": "c1",
            "ticket_id": "t1",
            "timestamp": at(0),
            "status": "opened",
            "subject": f"Refund to {PII['card']}",
        },
    ]


def _all_text(store: Store) -> str:
    return json.dumps(dump(store))


def test_personal_data_is_never_stored_in_clear(store: Store, make_pipeline: Callable[..., Pipeline]) -> None:
    make_pipeline(store).ingest(_pii_events())
    everything = _all_text(store)
    for kind, value in PII.items():
        assert value not in everything, kind
        assert value.replace(" ", "") not in everything, kind
    with store.session(readonly=True) as s:
        m = s.get(Message, "m1")
        assert m is not None
        assert m.raw_text_encrypted is None
        assert m.text is not None
        assert "<EMAIL>" in m.text
        assert "<CARD>" in m.text
        assert set(m.pii_kinds) >= {"EMAIL", "CARD", "IBAN", "PHONE", "SSN", "IP"}


def test_raw_text_is_kept_only_encrypted_when_opted_in(
    sqlite_store: Store, make_pipeline: Callable[..., Pipeline], settings: Settings
) -> None:
    key = RawTextVault.generate_key()
    opted = settings.model_copy(update={"store_raw_text": True, "encryption_key": key})
    make_pipeline(sqlite_store, settings=opted).ingest(_pii_events())
    everything = _all_text(sqlite_store)
    for value in PII.values():
        assert value not in everything
    with sqlite_store.session(readonly=True) as s:
        m = s.get(Message, "m1")
        assert m is not None
        assert m.raw_text_encrypted is not None
        assert RawTextVault(key).decrypt(m.raw_text_encrypted) == _pii_events()[0]["text"]
    without_key = settings.model_copy(update={"store_raw_text": True, "encryption_key": None})
    with pytest.raises(ConfigurationError):
        make_pipeline(sqlite_store, settings=without_key).ingest(_pii_events("again-"))
