"""Server-Sent Events over a real socket: live analyses, per-subscriber redaction, filters."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from api_support import Api, LiveServer


class SseReader(threading.Thread):
    """Reads an SSE stream until it closes; keeps every `event:`/`data:` frame."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.key = key
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.connected = threading.Event()
        self.status = 0

    def run(self) -> None:
        with (
            httpx.Client(timeout=30) as client,
            client.stream("GET", self.url, headers={"Authorization": f"Bearer {self.key}"}) as r,
        ):
            self.status = r.status_code
            event = "message"
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    self.events.append((event, json.loads(line.removeprefix("data: "))))
        self.connected.set()


def message(event_id: str, customer: str, text: str) -> dict[str, Any]:
    return {
        "kind": "message",
        "event_id": event_id,
        "customer_id": customer,
        "channel": "chat",
        "text": text,
        "timestamp": datetime(2026, 11, 2, 9, tzinfo=UTC).isoformat(),
    }


def test_stream_carries_live_analyses_redacted_per_subscriber(make_api: Callable[..., Api]) -> None:
    api = make_api(visibility_policy="supervisor")
    with LiveServer(api.app) as server:
        base = f"{server.url}/v1/stream-sentiment?types=analysis&limit=1&heartbeat=0.2"
        agent = SseReader(base, api.keys["agent"])
        lead = SseReader(base, api.keys["lead"])
        only_c2 = SseReader(f"{base}&customer_id=c2", api.keys["lead"])
        for reader in (agent, lead, only_c2):
            reader.start()
            assert reader.connected.wait(10)
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {api.keys['admin']}"}) as c:
            r = c.post("/v1/events", json={"events": [message("m1", "c1", "Still broken. I am so fed up with this.")]})
            assert r.status_code == 200, r.text
            r = c.post("/v1/events", json={"events": [message("m2", "c2", "Thanks, that worked perfectly!")]})
            assert r.status_code == 200, r.text
        for reader in (agent, lead, only_c2):
            reader.join(15)
            assert not reader.is_alive()
            assert reader.status == 200

    (kind, data) = agent.events[0]
    assert kind == "analysis"
    assert data["customer_id"] == "c1"
    assert data["analysis"]["score"] is None
    assert data["analysis"]["label"] is None
    assert data["analysis"]["redacted"] == "supervisor"
    (kind, data) = lead.events[0]
    assert data["event_id"] == "m1"
    assert data["analysis"]["label"] in {"positive", "neutral", "negative", "mixed"}
    assert data["analysis"]["redacted"] is None
    assert [d["customer_id"] for _, d in only_c2.events] == ["c2"]


def test_stream_needs_a_key_and_closes_after_limit(api: Api) -> None:
    assert api.client.get("/v1/stream-sentiment").status_code == 401
    with LiveServer(api.app) as server:
        started = time.monotonic()
        reader = SseReader(f"{server.url}/v1/stream-sentiment?limit=1&heartbeat=0.05", api.keys["agent"])
        reader.start()
        assert reader.connected.wait(10)
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {api.keys['admin']}"}) as c:
            c.post("/v1/events", json=message("m9", "c9", "Where is my order?"))
        reader.join(15)
        assert not reader.is_alive()
        assert time.monotonic() - started < 15
        assert reader.events[0][0] == "analysis"
