"""The database handle: one engine, transactional sessions, migrations.

SQLite (the embedded default) is tuned for a single-file server: WAL so readers never block
the writer, foreign keys on, a busy timeout instead of instant "database is locked", full
fsync at commit so a committed audit entry survives a crash, and write sessions that take
the write lock up front (``BEGIN IMMEDIATE``) so read-then-write never deadlocks. PostgreSQL
is used through psycopg 3. Every database failure surfaces as :class:`StoreError`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool

from tonewatch._errors import ConfigurationError, StoreError

if TYPE_CHECKING:
    from tonewatch.settings import Settings

__all__ = ["Store", "normalize_url", "store_error"]

_BUSY_TIMEOUT_MS = 30_000
_MIGRATIONS = Path(__file__).with_name("migrations")


def normalize_url(url: str) -> URL:
    """Parse ``url``; a bare ``postgresql://`` means psycopg 3 (the driver we ship)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(f"not a database URL: {url!r}", field="db_url") from None
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:///FILE or postgresql+psycopg://...",
            field="db_url",
        )
    return parsed


def store_error(exc: BaseException, doing: str) -> StoreError:
    """Translate a driver/ORM failure into the one error callers catch."""
    if isinstance(exc, StaleDataError):
        err = StoreError(f"{doing}: the row was changed by another writer; retry", code="conflict")
    elif isinstance(exc, IntegrityError):
        detail = str(exc.orig or exc).strip().splitlines()[0][:300]
        err = StoreError(f"{doing}: {detail}", code="conflict")
    else:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        err = StoreError(f"{doing}: {detail}")
    err.__cause__ = exc
    return err


class Store:
    """Owns the engine; hands out sessions that commit on success and roll back on error."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5) -> None:
        self._url = normalize_url(url)
        self._echo = echo
        self._pool_size = pool_size
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.database_url)

    @property
    def url(self) -> str:
        """The URL with any password hidden (safe to print)."""
        return self._url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._url.get_backend_name()

    @property
    def engine(self) -> Engine:
        """The engine, created on first use (nothing connects at construction)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> Engine:
        if self.dialect == "sqlite":
            return self._sqlite_engine()
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:  # pragma: no cover - psycopg is installed with the postgres extra
            from tonewatch._errors import MissingExtraError

            raise MissingExtraError("postgres", "psycopg", "a PostgreSQL store") from exc
        return create_engine(self._url, echo=self._echo, pool_size=self._pool_size, pool_pre_ping=True, future=True)

    def _sqlite_engine(self) -> Engine:
        database = self._url.database or ""
        memory = database in {"", ":memory:"} or database.startswith("file::memory:")
        if not memory:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"echo": self._echo}
        if memory:
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            kwargs.update(connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000})
        engine = create_engine(self._url, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from pysqlite so BEGIN is emitted by us (below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            readonly = conn.get_execution_options().get("tonewatch_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A unit of work: commits when the block ends, rolls back if it raises.

        Database failures become :class:`StoreError`; any other exception (a hook's, an
        input error) propagates unchanged after the rollback. ``readonly`` sessions never
        take SQLite's write lock, so long reports do not block ingestion.
        """
        bind: Engine = self.engine.execution_options(tonewatch_readonly=True) if readonly else self.engine
        session = Session(bind=bind, expire_on_commit=False, autoflush=False)
        try:
            yield session
            if not readonly:
                session.commit()
            # A read-only session just closes: its transaction ends without expiring the
            # objects read, so they stay usable (detached) after the block.
        except (SQLAlchemyError, StaleDataError) as exc:
            session.rollback()
            raise store_error(exc, "database operation failed") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def create_all(self) -> None:
        """Bring the schema to the newest revision by running the Alembic migrations.

        Safe to call at every start-up and from several processes at once (PostgreSQL
        migrations run under an advisory lock; SQLite's write lock serialises them).
        """
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
        except SQLAlchemyError as exc:
            raise store_error(exc, "migrating the database") from exc

    @staticmethod
    def head_revisions() -> set[str]:
        """The newest revision of every migration branch shipped with this version."""
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        return set(ScriptDirectory.from_config(cfg).get_heads())

    def current_revisions(self) -> set[str]:
        """The Alembic revisions the database is at (empty before :meth:`create_all`)."""
        from alembic.migration import MigrationContext

        try:
            with self.engine.connect() as conn:
                return set(MigrationContext.configure(conn).get_current_heads())
        except SQLAlchemyError as exc:
            raise store_error(exc, "reading the schema revision") from exc

    def dispose(self) -> None:
        """Close every pooled connection (tests, CLI exit)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"
