"""classify-sentiment (native and Comprehend shapes) and analyze-conversation, on the real model."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from api_support import Api

from tonewatch.score import get_analyzer

ANGRY = "This is the third time I am writing. Nobody answers and I am furious. Cancel my account."
HAPPY = "Thank you so much, that fixed it. You were wonderful!"


def test_single_text_carries_the_analysis_fields(api: Api) -> None:
    r = api.post(
        "/v1/classify-sentiment",
        json={"text": ANGRY, "customer_id": "c1", "channel": "email", "timestamp": "2026-11-01T10:00:00Z"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    expected = get_analyzer(api.settings).analyze(ANGRY).to_dict()
    for key, value in expected.items():
        assert body[key] == value, key
    assert body["redacted"] is None
    assert math.isclose(sum(body["probabilities"].values()), 1.0, abs_tol=1e-3)


def test_batch_keeps_order_and_matches_in_process(api: Api) -> None:
    texts = [HAPPY, ANGRY, "ok", "  ", "Where is my parcel? It was due Monday."]
    r = api.post("/v1/classify-sentiment", json={"texts": texts})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["index"] for x in body["results"]] == [0, 1, 2, 4]
    assert [(e["index"], e["code"], e["field"]) for e in body["errors"]] == [(3, "empty_text", "texts.3")]
    direct = get_analyzer(api.settings).analyze_batch([t for t in texts if t.strip()])
    for got, want in zip(body["results"], direct, strict=True):
        assert got["label"] == want.label
        assert got["score"] == round(want.score, 4)
    assert body["model_version"] == direct[0].model_version


def comprehend_scores_ok(item: dict[str, Any]) -> None:
    assert item["Sentiment"] in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    scores = item["SentimentScore"]
    assert set(scores) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert math.isclose(sum(scores.values()), 1.0, abs_tol=2e-3)
    top = max(scores, key=lambda k: scores[k])
    if item["Sentiment"] != "MIXED":
        assert top.upper() == item["Sentiment"]


def test_comprehend_detect_sentiment_shape(api: Api) -> None:
    r = api.post("/v1/classify-sentiment?format=comprehend", json={"Text": ANGRY, "LanguageCode": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"Sentiment", "SentimentScore", "redacted"}
    comprehend_scores_ok(body)
    native = api.post("/v1/classify-sentiment", json={"text": ANGRY}).json()
    assert body["Sentiment"] == native["label"].upper()


def test_comprehend_batch_shape_with_error_list(api: Api) -> None:
    r = api.post("/v1/classify-sentiment?format=comprehend", json={"TextList": [HAPPY, "", ANGRY]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"ResultList", "ErrorList"}
    assert [x["Index"] for x in body["ResultList"]] == [0, 2]
    for item in body["ResultList"]:
        comprehend_scores_ok(item)
    assert body["ErrorList"] == [
        {"Index": 1, "ErrorCode": "INVALID_REQUEST", "ErrorMessage": body["ErrorList"][0]["ErrorMessage"]}
    ]


def test_text_and_texts_together_are_refused(api: Api) -> None:
    r = api.post("/v1/classify-sentiment", json={"text": "a", "texts": ["b"]})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "ambiguous_text"
    r = api.post("/v1/classify-sentiment", json={"texts": []})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "empty_batch"
    r = api.post("/v1/classify-sentiment?format=xml", json={"text": "a"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "format"


def test_conversation_summary(api: Api) -> None:
    turns = [
        {"speaker": "customer", "text": HAPPY, "timestamp": "2026-11-01T10:00:00Z"},
        {"speaker": "agent", "text": "Glad to help. Anything else?", "timestamp": "2026-11-01T10:01:00Z"},
        {"speaker": "customer", "text": "Actually the invoice is wrong again.", "timestamp": "2026-11-01T10:02:00Z"},
        {"speaker": "agent", "text": "Let me check that for you.", "timestamp": "2026-11-01T10:03:00Z"},
        {"speaker": "customer", "text": ANGRY, "timestamp": "2026-11-01T10:04:00Z"},
    ]
    r = api.post("/v1/analyze-conversation", json={"turns": turns, "conversation_id": "conv-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [t["speaker"] for t in body["turns"]] == [t["speaker"] for t in turns]
    analyzer = get_analyzer(api.settings)
    scores = [a.score for a in analyzer.analyze_batch([t["text"] for t in turns])]  # one pass, as the API does
    assert body["customer_turns"] == 3
    assert body["opening"] == {"turn": 0, "score": round(scores[0], 4), "label": body["turns"][0]["analysis"]["label"]}
    assert body["closing"]["turn"] == 4
    customer = [0, 2, 4]
    drops = [(scores[b] - scores[a], a, b) for a, b in itertools.pairwise(customer)]
    worst = min(drops)
    assert body["sharpest_drop"]["from_turn"] == worst[1]
    assert body["sharpest_drop"]["to_turn"] == worst[2]
    assert body["sharpest_drop"]["delta"] == pytest.approx(worst[0], abs=1e-3)
    risk = body["escalation_risk"]
    assert 0.0 <= risk["score"] <= 1.0
    assert risk["score"] == pytest.approx(sum(f["points"] for f in risk["factors"]), abs=1e-3)
    assert risk["level"] in {"low", "medium", "high"}
    assert set(body["emotions"]) >= {"anger", "frustration", "gratitude"}


def test_conversation_with_only_agent_turns_has_no_customer_summary(api: Api) -> None:
    r = api.post("/v1/analyze-conversation", json={"turns": [{"speaker": "agent", "text": "Hello, how can I help?"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer_turns"] == 0
    assert body["closing"] is None
    assert body["escalation_risk"] is None
    r = api.post("/v1/analyze-conversation", json={"turns": []})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "empty_batch"


def test_concurrent_single_requests_are_coalesced_and_never_mixed_up(api: Api) -> None:
    import asyncio

    import httpx
    from api_support import LiveServer

    texts = [f"Order number {i} arrived broken, I want a refund." for i in range(40)]

    async def fire(url: str) -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {api.keys['agent']}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            rs = await asyncio.gather(*(client.post("/v1/classify-sentiment", json={"text": t}) for t in texts))
        assert all(r.status_code == 200 for r in rs)
        return [r.json() for r in rs]

    with LiveServer(api.app) as server:
        bodies = asyncio.run(fire(server.url))
        metrics = httpx.get(f"{server.url}/metrics").text
    for i, body in enumerate(bodies):
        assert body["sentences"][0]["text"].startswith(f"Order number {i} ")  # each answer is its own text's
    count = next(line for line in metrics.splitlines() if line.startswith("tonewatch_inference_batch_size_count"))
    passes = float(count.split()[-1])
    assert passes < len(texts)  # several texts shared a forward pass
