"""The store on both backends: migrations, sessions, errors, time zones, optimistic concurrency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from schema_support import migration_drift
from sqlalchemy import select

import tonewatch.audit._models  # noqa: F401 - registers the audit tables on Base
from tonewatch import ConfigurationError, StoreError
from tonewatch.settings import Settings
from tonewatch.store import Customer, EventRow, Store, normalize_url

MY_TABLES = {
    "customers",
    "events",
    "messages",
    "tickets",
    "surveys",
    "usage",
    "outcomes",
    "health_snapshots",
    "feedback",
    "audit_log",
    "audit_head",
}


def _customer(cid: str) -> Customer:
    now = datetime.now(UTC)
    return Customer(id=cid, attributes={"plan": "pro"}, created_at=now, updated_at=now)


def _save(store: Store, *rows: object) -> None:
    with store.session() as s:
        s.add_all(rows)


def test_create_all_is_idempotent_and_at_head(store: Store) -> None:
    store.create_all()
    assert store.current_revisions() == Store.head_revisions()
    assert "0001" not in Store.head_revisions() or store.current_revisions() == {"0001"}
    with store.session(readonly=True) as s:
        assert s.scalars(select(Customer)).all() == []


def test_migrations_match_the_models(store: Store) -> None:
    """Autogenerate finds nothing to do for our tables: the revision and the ORM agree."""
    assert migration_drift(store, MY_TABLES) == []


def test_session_commits_and_rolls_back(store: Store) -> None:
    with store.session() as s:
        s.add(_customer("c1"))

    def failing() -> None:
        with store.session() as s:
            s.add(_customer("c2"))
            s.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing()
    with store.session(readonly=True) as s:
        assert s.scalars(select(Customer.id)).all() == ["c1"]


def test_integrity_error_becomes_a_conflict_store_error(store: Store) -> None:
    with store.session() as s:
        s.add(_customer("c1"))
    with pytest.raises(StoreError) as info:
        _save(store, _customer("c1"))
    assert info.value.code == "conflict"


def test_foreign_keys_are_enforced(store: Store) -> None:
    row = EventRow(
        event_id="e1",
        customer_id="nobody",
        kind="usage",
        timestamp=datetime.now(UTC),
        payload={},
        ingested_at=datetime.now(UTC),
    )
    with pytest.raises(StoreError):
        _save(store, row)


def test_timestamps_come_back_aware_utc(store: Store) -> None:
    paris = timezone(timedelta(hours=2))
    with store.session() as s:
        c = _customer("c1")
        c.last_event_at = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=paris)
        s.add(c)
    with store.session(readonly=True) as s:
        got = s.get(Customer, "c1")
        assert got is not None
        assert got.last_event_at == datetime(2026, 5, 1, 10, 30, 15, 123456, tzinfo=UTC)
        assert got.last_event_at.tzinfo == UTC


def test_naive_datetimes_are_refused(store: Store) -> None:
    c = _customer("c1")
    c.last_event_at = datetime(2026, 5, 1, 12, 0)
    with pytest.raises(StoreError):
        _save(store, c)


def test_optimistic_concurrency_rejects_a_stale_writer(store: Store) -> None:
    """A row read before someone else saved it cannot be saved over their change."""
    with store.session() as s:
        s.add(_customer("c1"))
    with store.session(readonly=True) as s:
        stale = s.get(Customer, "c1")
    assert stale is not None
    assert stale.version == 1
    with store.session() as s:
        fresh = s.get(Customer, "c1")
        assert fresh is not None
        fresh.attributes = {"plan": "enterprise"}
    stale.attributes = {"plan": "basic"}
    with pytest.raises(StoreError) as info:
        _save(store, stale)
    assert info.value.code == "conflict"
    with store.session(readonly=True) as s:
        c = s.get(Customer, "c1")
        assert c is not None
        assert c.attributes == {"plan": "enterprise"}
        assert c.version == 2


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'tw.db'}")
    store.create_all()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    store.dispose()


def test_from_settings_uses_the_embedded_file(tmp_path: Path) -> None:
    store = Store.from_settings(Settings(home=tmp_path / "home"))
    assert store.dialect == "sqlite"
    store.create_all()
    assert (tmp_path / "home" / "tonewatch.db").exists()
    store.dispose()


def test_urls() -> None:
    assert normalize_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert "***" in Store("postgresql://u:secret@h/db").url
    with pytest.raises(ConfigurationError):
        normalize_url("mysql://h/db")
    with pytest.raises(ConfigurationError):
        normalize_url("not a url")


@pytest.mark.postgres
def test_unreachable_database_is_a_store_error() -> None:
    store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(StoreError):
        store.create_all()
    with pytest.raises(StoreError), store.session() as s:
        s.execute(select(1))
