"""The proactive-support migration creates exactly the tables the models declare, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tonewatch.store import Store, load_all_tables

MINE = {
    "trigger_firings",
    "customer_tags",
    "customer_queue_priority",
    "dashboard_alerts",
    "outbox",
    "review_items",
    "outcome_links",
}


def _tables(entry: object) -> set[str]:
    text = repr(entry)
    return {t for t in MINE if f"'{t}'" in text or f"table_name='{t}'" in text or f"Table('{t}'" in text}


def test_migrations_match_the_proactive_models(store: Store) -> None:
    metadata = load_all_tables()
    assert set(metadata.tables) >= MINE
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if _tables(d)] == []
    assert "proactive_0001" in store.current_revisions()
