"""Pipeline fixtures: a migrated store on both backends and the real bundled analyzer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tonewatch.ingest import Pipeline
from tonewatch.settings import Settings
from tonewatch.store import Store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'tw-sqlite.db'}")
    s.create_all()
    yield s
    s.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture(scope="session")
def analyzer() -> Any:
    from tonewatch.score import get_analyzer

    return get_analyzer(Settings())


@pytest.fixture
def make_pipeline(settings: Settings, analyzer: Any) -> Callable[..., Pipeline]:
    def make(store: Store, **kwargs: Any) -> Pipeline:
        kwargs.setdefault("settings", settings)
        return Pipeline(store, analyzer, **kwargs)

    return make
