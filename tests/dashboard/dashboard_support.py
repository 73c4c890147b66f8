"""Helpers for the dashboard tests: a real app on a real store, scenario data, a live server, Chromium."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from live_server import LiveServer, free_port  # noqa: F401 - re-exported for the tests

from tonewatch.api import create_app, create_key
from tonewatch.api._services import Services
from tonewatch.settings import Settings

ROLES = ("agent", "lead", "qa", "analyst", "admin")
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = Path(os.environ.get("TONEWATCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "dashboard"
SCREENSHOTS = REPO / "docs" / "screenshots"


def need_chromium() -> Path:
    """The browser, or a skip (a failure on CI, where the browser tests must run)."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    msg = f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)"
    if ON_CI:
        pytest.fail(msg + "; CI must run the browser tests (scripts/test installs it)")
    pytest.skip(msg)


@dataclass
class Site:
    """An app with one key per role."""

    app: FastAPI
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def make_site(home: Path, **overrides: Any) -> Site:
    values: dict[str, Any] = {"home": home, "db_url": f"sqlite:///{home / 'tonewatch.db'}"}
    values.update(overrides)
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(**values)
    app = create_app(settings)
    site = Site(app, settings)
    with site.services.store.session() as session:
        for role in ROLES:
            site.keys[role] = create_key(session, role, name=f"{role} tester").key
    return site


def story_events(now: datetime) -> list[dict[str, Any]]:
    """A small support history ending ``now``: a steady customer, one turning sour, one angry and open."""
    events: list[dict[str, Any]] = []
    n = 0

    def ev(kind: str, cid: str, days_ago: float, **fields: Any) -> None:
        nonlocal n
        n += 1
        ts = (now - timedelta(days=days_ago)).isoformat()
        events.append({"kind": kind, "event_id": f"st-{n:04d}", "customer_id": cid, "timestamp": ts, **fields})

    def says(cid: str, days_ago: float, text: str, ticket: str, channel: str = "email") -> None:
        ev("message", cid, days_ago, channel=channel, author="customer", text=text, ticket_id=ticket)

    renewal = (now + timedelta(days=30)).date().isoformat()
    for cid, name, segment in (
        ("c-happy", "Brightfield Bakery", "smb"),
        ("c-sour", "Harbor Logistics", "enterprise"),
        ("c-angry", "Quillon Media", "enterprise"),
    ):
        events.append(
            {
                "kind": "customer",
                "customer_id": cid,
                "attributes": {
                    "name": name,
                    "segment": segment,
                    "plan": "business",
                    "renewal_date": renewal,
                    "account_value": 90000 if segment == "enterprise" else 3000,
                },
            }
        )
    happy = [
        "Thanks so much, the new export works perfectly for our team.",
        "Great support as always, the invoices look right now.",
        "Love the calendar sync, it saves us hours every week.",
        "Quick question about adding a user, otherwise all good. Thank you!",
        "Everything is running smoothly, thanks for the quick help.",
        "The mobile app update is excellent, our staff are happy.",
    ]
    for i, text in enumerate(happy):
        ev("ticket", "c-happy", 40 - i * 6, ticket_id=f"H-{i}", status="opened", category="how-to")
        says("c-happy", 40 - i * 6 - 0.01, text, f"H-{i}", channel="chat" if i % 2 else "email")
        ev("ticket", "c-happy", 40 - i * 6 - 0.5, ticket_id=f"H-{i}", status="resolved")
    sour = [
        (45, "Really happy with the reporting dashboard, great work!"),
        (38, "The sync is fine, thanks for checking in."),
        (30, "The reporting dashboard is slow again, please look into it."),
        (22, "Still slow. This is getting frustrating, we depend on these reports."),
        (14, "The dashboard has been broken for a week. This is unacceptable and we are very disappointed."),
        (9, "Nobody has fixed the reporting dashboard. We are seriously considering cancelling our contract."),
        (4, "This is the third time I am writing about the same problem. Terrible service, we are furious."),
        (2, "Still broken. I am extremely angry and we will cancel at renewal if this is not fixed today."),
    ]
    ev("ticket", "c-sour", 46, ticket_id="S-1", status="opened", category="performance")
    for days, text in sour:
        says("c-sour", days, text, "S-1")
    for week in range(8):
        ev("usage", "c-sour", 56 - week * 7, metric="logins", value=200 - week * 22)
    ev("survey", "c-sour", 12, survey="csat", score=1, scale=5, comment="Slow and nobody helps.")
    angry = [
        (20, "Your billing charged us twice. Please refund the duplicate charge immediately."),
        (13, "Please advise on the status of my refund as this is now outstanding for a week."),
        (7, "I am very upset, the refund still has not arrived and nobody answers."),
        (5, "This is completely unacceptable. I want a manager to call me about this billing mess."),
        (1, "Worst experience ever. Refund us now or we leave."),
    ]
    ev("ticket", "c-angry", 21, ticket_id="A-1", status="opened", category="billing")
    for days, text in angry:
        says("c-angry", days, text, "A-1", channel="phone" if days == 5 else "email")
    events.sort(key=lambda e: e.get("timestamp", ""))
    return events


def ingest(site: Site, events: Iterable[dict[str, Any]]) -> None:
    report = site.services.ingest(list(events))
    assert not report.rejected, report.rejected


def queue_item(site: Site, customer_id: str, action: str = "check_in", *, draft: str | None = None) -> int:
    """A review item queued by a person through the review service (what POST /v1/review-queue does)."""
    from tonewatch.act import effective_tier
    from tonewatch.review import ReviewQueue

    with site.services.store.session() as session:
        item = ReviewQueue(session, site.settings).create(
            customer_id=customer_id,
            action=action,
            tier=effective_tier(action),
            priority=2,
            summary=f"Check in with {customer_id}: health 31.5 and sentiment level -0.62.",
            draft=draft,
            draft_source="person" if draft else None,
            evidence={
                "description": "Test item",
                "health": 31.5,
                "band": "at-risk",
                "quotes": [{"event_id": "x", "text": "Still broken.", "score": -0.8, "label": "negative"}],
            },
            route_reason="manual",
            actor="tests",
        )
        return item.id


SCORE_PATTERN = re.compile(r"data-score\b")


def save_screenshot(png: bytes, name: str) -> Path:
    """Keep a page's screenshot as a test artifact (and as the README's, when asked to refresh them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(png)
    if os.environ.get("TONEWATCH_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / path.name)
    return path


def now_utc() -> datetime:
    return datetime.now(UTC)
