"""The visibility policy: an agent key cannot read what the organisation's policy hides.

Each test drives the real endpoints with keys of different roles and checks both sides:
the hidden fields are null for the caller the policy excludes, and present for one it allows
(so a test that "passes" because scores are always null cannot hide a regression).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_support import Api

from tonewatch.api._visibility import ANALYSIS_SCORE_FIELDS, Viewer
from tonewatch.settings import Settings

NEGATIVE = "This is the third time I am writing. Your service is a disaster and I want to cancel today."
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def hidden(analysis: dict[str, Any]) -> bool:
    """True when every score field is hidden."""
    return analysis["redacted"] is not None and all(
        analysis[f] in (None, []) for f in ANALYSIS_SCORE_FIELDS if f in analysis
    )


def visible(analysis: dict[str, Any]) -> bool:
    return analysis["redacted"] is None and analysis["score"] is not None and analysis["label"] is not None


def classify(api: Api, role: str, **extra: Any) -> dict[str, Any]:
    r = api.post("/v1/classify-sentiment", role, json={"text": NEGATIVE, **extra})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def story(customer: str, ticket: str, *, closed: bool) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"kind": "customer", "customer_id": customer, "attributes": {"plan": "pro"}},
        {
            "kind": "ticket",
            "event_id": f"{ticket}-open",
            "customer_id": customer,
            "ticket_id": ticket,
            "status": "opened",
            "timestamp": T0.isoformat(),
        },
        {
            "kind": "message",
            "event_id": f"{ticket}-m1",
            "customer_id": customer,
            "ticket_id": ticket,
            "channel": "email",
            "text": NEGATIVE,
            "timestamp": (T0 + timedelta(minutes=5)).isoformat(),
        },
    ]
    if closed:
        events.append(
            {
                "kind": "ticket",
                "event_id": f"{ticket}-closed",
                "customer_id": customer,
                "ticket_id": ticket,
                "status": "resolved",
                "timestamp": (T0 + timedelta(hours=2)).isoformat(),
            }
        )
    return events


@pytest.fixture
def policy_api(make_api: Callable[..., Api]) -> Callable[..., Api]:
    def build(policy: str, **kw: Any) -> Api:
        return make_api(visibility_policy=policy, **kw)

    return build


def test_full_policy_shows_everyone_everything(policy_api: Callable[..., Api]) -> None:
    api = policy_api("full")
    for role in ("agent", "lead", "qa", "analyst", "admin"):
        assert visible(classify(api, role))


def test_supervisor_policy_hides_scores_from_agents(policy_api: Callable[..., Api]) -> None:
    api = policy_api("supervisor")
    agent = classify(api, "agent")
    assert hidden(agent)
    assert agent["redacted"] == "supervisor"
    assert agent["urgency"]["level"] in {"low", "medium", "high"}  # operational routing stays visible
    for role in ("lead", "qa", "admin"):
        assert visible(classify(api, role)), role
    assert hidden(classify(api, "analyst"))

    comprehend = api.post("/v1/classify-sentiment?format=comprehend", "agent", json={"Text": NEGATIVE}).json()
    assert comprehend == {"Sentiment": None, "SentimentScore": None, "redacted": "supervisor"}
    batch = api.post("/v1/classify-sentiment", "agent", json={"texts": [NEGATIVE, "Thanks!"]}).json()
    assert all(hidden(item) for item in batch["results"])

    conv = api.post(
        "/v1/analyze-conversation",
        "agent",
        json={"turns": [{"speaker": "customer", "text": "Hello"}, {"speaker": "customer", "text": NEGATIVE}]},
    ).json()
    assert conv["redacted"] == "supervisor"
    for key in ("opening", "closing", "sharpest_drop", "label", "mean_score", "emotions", "escalation_risk"):
        assert conv[key] is None, key
    assert all(hidden(t["analysis"]) for t in conv["turns"])
    lead = api.post(
        "/v1/analyze-conversation",
        "lead",
        json={"turns": [{"speaker": "customer", "text": "Hello"}, {"speaker": "customer", "text": NEGATIVE}]},
    ).json()
    assert lead["closing"] is not None
    assert lead["escalation_risk"] is not None


def test_threshold_policy_shows_only_strong_scores(policy_api: Callable[..., Api]) -> None:
    api = policy_api("threshold", visibility_threshold=0.999)
    assert classify(api, "lead")["redacted"] == "threshold"
    api = policy_api("threshold", visibility_threshold=0.0)
    assert visible(classify(api, "agent"))
    viewer = Viewer.for_role("agent", Settings(visibility_policy="threshold", visibility_threshold=0.5))
    assert viewer.analysis({"score": -0.49, "label": "negative"})["label"] is None
    assert viewer.analysis({"score": -0.5, "label": "negative"})["label"] == "negative"


def test_aggregate_policy_hides_every_individual_score_and_small_groups(policy_api: Callable[..., Api]) -> None:
    api = policy_api("aggregate", aggregate_min_group=2)
    for role in ("agent", "lead", "admin"):
        assert hidden(classify(api, role)), role
    api.ingest(*story("c1", "t1", closed=True), *story("c2", "t2", closed=True))
    api.ingest(
        {
            "kind": "message",
            "event_id": "chat-1",
            "customer_id": "c1",
            "channel": "chat",
            "text": "Thanks, all good now.",
            "timestamp": (T0 + timedelta(days=1)).isoformat(),
        }
    )
    agg = api.get("/v1/aggregates/sentiment?group_by=channel", "lead").json()
    groups = {g["group"]: g for g in agg["groups"]}
    assert groups["email"]["count"] == 2
    assert groups["email"]["suppressed"] is False
    assert groups["email"]["mean_score"] is not None
    assert groups["chat"] == {"group": "chat", "count": 1, "suppressed": True, "mean_score": None, "shares": None}

    customer = api.get("/v1/customers/c1", "admin").json()
    assert customer["health"]["redacted"] == "aggregate"
    assert customer["health"]["health"] is None
    assert customer["signals"] is None
    assert all(d["health"] is None for d in customer["trajectory"]["daily"])
    assert all(hidden(i["analysis"]) for i in customer["timeline"] if i.get("analysis"))
    r = api.get("/v1/customers?band=at-risk", "lead")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "visibility_policy"

    assert api.post("/v1/feedback", "lead", json={"event_id": "t1-m1", "label": "negative"}).status_code == 201
    entry = api.get("/v1/audit?action=feedback.recorded", "qa").json()["entries"][-1]
    assert entry["details"]["label"] is None  # scrubbed: no individual score leaves through the audit log
    assert entry["details"]["model_label"] is None
    assert entry["details"]["customer"] == "c1"


def test_no_aggregate_by_agent(api: Api) -> None:
    for group_by in ("agent", "agent_id", "assignee"):
        r = api.get(f"/v1/aggregates/sentiment?group_by={group_by}", "lead")
        assert r.status_code == 400
        assert r.json()["error"] == {
            "code": "agent_aggregate_refused",
            "message": r.json()["error"]["message"],
            "field": "group_by",
        }


def test_post_conversation_policy_waits_for_the_ticket_to_close(policy_api: Callable[..., Api]) -> None:
    api = policy_api("post_conversation")
    api.ingest(*story("open-c", "t-open", closed=False), *story("done-c", "t-done", closed=True))

    assert hidden(classify(api, "agent"))  # ad-hoc text: no finished conversation
    assert hidden(classify(api, "agent", ticket_id="t-open"))
    assert visible(classify(api, "agent", ticket_id="t-done"))

    live = api.get("/v1/customers/open-c", "agent").json()
    msg = next(i for i in live["timeline"] if i["kind"] == "message")
    assert hidden(msg["analysis"])
    assert live["health"]["redacted"] == "post_conversation"
    assert live["open_tickets"] == 1

    done = api.get("/v1/customers/done-c", "agent").json()
    msg = next(i for i in done["timeline"] if i["kind"] == "message")
    assert visible(msg["analysis"])
    assert done["health"]["redacted"] is None
    assert done["health"]["health"] is not None


def test_supervisor_policy_on_customers_audit_and_lists(policy_api: Callable[..., Api]) -> None:
    api = policy_api("supervisor")
    api.ingest(*story("c9", "t9", closed=False))
    fid = api.post("/v1/feedback", "lead", json={"event_id": "t9-m1", "label": "negative"})
    assert fid.status_code == 201, fid.text

    agent_view = api.get("/v1/customers/c9", "agent").json()
    assert agent_view["health"]["health"] is None
    assert agent_view["health"]["factors"] == []
    assert agent_view["trajectory"]["trend"] is None
    assert all(hidden(i["analysis"]) for i in agent_view["timeline"] if i.get("analysis"))
    lead_view = api.get("/v1/customers/c9", "lead").json()
    assert lead_view["health"]["health"] is not None
    assert any(visible(i["analysis"]) for i in lead_view["timeline"] if i.get("analysis"))

    listed = api.get("/v1/customers", "agent").json()["items"]
    assert [c["customer_id"] for c in listed] == ["c9"]
    assert listed[0]["health"]["health"] is None
    assert api.get("/v1/customers?band=critical", "agent").status_code == 403

    # audit details are scrubbed for a role that may read the log but not every score
    entries = api.get("/v1/audit?action=feedback.recorded", "qa").json()["entries"]
    assert entries[0]["details"]["label"] == "negative"


def test_free_form_blobs_lose_every_score_like_key() -> None:
    blob = {
        "customer": "c1",
        "health": 31.5,
        "trigger": {"sentiment_drop": -0.9, "within": "1d", "analysis": {"label": "negative", "score": -0.8}},
        "messages": [{"event_id": "m1", "label": "negative", "comment_score": -0.7}],
    }
    agent = Viewer.for_role("agent", Settings(visibility_policy="supervisor"))
    assert agent.scrub(blob) == {
        "customer": "c1",
        "health": None,
        "trigger": {"sentiment_drop": None, "within": "1d", "analysis": None},
        "messages": [{"event_id": "m1", "label": None, "comment_score": None}],
    }
    lead = Viewer.for_role("lead", Settings(visibility_policy="supervisor"))
    assert lead.scrub(blob) == blob


def test_supervisor_policy_hides_review_summaries_and_internal_alerts_from_agents(
    policy_api: Callable[..., Api],
) -> None:
    """Review-item summaries and account-manager alerts quote health figures: agents must not read them."""
    api = policy_api("supervisor")
    api.ingest(*story("rv", "rv-t1", closed=False))
    for action, draft in (("check_in", "Hi, checking in on the export."), ("notify_account_manager", "Health 41.4")):
        r = api.post(
            "/v1/review-queue",
            "lead",
            json={"customer_id": "rv", "action": action, "draft": draft, "summary": "Health 41.4 (at-risk), declining"},
        )
        assert r.status_code == 201, r.text
    agent = {i["action"]: i for i in api.get("/v1/review-queue?customer_id=rv", "agent").json()}
    lead = {i["action"]: i for i in api.get("/v1/review-queue?customer_id=rv", "lead").json()}
    assert set(agent) == set(lead) == {"check_in", "notify_account_manager"}
    for item in agent.values():
        assert "41.4" not in str(item)
        assert item["summary"] == ""
    assert agent["check_in"]["draft"] == "Hi, checking in on the export."  # customer-facing drafts carry no scores
    assert all("41.4" in item["summary"] for item in lead.values())
    assert lead["notify_account_manager"]["draft"] == "Health 41.4"
