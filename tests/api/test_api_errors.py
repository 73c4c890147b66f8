"""Bad input and limits: every error is {"error": {code, message, field}} with a stable code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from api_support import Api


def error_of(response: object, status: int) -> dict[str, object]:
    assert getattr(response, "status_code") == status, getattr(response, "text")  # noqa: B009
    body = getattr(response, "json")()  # noqa: B009
    assert set(body) == {"error"}, body
    err: dict[str, object] = body["error"]
    assert set(err) == {"code", "message", "field"}
    assert isinstance(err["message"], str)
    assert err["message"]
    return err


def test_invalid_json_is_400_invalid_json(api: Api) -> None:
    r = api.post("/v1/classify-sentiment", content=b'{"text": "hi"', headers={"Content-Type": "application/json"})
    assert error_of(r, 400)["code"] == "invalid_json"


def test_wrong_type_is_422_with_the_field(api: Api) -> None:
    err = error_of(api.post("/v1/classify-sentiment", json={"text": 42}), 422)
    assert err["code"] == "invalid_type"
    assert err["field"] == "text"
    err = error_of(api.post("/v1/analyze-conversation", json={"turns": [{"speaker": "bot", "text": "x"}]}), 422)
    assert err["code"] == "invalid_value"
    assert err["field"] == "turns.0.speaker"


def test_missing_and_unknown_fields(api: Api) -> None:
    assert error_of(api.post("/v1/classify-sentiment", json={}), 422)["code"] == "missing_text"
    err = error_of(api.post("/v1/classify-sentiment", json={"txt": "hello"}), 422)
    assert (err["code"], err["field"]) == ("unknown_field", "txt")


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text(api: Api, text: str) -> None:
    err = error_of(api.post("/v1/classify-sentiment", json={"text": text}), 422)
    assert (err["code"], err["field"]) == ("empty_text", "text")


def test_text_over_the_limit_is_413(make_api: Callable[..., Api]) -> None:
    api = make_api(max_text_chars=50)
    err = error_of(api.post("/v1/classify-sentiment", json={"text": "x" * 51}), 413)
    assert (err["code"], err["field"]) == ("text_too_long", "text")
    # in a batch the long text is reported and the others are scored
    r = api.post("/v1/classify-sentiment", json={"texts": ["fine thanks", "y" * 51]})
    assert r.status_code == 200
    body = r.json()
    assert [x["index"] for x in body["results"]] == [0]
    assert body["errors"] == [
        {"index": 1, "code": "text_too_long", "message": body["errors"][0]["message"], "field": "texts.1"}
    ]


def test_batch_over_the_limit(make_api: Callable[..., Api]) -> None:
    api = make_api(max_batch=3)
    err = error_of(api.post("/v1/classify-sentiment", json={"texts": ["a b"] * 4}), 413)
    assert (err["code"], err["field"]) == ("batch_too_large", "texts")
    err = error_of(api.post("/v1/events", json={"events": [{}] * 4}), 413)
    assert err["code"] == "batch_too_large"
    assert api.post("/v1/classify-sentiment", json={"texts": ["a b"] * 3}).status_code == 200


def test_unknown_customer_is_404(api: Api) -> None:
    err = error_of(api.get("/v1/customers/nobody"), 404)
    assert (err["code"], err["field"]) == ("unknown_customer", "customer_id")


def test_invalid_utf8_is_400(api: Api) -> None:
    r = api.post("/v1/classify-sentiment", content=b'{"text": "caf\xe9"}', headers={"Content-Type": "application/json"})
    assert error_of(r, 400)["code"] == "invalid_utf8"


def test_lone_surrogate_is_refused_not_a_500(api: Api) -> None:
    r = api.post(
        "/v1/classify-sentiment", content=b'{"text": "bad \\ud800 text"}', headers={"Content-Type": "application/json"}
    )
    assert error_of(r, 422)["code"] == "invalid_text"


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_unsupported_media_type_is_415(api: Api, ctype: str) -> None:
    r = api.post("/v1/classify-sentiment", content=b'{"text": "hi"}', headers={"Content-Type": ctype})
    assert error_of(r, 415)["code"] == "unsupported_media_type"


def test_request_too_large_is_413(make_api: Callable[..., Api]) -> None:
    api = make_api(max_request_bytes=2_000)
    r = api.post("/v1/classify-sentiment", json={"text": "word " * 1000})
    assert error_of(r, 413)["code"] == "request_too_large"


def test_rate_limit_is_429_per_key(make_api: Callable[..., Api]) -> None:
    api = make_api(rate_limit_per_minute=3)
    for _ in range(3):
        assert api.get("/v1/customers", "lead").status_code == 200
    r = api.get("/v1/customers", "lead")
    assert error_of(r, 429)["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    # another key has its own bucket
    assert api.get("/v1/customers", "qa").status_code == 200


def test_auth_errors(api: Api) -> None:
    assert error_of(api.client.get("/v1/customers"), 401)["code"] == "missing_api_key"
    r = api.client.get("/v1/customers", headers={"Authorization": "Bearer tw_nothere_secret"})
    assert error_of(r, 401)["code"] == "invalid_api_key"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = api.client.get("/v1/customers", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert error_of(r, 401)["code"] == "invalid_authorization"


def test_routing_errors_have_the_same_shape(api: Api) -> None:
    assert error_of(api.get("/v1/nothing"), 404)["code"] == "not_found"
    assert error_of(api.client.delete("/v1/classify-sentiment"), 405)["code"] == "method_not_allowed"


def test_request_id_is_echoed_or_made(api: Api) -> None:
    r = api.get("/v1/customers", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    r = api.get("/v1/customers", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["X-Request-ID"] != "bad id with spaces"
    assert len(r.headers["X-Request-ID"]) == 32
    assert api.client.post("/v1/classify-sentiment", content=b"{").headers["X-Request-ID"]


def test_single_invalid_event_is_422_and_batch_reports_per_item(api: Api) -> None:
    err = error_of(api.post("/v1/events", json={"kind": "message", "customer_id": "c1"}), 422)
    assert err["code"] == "invalid_event"
    assert err["field"]
