"""The audit chain: appends, verification against tampering, export, concurrent writers."""

from __future__ import annotations

import csv
import io
import itertools
import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tonewatch import AuditIntegrityError, InputError
from tonewatch.audit import GENESIS_HASH, AuditLog, entry_hash
from tonewatch.store import Store


def _fill(store: Store, n: int = 5) -> None:
    with store.session() as s:
        log = AuditLog(s)
        for i in range(n):
            log.record("alice", "rule.fired", f"customer:c{i}", {"rule": "silence", "n": i, "score": -0.25})


def test_entries_chain_and_verify(store: Store) -> None:
    _fill(store, 5)
    with store.session(readonly=True) as s:
        log = AuditLog(s)
        entries = log.entries()
        assert log.verify() == 5
        assert log.head() == (5, entries[-1].hash)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for prev, cur in itertools.pairwise(entries):
        assert cur.prev_hash == prev.hash
    e = entries[2]
    assert e.hash == entry_hash(e.seq, e.ts, e.actor, e.action, e.subject, e.details, e.prev_hash)
    assert e.details == {"rule": "silence", "n": 2, "score": -0.25}


def test_empty_log_verifies(store: Store) -> None:
    with store.session(readonly=True) as s:
        assert AuditLog(s).verify() == 0


def _flip_one_char(store: Store, seq: int, column: str) -> None:
    with store.session() as s:
        value = s.execute(text(f"SELECT {column} FROM audit_log WHERE seq = :q"), {"q": seq}).scalar_one()
        changed = value[:-1] + ("x" if value[-1] != "x" else "y")
        s.execute(text(f"UPDATE audit_log SET {column} = :v WHERE seq = :q"), {"v": changed, "q": seq})


@pytest.mark.parametrize("column", ["subject", "actor", "action"])
def test_single_changed_byte_is_detected(store: Store, column: str) -> None:
    _fill(store, 6)
    _flip_one_char(store, 4, column)
    with store.session(readonly=True) as s, pytest.raises(AuditIntegrityError) as info:
        AuditLog(s).verify()
    assert info.value.seq == 4
    assert "altered" in str(info.value)


def test_changed_details_value_is_detected(store: Store) -> None:
    _fill(store, 4)
    cast = "CAST(:d AS JSONB)" if store.dialect == "postgresql" else ":d"
    with store.session() as s:
        s.execute(
            text(f"UPDATE audit_log SET details = {cast} WHERE seq = 2"),
            {"d": json.dumps({"rule": "silence", "n": 1, "score": -0.24})},
        )
    with store.session(readonly=True) as s, pytest.raises(AuditIntegrityError) as info:
        AuditLog(s).verify()
    assert info.value.seq == 2


def test_changed_timestamp_is_detected(store: Store) -> None:
    _fill(store, 3)
    with store.session() as s:
        s.execute(text("UPDATE audit_log SET ts = :t WHERE seq = 3"), {"t": datetime(2020, 1, 1)})
    with store.session(readonly=True) as s, pytest.raises(AuditIntegrityError) as info:
        AuditLog(s).verify()
    assert info.value.seq == 3


def test_deleted_entry_is_detected(store: Store) -> None:
    _fill(store, 6)
    with store.session() as s:
        s.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    with store.session(readonly=True) as s, pytest.raises(AuditIntegrityError) as info:
        AuditLog(s).verify()
    assert info.value.seq == 3
    assert "missing" in str(info.value)


def test_deleted_and_renumbered_entry_is_detected(store: Store) -> None:
    """Closing the gap by renumbering still breaks the links."""
    _fill(store, 5)
    with store.session() as s:
        s.execute(text("DELETE FROM audit_log WHERE seq = 2"))
        for q in (3, 4, 5):
            s.execute(text("UPDATE audit_log SET seq = :n WHERE seq = :q"), {"n": q - 1, "q": q})
        s.execute(text("UPDATE audit_head SET seq = 4"))
    with store.session(readonly=True) as s, pytest.raises(AuditIntegrityError) as info:
        AuditLog(s).verify()
    assert info.value.seq == 2


def test_deleted_tail_is_detected(store: Store) -> None:
    _fill(store, 4)
    with store.session() as s:
        s.execute(text("DELETE FROM audit_log WHERE seq = 4"))
    with store.session(readonly=True) as s, pytest.raises(AuditIntegrityError) as info:
        AuditLog(s).verify()
    assert info.value.seq == 4


def test_reordered_entries_are_detected(store: Store) -> None:
    _fill(store, 5)
    with store.session() as s:
        s.execute(text("UPDATE audit_log SET seq = 100 WHERE seq = 2"))
        s.execute(text("UPDATE audit_log SET seq = 2 WHERE seq = 3"))
        s.execute(text("UPDATE audit_log SET seq = 3 WHERE seq = 100"))
    with store.session(readonly=True) as s, pytest.raises(AuditIntegrityError) as info:
        AuditLog(s).verify()
    assert info.value.seq == 2


def test_rolled_back_entry_leaves_no_trace(store: Store) -> None:
    _fill(store, 2)

    def failing_change() -> None:
        with store.session() as s:
            AuditLog(s).record("bob", "queue.approve", "review:1")
            raise RuntimeError("the change being audited failed")

    with pytest.raises(RuntimeError):
        failing_change()
    _fill(store, 1)
    with store.session(readonly=True) as s:
        log = AuditLog(s)
        assert log.verify() == 3
        assert all(e.actor == "alice" for e in log.entries())


def test_details_are_plain_json(store: Store) -> None:
    when = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    with store.session() as s:
        entry = AuditLog(s).record("system", "analysis.flag", "message:e1", {"at": when, "cues": ("a", "b")})
        with pytest.raises(InputError):
            AuditLog(s).record("system", "x", "y", {"bad": float("nan")})
        with pytest.raises(InputError):
            AuditLog(s).record("", "x", "y")
    assert entry.details == {"at": "2026-05-01T10:00:00.000000Z", "cues": ["a", "b"]}
    with store.session(readonly=True) as s:
        assert AuditLog(s).verify() == 1


def test_export_jsonl_and_csv_carry_a_verifiable_chain(store: Store) -> None:
    _fill(store, 3)
    with store.session(readonly=True) as s:
        lines = "".join(AuditLog(s).export("jsonl")).splitlines()
        rows = list(csv.DictReader(io.StringIO("".join(AuditLog(s).export("csv")))))
        with pytest.raises(InputError):
            list(AuditLog(s).export("xml"))  # type: ignore[arg-type]
    assert len(lines) == 3
    assert len(rows) == 3
    prev = GENESIS_HASH
    for line, row in zip(lines, rows, strict=True):
        d = json.loads(line)
        ts = datetime.strptime(d["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert d["prev_hash"] == prev
        assert entry_hash(d["seq"], ts, d["actor"], d["action"], d["subject"], d["details"], prev) == d["hash"]
        assert row["hash"] == d["hash"]
        assert json.loads(row["details"]) == d["details"]
        prev = d["hash"]


def test_concurrent_writers_keep_one_chain(store: Store) -> None:
    threads, per_thread = 4, 10
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(per_thread):
                with store.session() as s:
                    AuditLog(s).record(f"worker-{k}", "test.append", f"item:{k}:{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    with store.session(readonly=True) as s:
        log = AuditLog(s)
        assert log.verify() == threads * per_thread
        assert log.count() == threads * per_thread
