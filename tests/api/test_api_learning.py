"""``GET /v1/feedback/disagreements``, ``GET /v1/drift``, drift metrics and the ``drift.alert`` webhook.

A real app on a real SQLite store; labelled messages and drift reports are written through the
library (what ``tonewatch label`` and ``tonewatch drift report`` do), then read over HTTP.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from api_support import Api, free_port
from learn_fixtures import NOW, add_message, days

from tonewatch.api import verify_signature
from tonewatch.learn import compute_drift, record_drift, record_label
from tonewatch.store import Ticket


def _seed_labels(api: Api) -> None:
    with api.services.store.session() as s:
        s.add(Ticket(ticket_id="T-open", customer_id="c1", status="open", opened_at=NOW, updated_at=NOW))
        add_message(s, "split", "Great, another outage.", label="positive", confidence=0.6, ticket="T-open", score=0.4)
        s.add(Ticket(ticket_id="T-done", customer_id="c2", status="resolved", opened_at=NOW, updated_at=NOW))
        add_message(s, "over", "Invoice wrong again.", customer="c2", label="neutral", confidence=0.5, ticket="T-done")
        add_message(s, "agreed", "Thanks!", customer="c3", label="positive", confidence=0.97)
        record_label(s, "split", label="negative", actor="ana", why="sarcasm", now=NOW)
        record_label(s, "split", label="positive", actor="ben", now=NOW + days(0.1))
        record_label(s, "over", label="negative", actor="ana", now=NOW)
        record_label(s, "over", label="negative", actor="ben", now=NOW)
        record_label(s, "agreed", label="positive", actor="ana", now=NOW)


def _seed_drift(api: Api) -> int:
    with api.services.store.session() as s:
        for i in range(60):
            reference = NOW - days(10 + i * 0.2)
            add_message(s, f"ref-{i}", "Thanks, all fine.", when=reference, customer=f"r{i % 5}", label="positive")
            current = NOW - days(i * 0.05)
            add_message(
                s, f"cur-{i}", "The zorbix broke.", when=current, customer=f"k{i % 5}", label="negative", confidence=0.4
            )
    with api.services.store.session(readonly=True) as s:
        report = compute_drift(s, api.settings, fragmentation=False)
    with api.services.store.session() as s:
        return record_drift(s, report, actor="cron").id


def test_disagreements_are_admin_only_labelled_data(api: Api) -> None:
    _seed_labels(api)
    r = api.get("/v1/feedback/disagreements")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(i["event_id"], i["kind"]) for i in body["items"]] == [("split", "reviewers"), ("over", "model")]
    split = body["items"][0]
    assert (split["model_label"], split["gold"], split["redacted"]) == ("positive", None, None)
    assert [(v["actor"], v["label"], v["why"]) for v in split["votes"]] == [
        ("ana", "negative", "sarcasm"),
        ("ben", "positive", None),
    ]
    assert split["text"] == "Great, another outage."
    agreement = body["agreement"]
    assert (agreement["labelled"], agreement["reviewer_pairs"], agreement["reviewer_agreement"]) == (3, 2, 0.5)
    assert (agreement["gold"], agreement["model_agreement"], agreement["ties"]) == (2, 0.5, 1)
    only = api.get("/v1/feedback/disagreements?kind=model&limit=1").json()
    assert [i["event_id"] for i in only["items"]] == ["over"]
    assert api.get("/v1/feedback/disagreements?since=2027-01-01T00:00:00Z").json()["items"] == []
    for role in ("agent", "lead", "qa", "analyst"):
        denied = api.get("/v1/feedback/disagreements", role)
        assert denied.status_code == 403, role
        assert denied.json()["error"]["code"] == "forbidden"
    assert api.get("/v1/feedback/disagreements?kind=everyone").status_code == 422
    assert api.get("/v1/feedback/disagreements?limit=0").status_code == 422
    for since in ("0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-14:00"):  # no such instant in UTC
        r = api.get(f"/v1/feedback/disagreements?since={since}")
        assert r.status_code == 422
        assert r.json()["error"] == {
            "code": "invalid_timestamp",
            "message": "since is outside the supported range",
            "field": "since",
        }


@pytest.mark.parametrize(
    ("policy", "split_hidden", "over_hidden"),
    [("aggregate", "aggregate", "aggregate"), ("post_conversation", "post_conversation", None)],
)
def test_the_models_reading_in_disagreements_follows_the_visibility_policy(
    make_api: Callable[..., Api], policy: str, split_hidden: str | None, over_hidden: str | None
) -> None:
    api = make_api(visibility_policy=policy)
    _seed_labels(api)
    items = {i["event_id"]: i for i in api.get("/v1/feedback/disagreements").json()["items"]}
    assert items["split"]["redacted"] == split_hidden  # its ticket is still open
    assert items["split"]["model_label"] is None
    assert items["split"]["model_confidence"] is None
    assert items["over"]["redacted"] == over_hidden  # resolved: the conversation is over
    assert (items["over"]["model_label"] is None) == (over_hidden is not None)
    assert [v["label"] for v in items["split"]["votes"]] == ["negative", "positive"]  # the labelled data itself


def test_latest_drift_report_and_its_metrics(api: Api) -> None:
    missing = api.get("/v1/drift", "analyst")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    report_id = _seed_drift(api)
    r = api.get("/v1/drift", "analyst")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == report_id
    assert {a["measure"] for a in body["alerts"]} >= {"score_psi", "label_psi", "low_confidence_rise"}
    assert body["current"]["messages"] == 60
    assert "zorbix" in {t["term"] for t in body["new_terms"]}
    assert api.get("/v1/drift", "agent").status_code == 403
    metrics = api.client.get("/metrics").text
    assert 'tonewatch_drift_alert{measure="score_psi"} 1.0' in metrics
    assert 'tonewatch_drift_window_messages{window="reference"} 60.0' in metrics
    assert "tonewatch_drift_report_age_seconds" in metrics


class _Receiver:
    """Records POSTed webhooks on 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"expected {n} webhook deliveries, got {len(self.requests)}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_drift_alert_reaches_a_subscribed_receiver_signed(api: Api) -> None:
    receiver = _Receiver()
    try:
        r = api.post(
            "/v1/webhooks", json={"url": f"http://127.0.0.1:{receiver.port}/hook", "event_types": ["drift.alert"]}
        )
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        report_id = _seed_drift(api)
        api.services.webhooks.wake()
        ((headers, body),) = receiver.wait(1)
    finally:
        receiver.stop()
    assert headers["x-tonewatch-event"] == "drift.alert"
    assert verify_signature(secret, body, headers["x-tonewatch-timestamp"], headers["x-tonewatch-signature"])
    payload = json.loads(body)
    assert payload["type"] == "drift.alert"
    assert payload["data"]["report"] == report_id
    assert "score_psi" in {a["measure"] for a in payload["data"]["raised"]}
