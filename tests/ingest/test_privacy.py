"""Privacy operations on stored data: export, erasure and retention purge, each audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from tonewatch import NotFoundError
from tonewatch.audit import AuditLog
from tonewatch.ingest import Pipeline
from tonewatch.mask import RawTextVault
from tonewatch.settings import Settings
from tonewatch.store import Customer, Message, Store, Survey, Ticket, erase_customer, export_customer, purge_texts

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
OLD_COMPLAINT = "The delivery was late again and the courier was rude to me."
NEW_COMPLAINT = "Still no refund after two weeks, this is really frustrating."


def _events(cid: str) -> list[dict[str, Any]]:
    def at(days: int) -> str:
        return (T0 + timedelta(days=days)).isoformat()

    return [
        {
            "kind": "customer",
            "customer_id": cid,
            "attributes": {"name": "Jane Roe", "email": "jane@example.com", "plan": "pro", "segment": "smb"},
        },
        {
            "kind": "message",
            "event_id": f"{cid}-m1",
            "customer_id": cid,
            "timestamp": at(0),
            "channel": "email",
            "ticket_id": f"{cid}-t1",
            "text": OLD_COMPLAINT,
        },
        {
            "kind": "ticket",
            "event_id": f"{cid}-t1o",
            "customer_id": cid,
            "ticket_id": f"{cid}-t1",
            "timestamp": at(0),
            "status": "opened",
            "subject": "Late delivery and rude courier",
        },
        {
            "kind": "survey",
            "event_id": f"{cid}-s1",
            "customer_id": cid,
            "timestamp": at(1),
            "survey": "csat",
            "score": 1,
            "comment": "Courier was rude",
        },
        {
            "kind": "message",
            "event_id": f"{cid}-m2",
            "customer_id": cid,
            "timestamp": at(100),
            "channel": "chat",
            "text": NEW_COMPLAINT,
        },
    ]


def _db_text(store: Store) -> str:
    parts = []
    with store.engine.connect() as conn:
        for table in ("customers", "events", "messages", "tickets", "surveys", "health_snapshots"):
            parts += [json.dumps(dict(r), default=str) for r in conn.execute(text(f"SELECT * FROM {table}")).mappings()]
    return "\n".join(parts)


def test_export_contains_the_customers_data_and_is_audited(
    store: Store, make_pipeline: Callable[..., Pipeline], settings: Settings
) -> None:
    key = RawTextVault.generate_key()
    opted = settings.model_copy(update={"store_raw_text": True, "encryption_key": key})
    make_pipeline(store, settings=opted).ingest(_events("c1") + _events("c2"))
    with store.session() as s:
        doc = export_customer(s, "c1", actor="dpo", vault=RawTextVault(key))
        with pytest.raises(NotFoundError):
            export_customer(s, "nobody", actor="dpo")
    assert doc["customer"]["attributes"]["name"] == "Jane Roe"
    assert [m["event_id"] for m in doc["messages"]] == ["c1-m1", "c1-m2"]
    assert doc["messages"][0]["text"] == OLD_COMPLAINT
    assert doc["messages"][0]["raw_text"] == OLD_COMPLAINT
    assert doc["messages"][0]["label"] is not None
    assert [t["ticket_id"] for t in doc["tickets"]] == ["c1-t1"]
    assert doc["surveys"][0]["comment"] == "Courier was rude"
    assert doc["health_history"]
    assert all("c2" not in json.dumps(m) for m in doc["messages"])
    with store.session(readonly=True) as s:
        log = AuditLog(s)
        assert log.verify() == 1
        (entry,) = log.entries()
    assert (entry.actor, entry.action, entry.subject) == ("dpo", "privacy.export", "customer:c1")
    assert entry.details == {"messages": 2, "raw_text_included": 2}


def test_erase_removes_texts_and_personal_attributes_but_keeps_scores_and_the_chain(
    store: Store, make_pipeline: Callable[..., Pipeline]
) -> None:
    make_pipeline(store).ingest(_events("c1") + _events("c2"))
    with store.session() as s:
        AuditLog(s).record("system", "rule.fired", "customer:c1", {"rule": "late-delivery"})
    with store.session(readonly=True) as s:
        before = s.get(Message, "c1-m1")
        assert before is not None
        score_before = before.score
    with store.session() as s:
        report = erase_customer(s, "c1", actor="dpo", now=datetime.now(UTC))
    assert report.messages == 2
    assert report.surveys == 1
    assert report.tickets == 1
    assert report.attributes_removed == ["email", "name"]
    with store.session(readonly=True) as s:
        c1 = s.get(Customer, "c1")
        assert c1 is not None
        assert c1.attributes == {"plan": "pro", "segment": "smb"}
        assert c1.erased_at is not None
        assert c1.report is not None
        m = s.get(Message, "c1-m1")
        assert m is not None
        assert m.text is None
        assert m.score == score_before
        assert m.analysis is not None
        assert all(sent["text"] == "" for sent in m.analysis["sentences"])
        survey = s.get(Survey, "c1-s1")
        assert survey is not None
        assert survey.comment is None
        ticket = s.get(Ticket, "c1-t1")
        assert ticket is not None
        assert ticket.subject is None
        kept = s.get(Message, "c2-m1")
        assert kept is not None
        assert kept.text == OLD_COMPLAINT
        log = AuditLog(s)
        assert log.verify() == 2
        assert [e.action for e in log.entries(subject="customer:c1")] == ["rule.fired", "privacy.erase"]
    everything = _db_text(store)
    c1_rows = [line for line in everything.splitlines() if '"c1' in line]
    for fragment in ("Jane Roe", "jane@example.com", "courier was rude", "Courier was rude", "refund after two weeks"):
        assert not any(fragment in line for line in c1_rows), fragment


def test_purge_removes_old_text_only_and_is_audited(store: Store, make_pipeline: Callable[..., Pipeline]) -> None:
    make_pipeline(store).ingest(_events("c1"))
    cutoff = T0 + timedelta(days=30)
    with store.session() as s:
        report = purge_texts(s, cutoff, actor="retention", now=T0 + timedelta(days=120))
    assert (report.messages, report.surveys, report.tickets, report.customers) == (1, 1, 1, 1)
    with store.session(readonly=True) as s:
        old, new = s.get(Message, "c1-m1"), s.get(Message, "c1-m2")
        assert old is not None
        assert new is not None
        assert old.text is None
        assert old.text_purged_at == T0 + timedelta(days=120)
        assert old.label is not None
        assert old.score is not None
        assert new.text == NEW_COMPLAINT
        c1 = s.get(Customer, "c1")
        assert c1 is not None
        assert OLD_COMPLAINT not in json.dumps(c1.report)
        assert OLD_COMPLAINT not in json.dumps(c1.state)
        log = AuditLog(s)
        assert log.verify() == 1
        (entry,) = log.entries()
        assert entry.action == "privacy.purge"
        assert entry.details["messages"] == 1
        remaining = s.scalars(select(Message.text).where(Message.text.is_not(None))).all()
    assert remaining == [NEW_COMPLAINT]
    assert OLD_COMPLAINT not in _db_text(store)
    with store.session() as s:
        again = purge_texts(s, cutoff, actor="retention", now=T0 + timedelta(days=121))
    assert again.messages == 0
