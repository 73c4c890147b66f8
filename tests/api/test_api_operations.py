"""healthz, readyz, Prometheus metrics, JSON logs with request ids, tracing behind its extra."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_support import Api, free_port

from tonewatch._errors import MissingExtraError
from tonewatch.api import create_app
from tonewatch.api._logging import JsonFormatter
from tonewatch.settings import Settings


def test_healthz_and_readyz(api: Api) -> None:
    assert api.client.get("/healthz").json()["status"] == "ok"
    r = api.client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["model"]["ok"] is True


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings = Settings(db_url=f"sqlite:///{blocker}/sub/db.sqlite", home=tmp_path)
    with TestClient(create_app(settings, warm_up=False), raise_server_exceptions=False) as client:
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["database"]["ok"] is False
        assert client.get("/healthz").status_code == 200


def test_metrics_expose_latency_per_route_and_model_distributions(api: Api) -> None:
    for text in ("Thanks, great job!", "This is broken again and I am angry."):
        assert api.post("/v1/classify-sentiment", json={"text": text}).status_code == 200
    api.post("/v1/classify-sentiment", json={"texts": ["ok then", "whatever"]})
    api.post("/v1/classify-sentiment", json={"text": ""})
    text = api.client.get("/metrics").text
    route = 'method="POST",route="/v1/classify-sentiment"'
    assert f'tonewatch_http_request_duration_seconds_bucket{{le="0.05",{route}}}' in text
    assert f'tonewatch_http_requests_total{{{route},status="200"}} 3.0' in text
    assert f'tonewatch_http_requests_total{{{route},status="422"}} 1.0' in text
    assert "tonewatch_texts_scored_total 4.0" in text
    assert 'tonewatch_inference_duration_seconds_count{kind="single"} 2.0' in text
    assert 'tonewatch_inference_duration_seconds_count{kind="batch"} 1.0' in text
    assert "tonewatch_analysis_confidence_count 4.0" in text
    assert "tonewatch_analysis_labels_total{label=" in text
    assert "tonewatch_analysis_emotions_total{emotion=" in text
    assert "tonewatch_analysis_needs_review_total" in text
    assert 'tonewatch_model_info{version="' in text


def test_json_log_line_per_request_with_the_request_id(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tonewatch.api"):
        api.get("/v1/customers", headers={"X-Request-ID": "req-42"})
    records = [r for r in caplog.records if r.getMessage() == "request" and getattr(r, "path", "") == "/v1/customers"]
    assert records
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["status"] == 200
    assert line["route"] == "/v1/customers"
    assert line["role"] == "admin"
    assert line["msg"] == "request"
    assert isinstance(line["duration_ms"], float)


def test_tracing_needs_the_otel_extra(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        with pytest.raises(MissingExtraError) as err:
            create_app(settings, tracing=True)
        assert err.value.extra == "otel"
    else:  # pragma: no cover - with the extra installed
        assert create_app(settings, tracing=True).title == "tonewatch"
    assert create_app(settings).title == "tonewatch"


@pytest.mark.slow
def test_tonewatch_serve_runs_the_api(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'served.db'}"
    port = free_port()
    env = {**os.environ, "TONEWATCH_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("tonewatch")), "serve", "--port", str(port), "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        r = httpx.post(f"http://127.0.0.1:{port}/v1/classify-sentiment", json={"text": "hi"})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "missing_api_key"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    lines = [json.loads(x) for x in err.decode().splitlines() if x.startswith("{")]
    assert any(x.get("msg") == "request" and x.get("status") == 401 and x.get("request_id") for x in lines)
