"""Correcting a message's label from the Customer page: the form, its permission, CSRF and bad input.

A real app on a real SQLite store holding one customer's few messages (ingested through the
pipeline). The browser test signs in as a QA reviewer in headless Chromium, labels a message
with the page's form and finds the vote stored and audited; the HTTP tests cover refusals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard_support import CHROMIUM_ARGS, LiveServer, Site, ingest, make_site, need_chromium, now_utc
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tonewatch.audit import AuditLog
from tonewatch.learn import labelled_items
from tonewatch.store import Feedback

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_CUSTOMER = "c-label"
_MESSAGES = {
    "lb-1": "Thanks, the export works perfectly now.",
    "lb-2": "Oh great, another outage. Just what we needed this week.",
    "lb-3": "Can you tell me where to find the invoice settings?",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = make_site(tmp_path_factory.mktemp("labelling") / "home")
    now = now_utc()
    events: list[dict[str, Any]] = [
        {"kind": "customer", "customer_id": _CUSTOMER, "attributes": {"name": "Larkspur Tools", "segment": "smb"}}
    ]
    for i, (event_id, text) in enumerate(_MESSAGES.items()):
        events.append(
            {
                "kind": "message",
                "event_id": event_id,
                "customer_id": _CUSTOMER,
                "timestamp": (now - timedelta(days=3 - i)).isoformat(),
                "channel": "email",
                "author": "customer",
                "text": text,
                "ticket_id": "L-1",
            }
        )
    with TestClient(site.app):
        ingest(site, events)
    yield site
    site.services.store.dispose()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app, follow_redirects=False) as c:
        yield c


def _sign_in(site: Site, client: TestClient, role: str) -> str:
    """Sign ``client`` in as ``role``; the CSRF token of the customer page's forms."""
    page = client.get("/login")
    token = _CSRF.search(page.text)
    assert token is not None
    r = client.post("/login", data={"api_key": site.keys[role], "csrf_token": token.group(1), "next": "/"})
    assert r.status_code == 303
    page = client.get(f"/customers/{_CUSTOMER}")
    assert page.status_code == 200
    token = _CSRF.search(page.text)
    assert token is not None
    return token.group(1)


def _feedback(site: Site, event_id: str) -> list[Feedback]:
    with site.services.store.session(readonly=True) as session:
        return list(session.scalars(select(Feedback).where(Feedback.event_id == event_id).order_by(Feedback.id)))


def _feedback_count(site: Site) -> int:
    with site.services.store.session(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(Feedback)) or 0)


# -- over HTTP ------------------------------------------------------------------------------------


def test_only_roles_that_may_write_feedback_see_the_form(site: Site, client: TestClient) -> None:
    _sign_in(site, client, "lead")
    assert client.get(f"/customers/{_CUSTOMER}").text.count('class="row label-form"') == len(_MESSAGES)
    r = client.get(f"/customers/{_CUSTOMER}", headers=site.bearer("analyst"))
    assert r.status_code == 200
    assert "label-form" not in r.text
    assert "Larkspur Tools" in r.text


def test_a_role_without_feedback_write_is_refused_and_nothing_is_written(site: Site, client: TestClient) -> None:
    before = _feedback_count(site)
    csrf = _sign_in(site, client, "analyst")
    r = client.post("/messages/lb-1/label", data={"csrf_token": csrf, "label": "negative"})
    assert r.status_code == 403
    assert "analyst role cannot" in r.text
    r = client.post("/messages/lb-1/label", data={"label": "negative"}, headers=site.bearer("analyst"))
    assert r.status_code == 403
    assert _feedback_count(site) == before


def test_bad_label_unknown_message_and_missing_csrf_write_nothing(site: Site, client: TestClient) -> None:
    before = _feedback_count(site)
    csrf = _sign_in(site, client, "agent")
    r = client.post("/messages/lb-3/label", data={"csrf_token": csrf, "label": "furious", "why": "x"})
    assert r.status_code == 422
    assert 'role="alert"' in r.text
    assert "label must be one of mixed, negative, neutral, positive" in r.text
    r = client.post("/messages/lb-3/label", data={"csrf_token": csrf, "why": "no label chosen"})
    assert r.status_code == 422
    r = client.post("/messages/lb-3/label", data={"csrf_token": csrf, "label": "negative", "why": "y" * 2001})
    assert r.status_code == 422
    assert "longer than 2000 characters" in r.text
    r = client.post("/messages/no-such-message/label", data={"csrf_token": csrf, "label": "negative"})
    assert r.status_code == 404
    assert "no stored message" in r.text
    r = client.post("/messages/lb-3/label", data={"label": "negative"})  # a session must send its token
    assert r.status_code == 403
    r = client.post("/messages/lb-3/label", data={"csrf_token": "forged", "label": "negative"})
    assert r.status_code == 403
    assert _feedback_count(site) == before


def test_signed_out_posts_go_to_sign_in(client: TestClient, site: Site) -> None:
    before = _feedback_count(site)
    r = client.post("/messages/lb-3/label", data={"label": "negative"})
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    assert _feedback_count(site) == before


def test_a_script_with_a_bearer_key_labels_and_relabelling_replaces_its_vote(site: Site, client: TestClient) -> None:
    for label in ("positive", "neutral"):
        r = client.post("/messages/lb-1/label", data={"label": label}, headers=site.bearer("admin"))
        assert r.status_code == 303
        assert r.headers["location"] == f"/customers/{_CUSTOMER}?labelled=lb-1#event-lb-1"
    page = client.get(r.headers["location"], headers=site.bearer("admin"))
    assert "Saved: your label for message lb-1 is neutral." in page.text
    assert re.search(r"your label: <strong>neutral</strong>", page.text)
    with site.services.store.session(readonly=True) as session:
        (item,) = labelled_items(session, event_ids=["lb-1"])
    assert [(v.actor.startswith("admin tester [key:"), v.label) for v in item.votes] == [(True, "neutral")]


# -- in Chromium ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    return need_chromium()


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[LiveServer]:
    with LiveServer(site.app) as live:
        yield live


@pytest.mark.browser
def test_a_reviewer_labels_a_message_in_the_browser(site: Site, server: LiveServer, chromium_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.goto(f"{server.url}/login")
            page.fill("#api_key", site.keys["qa"])
            page.click("button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{server.url}/customers/{_CUSTOMER}")
            form = page.locator("form.label-form[data-event='lb-2']")
            assert form.locator("[data-testid=your-label]").count() == 0
            form.locator("select[name=label]").select_option("negative")
            form.get_by_label("Why (optional)").fill("sarcastic: the outage is the point")
            form.locator("button[type=submit]").click()
            page.wait_for_url(re.compile(r"/customers/c-label\?labelled=lb-2#event-lb-2$"))
            status = page.locator("[role=status].alert-ok").inner_text()
            assert status == "Saved: your label for message lb-2 is negative."
            form = page.locator("form.label-form[data-event='lb-2']")
            assert form.locator("[data-testid=your-label]").inner_text() == "your label: negative"
            assert form.locator("select[name=label]").input_value() == "negative"
            assert page.locator("form.label-form[data-event='lb-1'] [data-testid=your-label]").count() == 0
        finally:
            browser.close()
    assert problems == []

    (row,) = _feedback(site, "lb-2")
    assert row.label == "negative"
    assert row.note == "sarcastic: the outage is the point"
    assert row.actor.startswith("qa tester [key:")
    assert row.customer_id == _CUSTOMER
    with site.services.store.session(readonly=True) as session:
        log = AuditLog(session)
        log.verify()
        entries = [e for e in log.entries(subject="message:lb-2") if e.action == "analysis.corrected"]
    assert len(entries) == 1
    assert entries[0].actor == row.actor
    assert entries[0].details["feedback"] == row.id
    assert entries[0].details["label"][1] == "negative"
