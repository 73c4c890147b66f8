"""The dashboard in a real headless Chromium against a uvicorn server on 127.0.0.1.

The server holds a generated company's history (the demo generator, ingested through the
production pipeline and playbook). Every page is opened as a person would: signed in on the
login page, no console errors, charts drawn with data, review decisions made by clicking,
and an agent's view free of scores. Screenshots of each page are kept in
``test-artifacts/dashboard/`` (and copied to ``docs/screenshots/`` with
``TONEWATCH_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard_support import CHROMIUM_ARGS, LiveServer, Site, make_site, need_chromium, now_utc, save_screenshot
from sqlalchemy import select

from tonewatch.audit import AuditLog
from tonewatch.review import ReviewItemRow
from tonewatch.store import Customer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# customers,months of generated history; larger for the README's screenshots.
_DEMO_SIZE = os.environ.get("TONEWATCH_DASHBOARD_DEMO", "16,2")


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    return need_chromium()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[Site]:
    from tonewatch.demo._run import ingest_demo, prepare_data

    home = tmp_path_factory.mktemp("browser") / "home"
    site = make_site(home)
    customers, months = (int(x) for x in _DEMO_SIZE.split(","))
    data = prepare_data(home / "demo", customers=customers, months=months)
    ingest_demo(data, site.services.store, site.settings)
    yield site
    site.services.store.dispose()


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[LiveServer]:
    with LiveServer(site.app) as live:
        yield live


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Tab:
    """A signed-in page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any, server: LiveServer, key: str) -> None:
        self.context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
        self.page = self.context.new_page()
        self.url = server.url
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("requestfailed", lambda req: self.problems.append(f"request failed: {req.url}"))
        self.page.goto(f"{self.url}/login")
        self.page.fill("#api_key", key)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def _console(self, msg: Any) -> None:
        if msg.type in ("error", "warning"):
            self.problems.append(f"console {msg.type}: {msg.text}")

    def open(self, path: str) -> Any:
        response = self.page.goto(f"{self.url}{path}")
        self.page.wait_for_load_state("networkidle")
        assert response is not None, path
        assert response.status == 200, (path, response.status)
        return self.page

    def charts(self) -> dict[str, int]:
        """Chart id -> number of drawn (non-null) data points, from the Chart.js instances on the page."""
        result: dict[str, int] = self.page.evaluate(
            """() => Object.fromEntries(Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
                const chart = window.Chart && window.Chart.getChart(c);
                const n = chart ? chart.data.datasets.reduce((a, d) => a + d.data.filter(
                    v => v !== null && v !== undefined && !(typeof v === 'object' && v.y === null)).length, 0) : -1;
                return [c.dataset.chart, n];
            }))"""
        )
        return result

    def accessibility_basics(self) -> list[str]:
        """Form fields without labels, pages without exactly one h1, images without text."""
        found: list[str] = self.page.evaluate(
            """() => {
                const out = [];
                for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
                    if (!el.labels || el.labels.length === 0) out.push('unlabelled ' + (el.id || el.name));
                }
                if (document.querySelectorAll('h1').length !== 1) out.push('h1 count');
                if (!document.documentElement.lang) out.push('no lang');
                for (const c of document.querySelectorAll('canvas')) {
                    if (c.getAttribute('role') !== 'img' || !c.getAttribute('aria-label')) out.push('canvas ' + c.id);
                }
                return out;
            }"""
        )
        return found

    def shot(self, name: str) -> None:
        tall = self.page.evaluate("document.body.scrollHeight") > 6000
        save_screenshot(self.page.screenshot(full_page=not tall), name)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def lead(browser: Any, server: LiveServer, site: Site) -> Iterator[Tab]:
    tab = Tab(browser, server, site.keys["lead"])
    yield tab
    tab.close()


def _worst_customer(site: Site) -> str:
    with site.services.store.session(readonly=True) as session:
        cid = session.scalar(select(Customer.id).where(Customer.health.is_not(None)).order_by(Customer.health))
    assert cid is not None
    return cid


def test_every_page_renders_without_console_errors_and_its_charts_have_data(lead: Tab, site: Site) -> None:
    today = now_utc().date()
    pages = {
        "overview": "/",
        "at-risk": "/at-risk",
        "customer": f"/customers/{_worst_customer(site)}",
        "review-queue": "/review",
        "rules": f"/rules?from={(today - timedelta(days=45)).isoformat()}&to={today.isoformat()}",
        "model-health": "/model",
        "monthly-report": "/reports/monthly",
    }
    charted = {"overview", "customer", "rules", "model-health", "monthly-report"}
    for name, path in pages.items():
        lead.open(path)
        charts = lead.charts()
        assert all(n > 0 for n in charts.values()), (name, charts)
        if name in charted:
            assert charts, f"{name} drew no chart"
        assert lead.accessibility_basics() == [], name
        lead.shot(name)
        assert lead.problems == [], (name, lead.problems)


def test_at_risk_rows_expand_to_their_factors_and_sort_by_change(lead: Tab) -> None:
    page = lead.open("/at-risk?band=all&sort=change&dir=asc")
    rows = page.locator("table.at-risk > tbody > tr")
    assert rows.count() > 0
    changes = [
        v for v in (rows.nth(i).locator("[data-change]").get_attribute("data-change") for i in range(rows.count())) if v
    ]
    assert [float(c) for c in changes] == sorted(float(c) for c in changes)
    first = rows.nth(0)
    first.locator("summary").click()
    assert first.locator("table.factors tbody tr").count() > 0
    assert lead.problems == []


def test_keyboard_users_reach_the_content_first(lead: Tab) -> None:
    page = lead.open("/review")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def _status(site: Site, item_id: int) -> ReviewItemRow:
    with site.services.store.session(readonly=True) as session:
        row = session.get(ReviewItemRow, item_id)
        assert row is not None
        return row


def test_review_queue_approve_and_reject_in_the_page_reach_the_store_and_the_audit_log(lead: Tab, site: Site) -> None:
    page = lead.open("/review")
    approvable = page.locator("article.review-item:has(form.action-approve)").first
    approve_id = int(approvable.get_attribute("data-item") or 0)
    approvable.locator("form.action-approve button").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[role=status].alert-ok").inner_text().startswith(f"Item {approve_id} ")
    assert _status(site, approve_id).status in ("approved", "sent")

    target = page.locator("article.review-item").first
    reject_id = int(target.get_attribute("data-item") or 0)
    assert reject_id != approve_id
    target.locator("form.action-reject input[name=reason]").fill("already called them this morning")
    target.locator("form.action-reject button").click()
    page.wait_for_load_state("networkidle")
    row = _status(site, reject_id)
    assert row.status == "rejected"
    assert row.reason == "already called them this morning"
    assert page.locator(f"#item-{reject_id}").count() == 0  # gone from the open items

    with site.services.store.session(readonly=True) as session:
        log = AuditLog(session)
        log.verify()
        approved = [e for e in log.entries(subject=f"review:{approve_id}") if e.action == "review.approved"]
        rejected = [e for e in log.entries(subject=f"review:{reject_id}") if e.action == "review.rejected"]
    assert approved
    assert approved[0].actor.startswith("lead tester [key:")
    assert rejected
    assert rejected[0].details["reason"] == "already called them this morning"
    lead.open("/review?status=decided")
    lead.shot("review-queue-decided")
    assert lead.problems == []


def test_an_agent_sees_no_scores_in_the_browser(browser: Any, server: LiveServer, site: Site) -> None:
    agent = Tab(browser, server, site.keys["agent"])
    try:
        assert agent.page.url.endswith("/at-risk")
        assert "supervisor" in agent.page.locator("main").inner_text()
        page = agent.open(f"/customers/{_worst_customer(site)}")
        assert page.locator("[data-score]").count() == 0
        assert page.locator("[data-testid=health-hidden]").count() == 1
        assert "trajectory" not in agent.charts()
        assert "health-history" not in agent.charts()
        agent.shot("customer-agent-view")
        page = agent.open("/review")
        assert page.locator("[data-score]").count() == 0
        assert page.locator("article.review-item").count() > 0
        nav = page.locator("header nav").inner_text()
        assert "Rules" not in nav
        assert "Overview" not in nav
        assert agent.problems == []
    finally:
        agent.close()
