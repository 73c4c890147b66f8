"""Stream fixtures: the real analyzer, a store, and unique Redis/NATS streams removed afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streams_support import unique

from tonewatch.settings import Settings
from tonewatch.store import Store


@pytest.fixture(scope="session")
def analyzer() -> Any:
    from tonewatch.score import get_analyzer

    a = get_analyzer(Settings(threads=1))
    a.analyze("warm-up")
    return a


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", threads=1)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'streams.db'}")
    s.create_all()
    yield s
    s.dispose()


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[Store]:
    s = Store(postgres_url)
    s.create_all()
    yield s
    s.dispose()


@pytest.fixture
def redis_sync(redis_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def redis_stream(redis_sync: Any) -> Iterator[str]:
    """A fresh stream name; the stream and everything named after it are deleted afterwards."""
    name = unique("tw-test")
    yield name
    keys = list(redis_sync.scan_iter(match=f"{name}*"))
    if keys:
        redis_sync.delete(*keys)


@pytest.fixture
def nats_stream(nats_url: str) -> Iterator[str]:
    """A fresh JetStream stream name; the stream is deleted afterwards."""
    name = unique("twtest").replace("-", "_")
    yield name

    async def drop() -> None:
        import nats
        from nats.js.errors import NotFoundError

        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_stream(name)
        except NotFoundError:
            pass
        finally:
            await nc.close()

    asyncio.run(drop())
