"""Drafts name the customer's real history, take ownership, offer a timed next step, and never
promise money; the optional LLM rewrite falls back to the template whenever it cannot be trusted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from proactive_fixtures import NOW, billing_history, message

from tonewatch.act import (
    GENERIC_PHRASES,
    DraftWriter,
    HistoryLike,
    LLMRewriter,
    build_facts,
    business_deadline,
    mentions_feelings,
    promises_compensation,
)
from tonewatch.settings import Settings
from tonewatch.triggers import HistoryItem

SETTINGS = Settings(timezone="Europe/Berlin", business_hours=(9, 17))
ATTRS = {"contact_name": "Dana Reyes", "renewal_date": "2026-06-30", "account_manager": "Sam Okafor", "plan": "pro"}


def _facts(history: list[HistoryItem] | None = None, category: str | None = "billing") -> Any:
    items: list[HistoryLike] = list(history if history is not None else billing_history())
    return build_facts("c1", NOW, ATTRS, items, category=category)


def test_a_check_in_names_the_issue_the_count_the_dates_the_survey_drop_and_a_timed_next_step() -> None:
    draft = DraftWriter(SETTINGS).check_in(
        _facts(), template="repeat_issue", next_step="a call with Sam from billing", within=timedelta(days=1)
    )
    text = draft.text
    assert text.startswith("Subject: Billing: three contacts since 2 May 2026")
    assert "Hi Dana," in text
    assert "three times about billing since 2 May 2026 (on 2 May 2026, 6 May 2026 and 9 May 2026)" in text
    assert "CSAT rating went from 5 to 2 on 7 May 2026" in text
    assert "our failure, not yours" in text
    assert "taking ownership" in text
    # NOW is Tuesday 12 May 14:00 UTC = 16:00 Berlin; +1 day -> Wednesday 13 May 16:00 Berlin, a business hour
    assert "Next step: a call with Sam from billing, by Wednesday 13 May at 16:00 (Europe/Berlin)." in text
    assert text.rstrip().endswith("Sam Okafor")
    assert not any(p in text.lower() for p in GENERIC_PHRASES)
    assert promises_compensation(text) == []
    assert mentions_feelings(text) == []


@pytest.mark.parametrize(
    "template", ["repeat_issue", "silence", "usage_decline", "renewal", "sentiment_drop", "general"]
)
def test_no_bundled_template_is_generic_or_promises_anything(template: str) -> None:
    history = [
        *billing_history(),
        *[
            HistoryItem("usage", NOW - timedelta(days=d), f"u{d}", {"metric": "logins", "value": 40 if d > 30 else 6})
            for d in range(1, 80, 5)
        ],
    ]
    draft = DraftWriter(SETTINGS).check_in(_facts(history), template=template)
    lowered = draft.text.lower()
    assert "billing" in lowered or "logins" in lowered
    assert not any(p in lowered for p in GENERIC_PHRASES)
    assert promises_compensation(draft.text) == [], draft.text
    assert mentions_feelings(draft.text) == [], draft.text
    assert "next step:" in lowered


def test_templates_fall_back_to_general_when_their_facts_are_missing() -> None:
    writer = DraftWriter(SETTINGS)
    bare = build_facts("c9", NOW, {}, [])
    assert writer.check_in(bare, template="usage_decline").template == "general"
    assert writer.check_in(bare, template="renewal").template == "general"
    assert "Hi there," in writer.check_in(bare, template="repeat_issue").text


def test_silence_and_usage_drafts_use_the_real_numbers() -> None:
    quiet = [message(NOW - timedelta(days=12), "login/access", ticket="T-9", text="Still locked out.")]
    text = DraftWriter(SETTINGS).check_in(_facts(quiet, "login/access"), template="silence").text
    assert "on 30 April 2026 about login/access" in text
    assert "in the 12 days since" in text
    assert "(T-9)" in text
    usage = [
        HistoryItem("usage", NOW - timedelta(days=d), f"u{d}", {"metric": "logins", "value": 50 if d > 30 else 10})
        for d in range(1, 90, 3)
    ]
    text = DraftWriter(SETTINGS).check_in(_facts(usage), template="usage_decline").text
    assert "logins went from about 50 to 10" in text
    assert "a drop of 80%" in text


def test_human_summary_carries_the_evidence_and_a_recommendation() -> None:
    summary, recommendation = DraftWriter(SETTINGS).human_summary(
        _facts(),
        action="retention_offer",
        rule="at-risk-renewal",
        report={
            "health": 31.5,
            "band": "at-risk",
            "flags": ["csat_drop"],
            "factors": [{"name": "csat_drop", "points": -9, "reason": "CSAT 5 -> 2"}],
        },
    )
    assert "Retention decision for c1" in summary
    assert "Health 31.5 (at-risk)" in summary
    assert "billing: three contacts" in summary
    assert "CSAT 5 -> 2 on 7 May 2026" in summary
    assert "renewal on 30 June 2026" in summary
    assert "fix" in recommendation.lower()


def test_business_deadline_skips_nights_weekends_and_respects_the_time_zone() -> None:
    friday_late = datetime(2026, 5, 15, 14, 30, tzinfo=UTC)  # 16:30 in Berlin
    assert business_deadline(friday_late, 4, tz="Europe/Berlin") == datetime(2026, 5, 18, 10, 30, tzinfo=UTC)
    saturday = datetime(2026, 5, 16, 10, tzinfo=UTC)
    assert business_deadline(saturday, 1) == datetime(2026, 5, 18, 10, tzinfo=UTC)
    assert business_deadline(datetime(2026, 5, 12, 9, tzinfo=UTC), 16) == datetime(2026, 5, 13, 17, tzinfo=UTC)


class _Completion(BaseHTTPRequestHandler):
    """A tiny OpenAI-compatible endpoint whose reply the test sets."""

    reply: str = ""
    status: int = 200
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": type(self).reply}}]}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def llm() -> Iterator[tuple[str, type[_Completion]]]:
    handler = type("Handler", (_Completion,), {"reply": "", "status": 200, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1", handler
    finally:
        server.shutdown()
        server.server_close()


def _draft() -> Any:
    return DraftWriter(SETTINGS).check_in(_facts(), template="repeat_issue", next_step="a call with Sam")


def test_llm_rewrite_is_used_when_it_keeps_the_facts(llm: tuple[str, type[_Completion]]) -> None:
    url, handler = llm
    handler.reply = (
        "Subject: Your billing issue since 2 May 2026\n\nHi Dana, you have raised billing with us three times since "
        "2 May 2026. I own it now. Next step: a call with Sam, by Wednesday 13 May at 16:00.\n\nSam"
    )
    rewrite = LLMRewriter(url, model="m", api_key="k").rewrite(_draft(), keep=_facts().key_dates())
    assert rewrite.used_llm
    assert rewrite.draft.source == "llm"
    assert rewrite.draft.subject == "Your billing issue since 2 May 2026"
    (call,) = handler.seen
    assert call["path"] == "/v1/chat/completions"
    assert call["auth"] == "Bearer k"
    assert "2 May 2026" in call["body"]["messages"][1]["content"]


@pytest.mark.parametrize(
    ("reply", "status", "reason"),
    [
        ("Hi Dana, we will give you a 20% discount. Since 2 May 2026 ...", 200, "compensation"),
        ("Hi Dana, we know you are frustrated. Since 2 May 2026 ...", 200, "feelings"),
        ("Hi Dana, we value your business. Since 2 May 2026 ...", 200, "generic"),
        ("Hi Dana, sorry about the billing trouble.", 200, "dates"),
        ("", 200, "unavailable"),
        ("whatever", 500, "unavailable"),
    ],
)
def test_llm_rewrite_falls_back_to_the_template(
    llm: tuple[str, type[_Completion]], reply: str, status: int, reason: str
) -> None:
    url, handler = llm
    handler.reply, handler.status = reply, status
    draft = _draft()
    rewrite = LLMRewriter(url).rewrite(draft, keep=_facts().key_dates())
    assert not rewrite.used_llm
    assert rewrite.draft == draft
    assert reason in (rewrite.fallback_reason or "")


def test_llm_unreachable_falls_back_quickly() -> None:
    import socket
    import time

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    draft = _draft()
    started = time.perf_counter()
    rewrite = LLMRewriter(f"http://127.0.0.1:{port}", timeout=1.0).rewrite(draft)
    assert rewrite.draft == draft
    assert "unavailable" in (rewrite.fallback_reason or "")
    assert time.perf_counter() - started < 3.0
    assert LLMRewriter.from_settings(Settings()) is None
