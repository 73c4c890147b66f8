"""Webhooks against a real HTTP receiver on 127.0.0.1: signatures, retries, dead letters, restarts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from api_support import Api, free_port

from tonewatch.api import RetryPolicy, sign, verify_signature


class Receiver:
    """A webhook receiver: records every request; answers ``fail_with`` for the first ``failures``."""

    def __init__(self, port: int | None = None, *, failures: int = 0, fail_with: int = 500) -> None:
        self.port = port or free_port()
        self.failures = failures
        self.fail_with = fail_with
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    status = receiver.fail_with if receiver.failures > 0 else 204
                    receiver.failures -= 1
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[tuple[dict[str, str], bytes]]:
        with self._lock:
            return [(h, b) for h, b, status in self.requests if status < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def subscribe(api: Api, url: str, types: list[str] | None = None) -> dict[str, Any]:
    r = api.post("/v1/webhooks", json={"url": url, "event_types": types or []})
    assert r.status_code == 201, r.text
    sub: dict[str, Any] = r.json()
    return sub


def test_signed_delivery_verifies_and_replays_are_refused(api: Api, receiver: Receiver) -> None:
    sub = subscribe(api, receiver.url)
    assert sub["secret"].startswith("whsec_")
    assert "secret" not in api.get("/v1/webhooks").json()[0]
    r = api.post(f"/v1/webhooks/{sub['id']}/ping")
    assert r.status_code == 202, r.text

    headers, body = wait_for(lambda: receiver.delivered())[0]
    ts, signature = headers["x-tonewatch-timestamp"], headers["x-tonewatch-signature"]
    assert verify_signature(sub["secret"], body, ts, signature)
    assert not verify_signature(sub["secret"], body + b" ", ts, signature)  # body tampered
    assert not verify_signature("whsec_other", body, ts, signature)  # wrong secret
    assert not verify_signature(sub["secret"], body, ts, signature, now=int(ts) + 301)  # replayed later
    assert not verify_signature(sub["secret"], body, str(int(ts) + 1), signature)  # timestamp swapped
    envelope = json.loads(body)
    assert envelope["type"] == "ping"
    assert envelope["data"]["subscription_id"] == sub["id"]
    assert headers["x-tonewatch-event"] == "ping"
    assert signature == sign(sub["secret"], int(ts), body)

    delivery = wait_for(lambda: api.get("/v1/webhooks/deliveries?status=delivered").json())[0]
    assert delivery["attempts"] == 1
    assert delivery["last_status"] == 204


def test_retries_with_backoff_then_succeeds(make_api: Callable[..., Api]) -> None:
    receiver = Receiver(failures=2).start()
    try:
        api = make_api(
            webhook_policy=RetryPolicy(max_attempts=5, base_delay=0.2, max_delay=2, timeout=2, poll_interval=0.05)
        )
        sub = subscribe(api, receiver.url)
        api.post(f"/v1/webhooks/{sub['id']}/ping")
        wait_for(lambda: receiver.delivered(), timeout=15)
        times = [h for h, _, _ in receiver.requests]
        assert len(receiver.requests) == 3
        stamps = [int(h["x-tonewatch-timestamp"]) for h in times]
        assert stamps == sorted(stamps)
        delivery = wait_for(lambda: api.get("/v1/webhooks/deliveries?status=delivered").json())[0]
        assert delivery["attempts"] == 3
        ids = {json.loads(b)["id"] for _, b, _ in receiver.requests}
        assert len(ids) == 1  # the same envelope every time: receivers de-duplicate by id
    finally:
        receiver.stop()
    policy = RetryPolicy(base_delay=2.0, max_delay=60)
    delays = [policy.delay(n) for n in range(1, 8)]
    assert 2.0 <= delays[0] <= 2.5
    assert 4.0 <= delays[1] <= 5.0
    assert all(d <= 75.0 for d in delays)


def test_dead_letter_then_manual_redelivery(make_api: Callable[..., Api]) -> None:
    port = free_port()
    api = make_api()  # max_attempts=3, fast backoff
    sub = subscribe(api, f"http://127.0.0.1:{port}/hook")  # nothing listens there yet
    api.post(f"/v1/webhooks/{sub['id']}/ping")
    dead = wait_for(lambda: api.get("/v1/webhooks/deliveries?status=dead").json(), timeout=15)[0]
    assert dead["attempts"] == 3
    assert "ConnectError" in dead["last_error"]
    metrics = api.client.get("/metrics").text
    assert 'tonewatch_webhook_deliveries_total{outcome="dead"} 1.0' in metrics
    assert "tonewatch_webhook_failures_total 3.0" in metrics

    receiver = Receiver(port).start()
    try:
        assert api.post(f"/v1/webhooks/deliveries/{dead['id']}/redeliver", "lead").status_code == 403
        r = api.post(f"/v1/webhooks/deliveries/{dead['id']}/redeliver")
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "pending"
        wait_for(lambda: receiver.delivered())
        again = api.post(f"/v1/webhooks/deliveries/{dead['id']}/redeliver")  # delivered: may be sent again
        assert again.status_code == 202
        wait_for(lambda: len(receiver.delivered()) == 2)
        assert api.post("/v1/webhooks/deliveries/999999/redeliver").status_code == 404
        actions = [e["action"] for e in api.get("/v1/audit?action=webhook.redeliver").json()["entries"]]
        assert actions == ["webhook.redeliver", "webhook.redeliver"]
    finally:
        receiver.stop()


def test_a_down_receiver_loses_nothing_across_a_restart(make_api: Callable[..., Api]) -> None:
    port = free_port()
    slow = RetryPolicy(max_attempts=10, base_delay=0.3, max_delay=0.3, timeout=1, poll_interval=0.05)
    first = make_api(webhook_policy=slow)
    sub = subscribe(first, f"http://127.0.0.1:{port}/hook")
    for _ in range(3):
        first.post(f"/v1/webhooks/{sub['id']}/ping")
    wait_for(lambda: all(d["attempts"] >= 1 for d in first.get("/v1/webhooks/deliveries").json()))
    first.client.__exit__(None, None, None)  # the server stops while deliveries are pending

    receiver = Receiver(port).start()
    try:
        second = make_api(db_url=first.settings.database_url, webhook_policy=slow)
        wait_for(lambda: len(receiver.delivered()) == 3, timeout=15)
        statuses = {d["status"] for d in second.get("/v1/webhooks/deliveries").json()}
        assert statuses == {"delivered"}
    finally:
        receiver.stop()


def test_subscription_validation_and_removal(api: Api, receiver: Receiver) -> None:
    r = api.post("/v1/webhooks", json={"url": "ftp://example.org/x"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_url"
    r = api.post("/v1/webhooks", json={"url": receiver.url, "event_types": ["nope"]})
    assert r.status_code == 422
    sub = subscribe(api, receiver.url, ["flag"])
    assert api.delete(f"/v1/webhooks/{sub['id']}").status_code == 204
    assert api.delete(f"/v1/webhooks/{sub['id']}").status_code == 404
    assert api.post(f"/v1/webhooks/{sub['id']}/ping").status_code == 404


@pytest.mark.postgres
def test_on_postgresql_keys_outbox_and_redelivery(
    make_api: Callable[..., Api], postgres_url: str, receiver: Receiver
) -> None:
    api = make_api(db_url=postgres_url)
    assert api.services.store.dialect == "postgresql"
    assert api.get("/v1/customers", "agent").status_code == 200  # keys verified against PostgreSQL
    sub = subscribe(api, receiver.url)
    for _ in range(3):
        assert api.post(f"/v1/webhooks/{sub['id']}/ping").status_code == 202
    wait_for(lambda: len(receiver.delivered()) == 3)
    deliveries = wait_for(lambda: [d for d in api.get("/v1/webhooks/deliveries").json() if d["status"] == "delivered"])
    r = api.post(f"/v1/webhooks/deliveries/{deliveries[0]['id']}/redeliver")
    assert r.status_code == 202, r.text
    wait_for(lambda: len(receiver.delivered()) == 4)
    assert api.get("/v1/audit/verify").json()["ok"] is True
