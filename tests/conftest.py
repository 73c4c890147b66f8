"""Shared fixtures: real services on 127.0.0.1, skipped with a reason only when unreachable.

On CI (``CI=true``) an unreachable service is an error, not a skip: the production paths
must be exercised there.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _need(service: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    msg = f"{service} is not reachable on {host}:{port}"
    if ON_CI:
        pytest.fail(msg + " (CI must run the production-path tests)")
    pytest.skip(msg)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty schema in the `test` database; dropped afterwards."""
    _need("PostgreSQL", "127.0.0.1", 5432)
    import sqlalchemy as sa

    base = os.environ.get("TONEWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def redis_url() -> str:
    _need("Redis", "127.0.0.1", 6379)
    return os.environ.get("TONEWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def nats_url() -> str:
    _need("NATS JetStream", "127.0.0.1", 4222)
    return os.environ.get("TONEWATCH_TEST_NATS", "nats://127.0.0.1:4222")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A migrated store on SQLite (a file under tmp_path) and on the real PostgreSQL: tests run on both."""
    from tonewatch.store import Store

    url = f"sqlite:///{tmp_path / 'tw.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    s = Store(url)
    s.create_all()
    yield s
    s.dispose()
