"""The model registry through a running API: hot switching, /v1/models and shadow comparisons.

Promotions are made the way an operator makes them (``tonewatch model ...`` against the same
database) while the app keeps serving; nothing is restarted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from api_support import Api
from sqlalchemy import select
from typer.testing import CliRunner

from tonewatch.cli import _model
from tonewatch.score import BUNDLED_MODEL_DIR, get_analyzer
from tonewatch.settings import Settings
from tonewatch.store import Message

BUILTIN_VERSION = get_analyzer(Settings(_env_file=None)).model_version  # type: ignore[call-arg]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def model_folder(where: Path, version: str, temperature: float) -> Path:
    """The bundled model's files (hard-linked) with another version and calibration temperature."""
    where.mkdir(parents=True)
    manifest = json.loads((BUNDLED_MODEL_DIR / "manifest.json").read_text(encoding="utf-8"))
    for name in manifest["files"]:
        os.link(BUNDLED_MODEL_DIR / name, where / name)
    manifest["version"] = version
    manifest["calibration"]["temperature"] = temperature
    (where / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return where


def operator(api: Api) -> Callable[..., Any]:
    """``tonewatch model ...`` against the app's database and registry."""
    app = typer.Typer()
    _model.register(app)
    env = {
        "TONEWATCH_HOME": str(api.settings.home),
        "TONEWATCH_DB_URL": api.settings.database_url,
        "TONEWATCH_MODEL_REGISTRY": str(api.settings.registry_dir),
        "TONEWATCH_SHADOW_MIN_COMPARISONS": str(api.settings.shadow_min_comparisons),
        "COLUMNS": "200",
    }

    def run(*args: str) -> Any:
        result = CliRunner().invoke(app, ["model", *args], env=env)
        assert result.exit_code == 0, result.output
        return result

    return run


def classify(api: Api, text: str = "Thanks, that fixed it!") -> str:
    r = api.post("/v1/classify-sentiment", json={"text": text})
    assert r.status_code == 200, r.text
    version: str = r.json()["model_version"]
    return version


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest, make_api: Callable[..., Api], tmp_path: Path) -> Api:
    db_url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    return make_api(
        db_url=db_url,
        model_registry=tmp_path / "models",
        model_refresh_seconds=0.2,
        shadow_min_comparisons=3,
    )


def test_promotion_switches_a_running_api_and_rollback_brings_it_back(live: Api, tmp_path: Path) -> None:
    run = operator(live)
    run("import", str(model_folder(tmp_path / "src", "2.0.0", temperature=2.0)), "--actor", "ops:dana")
    assert classify(live) == BUILTIN_VERSION

    run("promote", "2.0.0", "--force", "--actor", "ops:dana", "--why", "test")
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while classify(live) != "2.0.0":  # within the refresh interval (0.2 s here)
        assert datetime.now(UTC) < deadline, "the API never switched"
    batch = live.post("/v1/classify-sentiment", json={"texts": ["fine", "awful service"]}).json()
    assert batch["model_version"] == "2.0.0"
    assert {r["model_version"] for r in batch["results"]} == {"2.0.0"}
    assert live.services.serving is not None
    assert live.services.serving.active_name == "2.0.0"
    ready = live.client.get("/readyz").json()
    assert ready["checks"]["model"]["detail"] == "2.0.0"
    metrics = live.client.get("/metrics").text
    assert 'tonewatch_model_info{version="2.0.0"} 1.0' in metrics
    assert f'tonewatch_model_info{{version="{BUILTIN_VERSION}"}} 0.0' in metrics

    run("rollback", "--actor", "ops:dana", "--why", "test")
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while classify(live) != BUILTIN_VERSION:
        assert datetime.now(UTC) < deadline, "the API never rolled back"


def test_models_endpoints_are_admin_only_and_list_the_registry(live: Api, tmp_path: Path) -> None:
    run = operator(live)
    run("import", str(model_folder(tmp_path / "src", "2.0.0", temperature=1.5)))
    for role in ("agent", "lead", "qa", "analyst"):
        assert live.get("/v1/models", role).status_code == 403
        assert live.get("/v1/models/2.0.0/shadow", role).status_code == 403
    assert live.client.get("/v1/models").status_code == 401

    body = live.get("/v1/models").json()
    models = {m["version"]: m for m in body["models"]}
    assert body["active"] == "builtin"
    assert body["shadow"] is None
    assert body["min_comparisons"] == 3
    assert models["builtin"]["marks"] == ["active"]
    assert models["builtin"]["model_version"] == BUILTIN_VERSION
    assert models["2.0.0"]["marks"] == ["candidate"]
    assert models["2.0.0"]["comparisons"] == 0
    assert models["2.0.0"]["metrics"]["languages"]["german"]["metric"] == "macro_f1"

    r = live.get("/v1/models/9.9.9/shadow")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert live.get("/v1/models/..bad/shadow").status_code == 422


def test_shadow_results_of_live_ingestion_are_compared_over_http(live: Api, tmp_path: Path) -> None:
    run = operator(live)
    run("import", str(model_folder(tmp_path / "src", "2.0.0", temperature=3.0)))
    run("shadow", "2.0.0", "--actor", "ops:dana", "--why", "try it")
    texts = ["Nobody answers my emails, I am cancelling.", "Thank you, all sorted!", "How do I export data?", "meh"]
    events = [
        {
            "kind": "message",
            "event_id": f"e{i}",
            "customer_id": f"c{i}",
            "timestamp": (T0 + timedelta(minutes=i)).isoformat(),
            "channel": "chat",
            "text": t,
        }
        for i, t in enumerate(texts)
    ]
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while live.get("/v1/models").json()["shadow"] != "2.0.0":  # the pointer is read from the database
        assert datetime.now(UTC) < deadline
    serving = live.services.serving
    assert serving is not None
    serving.refresh()
    assert live.ingest(*events)["accepted"] == len(texts)
    assert serving.shadow.flush(60)

    cmp = live.get("/v1/models/2.0.0/shadow").json()
    assert cmp["n"] == len(texts)
    assert cmp["version"] == "2.0.0"
    assert cmp["active_version"] == BUILTIN_VERSION
    assert 0 <= cmp["agreement"] <= 1
    assert cmp["mean_abs_score_diff"] > 0
    assert sum(map(sum, cmp["confusion"]["matrix"])) == len(texts)
    assert cmp["queue"]["written"] == len(texts)
    assert cmp["queue"]["dropped"] == 0
    with live.services.store.session(readonly=True) as s:  # stored analyses are the live version's
        assert set(s.scalars(select(Message.model_version))) == {BUILTIN_VERSION}
    models = {m["version"]: m for m in live.get("/v1/models").json()["models"]}
    assert models["2.0.0"]["marks"] == ["shadow"]
    assert models["2.0.0"]["comparisons"] == len(texts)

    # enough comparisons (3 needed): promotion without --force
    out = run("promote", "2.0.0", "--actor", "ops:dana", "--why", "shadow looks good").output
    assert "(forced)" not in out
    assert "2.0.0 is now active" in out
    compare = run("compare", "2.0.0", "--format", "json").output
    assert '"active_version": "2.0.0"' in compare  # now compared against itself: nothing recorded
