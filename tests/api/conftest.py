"""Fixtures for the HTTP API: a real app on a real database with the real analyzer.

``make_api(**settings)`` builds an app on a fresh SQLite file (or on a PostgreSQL URL) and
returns an :class:`~api_support.Api` holding a TestClient, the app's services and one key per
role. The analyzer is shared across tests (``get_analyzer`` keeps one per configuration), so
the model loads once per test session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import FAST_WEBHOOKS, ROLES, Api, settings_for
from fastapi.testclient import TestClient

from tonewatch.api import RetryPolicy, create_app, create_key


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    made: list[Api] = []

    def factory(*, db_url: str | None = None, webhook_policy: RetryPolicy | None = None, **overrides: Any) -> Api:
        settings = settings_for(tmp_path / f"app{len(made)}", db_url, **overrides)
        app = create_app(settings, webhook_policy=webhook_policy or FAST_WEBHOOKS)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        api = Api(app, client, settings)
        with api.services.store.session() as session:
            for role in ROLES:
                api.keys[role] = create_key(session, role, name=f"test {role}").key
        made.append(api)
        return api

    yield factory
    for api in made:
        api.client.__exit__(None, None, None)
        api.services.store.dispose()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """An app with the `full` visibility policy."""
    return make_api()
