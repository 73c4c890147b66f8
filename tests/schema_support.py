"""One check for every migration test: what Alembic's autogenerate would still change for some tables."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from tonewatch.store import Store, load_all_tables


def _table_of(op: Any, tables: Collection[str]) -> str | None:
    """The table an autogenerate diff entry is about (entries are tuples or lists of tuples), if one of ``tables``."""
    item = op[0] if isinstance(op, list) else op
    for part in item if isinstance(item, tuple) else (item,):
        if isinstance(part, str) and part in tables:
            return part
        table = getattr(part, "table", None)
        name = getattr(table if table is not None else part, "name", None)
        if name in tables:
            return str(name)
    return None


def migration_drift(store: Store, tables: Collection[str]) -> list[Any]:
    """Autogenerate's differences between the migrated database and the ORM models that touch ``tables``.

    Empty when the revisions create exactly what the models declare.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    metadata = load_all_tables()
    assert set(metadata.tables) >= set(tables), sorted(set(tables) - set(metadata.tables))
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    return [op for op in diff if _table_of(op, tables) is not None]
