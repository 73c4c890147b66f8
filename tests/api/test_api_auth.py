"""Keys (created once, hashed at rest, revocable), roles (403), and the production secret rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from api_support import Api
from sqlalchemy import select, text
from typer.testing import CliRunner

from tonewatch._errors import ConfigurationError
from tonewatch.api import create_app
from tonewatch.api._models import ApiKeyRow
from tonewatch.cli._serve import register
from tonewatch.settings import Settings


def test_keys_create_prints_a_working_key_once_and_stores_only_a_hash(make_api: Callable[..., Api]) -> None:
    api = make_api()
    app = typer.Typer()
    register(app)
    db = api.settings.database_url
    runner = CliRunner()
    result = runner.invoke(app, ["keys", "create", "--role", "lead", "--name", "ops", "--db", db])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[0]
    assert key.startswith("tw_")
    r = api.client.get("/v1/customers", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text

    with api.services.store.session(readonly=True) as session:
        rows = session.scalars(select(ApiKeyRow)).all()
        dump = " ".join(str(v) for (v,) in session.execute(text("SELECT key_hash || salt || id FROM api_keys")))
    assert key not in dump
    assert key.split("_", 2)[2] not in dump
    assert {r.role for r in rows} == {"agent", "lead", "qa", "analyst", "admin"}

    listed = runner.invoke(app, ["keys", "list", "--db", db])
    assert key.split("_")[1] in listed.stdout
    assert key not in listed.stdout

    bad = runner.invoke(app, ["keys", "create", "--role", "boss", "--db", db])
    assert bad.exit_code == 2
    assert "unknown role" in bad.output

    revoke = runner.invoke(app, ["keys", "revoke", key.split("_")[1], "--db", db])
    assert revoke.exit_code == 0, revoke.output
    api.services.forget_key(key.split("_")[1])  # the CLI ran in another "process": drop this one's cache
    r = api.client.get("/v1/customers", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401


def test_a_tampered_key_is_refused(api: Api) -> None:
    key = api.keys["admin"]
    forged = key[:-3] + ("aaa" if not key.endswith("aaa") else "bbb")
    r = api.client.get("/v1/customers", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


def test_keys_over_http_are_admin_only_and_revocation_is_immediate(api: Api) -> None:
    assert api.post("/v1/keys", "lead", json={"role": "agent"}).status_code == 403
    r = api.post("/v1/keys", json={"role": "agent", "name": "bot"})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["key"].startswith("tw_")
    headers = {"Authorization": f"Bearer {new['key']}"}
    assert api.client.post("/v1/classify-sentiment", json={"text": "fine"}, headers=headers).status_code == 200
    listed = api.get("/v1/keys").json()
    assert all("key" not in k for k in listed)
    assert api.delete(f"/v1/keys/{new['id']}").json()["revoked_at"] is not None
    assert api.client.post("/v1/classify-sentiment", json={"text": "fine"}, headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("method", "url", "body", "denied", "allowed"),
    [
        ("put", "/v1/rules", {"yaml": "rules: []"}, ["agent", "lead", "qa", "analyst"], "admin"),
        ("get", "/v1/rules", None, ["agent"], "analyst"),
        ("get", "/v1/feedback", None, ["agent", "lead", "qa", "analyst"], "admin"),
        ("get", "/v1/audit", None, ["agent", "analyst"], "qa"),
        ("post", "/v1/webhooks", {"url": "http://127.0.0.1:9/x"}, ["agent", "lead", "qa", "analyst"], "admin"),
        ("post", "/v1/events", {"events": []}, ["qa", "analyst"], "lead"),
        ("get", "/v1/aggregates/sentiment", None, ["agent"], "analyst"),
    ],
)
def test_roles_without_the_right_get_403(
    api: Api, method: str, url: str, body: object, denied: list[str], allowed: str
) -> None:
    for role in denied:
        kw = {} if body is None else {"json": body}
        r = getattr(api, method)(url, role, **kw)
        assert r.status_code == 403, (role, r.text)
        assert r.json()["error"]["code"] == "forbidden"
    kw = {} if body is None else {"json": body}
    r = getattr(api, method)(url, allowed, **kw)
    assert r.status_code not in (401, 403), r.text


def test_default_secret_is_refused_outside_development(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as err:
        create_app(Settings(environment="production", home=tmp_path))
    assert err.value.field == "secret_key"
    app_ = create_app(Settings(environment="production", secret_key="a-real-secret-" + "x" * 20, home=tmp_path))
    assert app_.title == "tonewatch"
