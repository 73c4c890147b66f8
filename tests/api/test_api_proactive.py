"""Events in, customers out, and the proactive loop: review queue, rules, feedback, audit."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from api_support import Api

T0 = datetime(2026, 10, 1, 9, tzinfo=UTC)


def msg(event_id: str, customer: str, text: str, day: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "message",
        "event_id": event_id,
        "customer_id": customer,
        "channel": extra.pop("channel", "email"),
        "text": text,
        "timestamp": (T0 + timedelta(days=day)).isoformat(),
        **extra,
    }


def unhappy_customer(customer: str = "acme") -> list[dict[str, Any]]:
    texts = [
        "Thanks, the onboarding went well.",
        "The export is failing, can you check?",
        "Still failing. This is the third time I ask.",
        "Nobody answers. This is unacceptable, we are paying for this.",
        "I am done. Cancel our subscription, we are moving to another vendor.",
    ]
    events: list[dict[str, Any]] = [
        {"kind": "customer", "customer_id": customer, "attributes": {"plan": "business", "account_value": 12000}},
        {
            "kind": "ticket",
            "event_id": f"{customer}-t1-open",
            "customer_id": customer,
            "ticket_id": f"{customer}-t1",
            "status": "opened",
            "timestamp": (T0 + timedelta(days=1)).isoformat(),
        },
    ]
    events += [msg(f"{customer}-m{i}", customer, t, i * 2, ticket_id=f"{customer}-t1") for i, t in enumerate(texts)]
    events.append(
        {
            "kind": "survey",
            "event_id": f"{customer}-s1",
            "customer_id": customer,
            "survey": "csat",
            "score": 1,
            "comment": "Terrible support.",
            "timestamp": (T0 + timedelta(days=9)).isoformat(),
        }
    )
    return events


def test_events_batch_reports_every_item(api: Api) -> None:
    events = [
        msg("e1", "c1", "Hello, where is my invoice?", 0),
        {"kind": "message", "event_id": "e2", "customer_id": "c1"},  # missing fields
        msg("e1", "c1", "Hello, where is my invoice?", 0),  # duplicate in the batch
        {"kind": "teleport", "event_id": "e3", "customer_id": "c1"},
        "not an object",
    ]
    r = api.post("/v1/events", "agent", json=events)  # a bare JSON array is accepted too
    assert r.status_code == 200, r.text
    body = r.json()
    statuses = [(x["index"], x["status"]) for x in body["results"]]
    assert statuses == [(0, "accepted"), (1, "rejected"), (2, "duplicate"), (3, "rejected"), (4, "rejected")]
    assert body["accepted"] == 1
    assert body["rejected"] == 3
    assert body["results"][3]["field"] == "kind"
    assert body["results"][1]["code"] == "invalid_event"
    again = api.post("/v1/events", json=msg("e1", "c1", "Hello, where is my invoice?", 0)).json()
    assert again["results"][0]["status"] == "duplicate"


def test_customer_timeline_trajectory_signals_and_health(api: Api) -> None:
    api.ingest(*unhappy_customer("acme"), msg("happy-1", "zen", "Everything works, thank you!", 3))
    r = api.get("/v1/customers/acme", "lead")
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["attributes"]["plan"] == "business"
    assert c["open_tickets"] == 1
    kinds = [i["kind"] for i in c["timeline"]]
    assert kinds.count("message") == 5
    assert "survey" in kinds
    assert "ticket" in kinds
    stamps = [i["timestamp"] for i in c["timeline"]]
    assert stamps == sorted(stamps, reverse=True)
    message = next(i for i in c["timeline"] if i["kind"] == "message")
    assert message["text"]
    assert message["analysis"]["label"] in {"positive", "neutral", "negative", "mixed"}
    survey = next(i for i in c["timeline"] if i["kind"] == "survey")
    assert survey["rating"] == 1
    health = c["health"]
    assert 0 <= health["health"] <= 100
    assert health["band"] in {"healthy", "watch", "at-risk", "critical"}
    assert health["factors"]
    assert all({"name", "points", "reason"} <= set(f) for f in health["factors"])
    assert c["trajectory"]["trend"] is not None
    assert c["trajectory"]["daily"]
    assert c["signals"]

    listed = api.get("/v1/customers", "lead").json()["items"]
    healths = [x["health"]["health"] for x in listed]
    assert healths == sorted(healths)  # most at risk first
    band = health["band"]
    in_band = api.get(f"/v1/customers?band={band}", "lead").json()["items"]
    assert "acme" in [x["customer_id"] for x in in_band]
    assert all(x["health"]["band"] == band for x in in_band)
    assert api.get("/v1/customers?band=purple", "lead").status_code == 422


def test_feedback_is_stored_audited_and_admin_only_to_read(api: Api) -> None:
    api.ingest(msg("fb-1", "c7", "Oh great, another outage. Just what I needed.", 1))
    r = api.post(
        "/v1/feedback",
        "agent",
        json={"event_id": "fb-1", "label": "negative", "emotions": ["frustration"], "note": "sarcasm"},
    )
    assert r.status_code == 201, r.text
    fb = r.json()
    assert fb["label"] == "negative"
    assert fb["emotions"] == ["frustration"]
    assert fb["actor"] == f"test agent [key:{api.keys['agent'].split('_')[1]}]"  # the form the dashboard records
    assert api.post("/v1/feedback", json={"event_id": "nope", "label": "negative"}).json()["error"]["code"] == (
        "unknown_message"
    )
    assert api.post("/v1/feedback", json={"event_id": "fb-1"}).status_code == 422
    assert api.get("/v1/feedback", "lead").status_code == 403
    labelled = api.get("/v1/feedback").json()
    assert labelled[0]["text"].startswith("Oh great")
    entries = api.get("/v1/audit?action=feedback.recorded").json()["entries"]
    assert entries[-1]["subject"] == "message:fb-1"
    assert entries[-1]["details"]["label"] == "negative"
    assert "Oh great" not in str(entries[-1])  # never the text


def test_rules_get_put_validates_and_audits(api: Api) -> None:
    current = api.get("/v1/rules", "analyst").json()
    assert current["source"] == "starter"
    assert current["rules"]
    bad = api.put(
        "/v1/rules",
        content=b"rules:\n  - id: x\n    when: {nonsense: 1}\n",
        headers={"Content-Type": "application/yaml"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_rule"
    assert "line" in bad.json()["error"]["message"]
    r = api.put("/v1/rules", json={"yaml": current["yaml"].replace(current["name"], "edited", 1)})
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "file"
    assert api.get("/v1/rules").json()["sha256"] == r.json()["sha256"]
    entries = api.get("/v1/audit?action=rules.update").json()["entries"]
    assert entries[-1]["details"]["sha256"] == r.json()["sha256"]
    assert api.put("/v1/rules", content=b"x", headers={"Content-Type": "text/csv"}).status_code == 415


def test_review_queue_flow_with_webhook_decisions(api: Api) -> None:
    api.ingest(msg("rq-1", "rq", "The integration broke again.", 1))
    create = api.post(
        "/v1/review-queue",
        "lead",
        json={"customer_id": "rq", "action": "check_in", "priority": "high", "draft": "Hi, checking in on the sync."},
    )
    assert create.status_code == 201, create.text
    item = create.json()
    assert item["status"] == "pending"
    assert item["route_reason"] == "manual"
    assert api.post("/v1/review-queue", "agent", json={"customer_id": "rq", "action": "check_in"}).status_code == 403
    assert api.post("/v1/review-queue", "lead", json={"customer_id": "ghost", "action": "check_in"}).status_code == 404

    ids = [i["id"] for i in api.get("/v1/review-queue", "agent").json()]
    assert item["id"] in ids
    metrics = api.client.get("/metrics").text
    assert 'tonewatch_review_queue_items{status="pending"} 1.0' in metrics
    assert "tonewatch_review_sla_breaches 0.0" in metrics
    snoozed = api.post(f"/v1/review-queue/{item['id']}/snooze", "agent", json={"hours": 2, "reason": "customer away"})
    assert snoozed.json()["status"] == "snoozed", snoozed.text
    edited = api.post(f"/v1/review-queue/{item['id']}/edit", "lead", json={"text": "Hi! Is the sync working now?"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["final_text"].startswith("Hi! Is the sync")
    assert edited.json()["decided_by"].startswith("test lead [key:")
    late = api.post(f"/v1/review-queue/{item['id']}/reject", "lead", json={"reason": "too late"})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "invalid_transition"
    assert api.post("/v1/review-queue/999999/approve", "lead").status_code == 404

    second = api.post("/v1/review-queue", "qa", json={"customer_id": "rq", "action": "check_in", "draft": "Hello"})
    rejected = api.post(f"/v1/review-queue/{second.json()['id']}/reject", "qa", json={"reason": "duplicate"})
    assert rejected.json()["status"] == "rejected"
    assert api.post(f"/v1/review-queue/{second.json()['id']}/reject", "qa", json={}).status_code == 422

    actions = {e["action"] for e in api.get("/v1/audit?subject=review:" + str(item["id"])).json()["entries"]}
    assert {"review.created", "review.snoozed", "review.edited"} <= actions
    assert api.get("/v1/audit/verify").json() == {
        "ok": True,
        "entries": api.get("/v1/audit/verify").json()["entries"],
        "error": None,
    }


def test_flags_and_rule_review_items_reach_webhooks(make_api: Callable[..., Api]) -> None:
    from test_api_webhooks import Receiver, subscribe, wait_for

    api = make_api()
    receiver = Receiver().start()
    try:
        subscribe(api, receiver.url, ["flag", "review.created", "review.decision"])
        api.ingest(*unhappy_customer("flagged"))
        flags = wait_for(lambda: [b for _, b in receiver.delivered() if b'"type":"flag"' in b])
        first = json.loads(flags[0])
        assert first["data"]["customer_id"] == "flagged"
        assert first["data"]["new_flags"] or first["data"]["band"] != first["data"]["previous_band"]
        items = api.get("/v1/review-queue?customer_id=flagged&status=all").json()
        if items:  # the starter playbook queued outreach: it was announced too
            created = wait_for(lambda: [b for _, b in receiver.delivered() if b'"type":"review.created"' in b])
            assert json.loads(created[0])["data"]["customer_id"] == "flagged"
    finally:
        receiver.stop()


def test_flag_webhooks_follow_the_visibility_policy(make_api: Callable[..., Api]) -> None:
    from test_api_webhooks import Receiver, subscribe, wait_for

    api = make_api(visibility_policy="aggregate")
    receiver = Receiver().start()
    try:
        subscribe(api, receiver.url, ["flag"])
        api.ingest(*unhappy_customer("private"))
        flag = json.loads(wait_for(lambda: [b for _, b in receiver.delivered() if b'"type":"flag"' in b])[0])
    finally:
        receiver.stop()
    assert flag["data"]["customer_id"] == "private"
    assert flag["data"]["redacted"] == "aggregate"
    assert flag["data"]["health"] is None
    assert flag["data"]["band"] is None
    assert flag["data"]["factors"] == []
