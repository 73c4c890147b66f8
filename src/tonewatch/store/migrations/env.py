"""Alembic environment for tonewatch.

Run programmatically by ``Store.create_all()`` (the connection is passed in
``config.attributes["connection"]``), or from the command line for developers:

    alembic -c src/tonewatch/store/migrations/alembic.ini revision --autogenerate -m "review tables"

which compares the models against a scratch database at ``TONEWATCH_DB_URL`` (default
``sqlite:///.tonewatch/migrations-dev.db``) upgraded to the current head.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from tonewatch.store._base import Base
from tonewatch.store._store import normalize_url
from tonewatch.store._tables import load_all_tables

config = context.config
# Only autogenerate needs every stage's models; applying migrations (Store.create_all, which
# passes a connection) must not depend on importing them.
target_metadata = Base.metadata if config.attributes.get("connection") is not None else load_all_tables()

# Any constant works; it only has to be the same for every tonewatch process.
_ADVISORY_LOCK = 7_305_511_201


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("TONEWATCH_DB_URL") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(normalize_url(url or "sqlite:///.tonewatch/migrations-dev.db"))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("tonewatch migrations run online only (they need the dialect of the target database)")
run_migrations_online()
