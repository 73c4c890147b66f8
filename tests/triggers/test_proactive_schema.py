"""The proactive-support migration creates exactly the tables the models declare, on both backends."""

from __future__ import annotations

from schema_support import migration_drift

from tonewatch.store import Store

MINE = {
    "trigger_firings",
    "customer_tags",
    "customer_queue_priority",
    "dashboard_alerts",
    "outbox",
    "review_items",
    "outcome_links",
}


def test_migrations_match_the_proactive_models(store: Store) -> None:
    assert migration_drift(store, MINE) == []
    assert "proactive_0001" in store.current_revisions()
