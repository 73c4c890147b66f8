"""Helpers for the HTTP API tests: the :class:`Api` handle and a live uvicorn server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from live_server import LiveServer, free_port  # noqa: F401 - re-exported for the tests

from tonewatch.api import RetryPolicy
from tonewatch.api._services import Services
from tonewatch.settings import Settings

ROLES = ("agent", "lead", "qa", "analyst", "admin")
FAST_WEBHOOKS = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, timeout=2.0, poll_interval=0.05)


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    def headers(self, role: str = "admin", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **extra}

    def get(self, url: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers(role, **kw.pop("headers", {})), **kw)

    def post(self, url: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.post(url, headers=self.headers(role, **kw.pop("headers", {})), **kw)

    def put(self, url: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.put(url, headers=self.headers(role, **kw.pop("headers", {})), **kw)

    def delete(self, url: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.delete(url, headers=self.headers(role, **kw.pop("headers", {})), **kw)

    def ingest(self, *events: dict[str, Any], role: str = "admin") -> dict[str, Any]:
        r = self.post("/v1/events", role, json={"events": list(events)})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def settings_for(tmp_path: Path, db_url: str | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": tmp_path / "home",
        "db_url": db_url or f"sqlite:///{tmp_path / 'api.db'}",
        "visibility_policy": "full",
    }
    values.update(overrides)
    return Settings(**values)
