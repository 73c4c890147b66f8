"""The Model health page's learning panels: reviewer agreement, disagreements, the latest drift report.

Over HTTP (Starlette's test client) for roles and the visibility policy, and in a real headless
Chromium against uvicorn for the rendered page (no console errors, drift charts drawn).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_support import CHROMIUM_ARGS, LiveServer, Site, make_site, need_chromium, save_screenshot
from fastapi.testclient import TestClient
from learn_fixtures import NOW, add_message, days

from tonewatch.learn import compute_drift, record_drift, record_label
from tonewatch.store import Ticket


def _seed_labels(site: Site) -> None:
    """Six labelled messages: one reviewer split, one where reviewers overrule the model, four agreeing."""
    with site.services.store.session() as s:
        s.add(Ticket(ticket_id="T-1", customer_id="c1", status="open", opened_at=NOW, updated_at=NOW))
        add_message(s, "split", "Great, another outage.", label="positive", confidence=0.6, ticket="T-1", score=0.4)
        add_message(s, "over", "The invoice is wrong again.", customer="c2", label="neutral", confidence=0.5)
        record_label(s, "split", label="negative", actor="ana", why="sarcasm", now=NOW)
        record_label(s, "split", label="positive", actor="ben", now=NOW + days(0.1))
        record_label(s, "over", label="negative", actor="ana", now=NOW)
        record_label(s, "over", label="negative", actor="ben", now=NOW)
        for i in range(4):
            add_message(s, f"ok-{i}", f"Thanks, sorted {i}!", customer=f"c{3 + i}", label="positive", confidence=0.95)
            record_label(s, f"ok-{i}", label="positive", actor="ana", now=NOW)
            record_label(s, f"ok-{i}", label="positive", actor="ben", now=NOW)


def _seed_drift(site: Site) -> None:
    with site.services.store.session() as s:
        for i in range(60):
            reference = NOW - days(10 + i * 0.2)
            add_message(s, f"ref-{i}", "Thanks, all fine.", when=reference, customer=f"r{i % 5}", label="positive")
            current = NOW - days(i * 0.05)
            text = "The zorbix broke again."
            add_message(s, f"cur-{i}", text, when=current, customer=f"k{i % 5}", label="negative", confidence=0.4)
    with site.services.store.session(readonly=True) as s:
        report = compute_drift(s, site.settings)
    with site.services.store.session() as s:
        record_drift(s, report, actor="cron")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    site = make_site(tmp_path / "home")
    yield site
    site.services.store.dispose()


def _islands(html: str) -> set[str]:
    return set(re.findall(r'<script type="application/json" id="chart-data-([\w-]+)">', html))


def test_admins_see_agreement_and_the_disagreements_with_the_votes(site: Site) -> None:
    _seed_labels(site)
    with TestClient(site.app) as client:
        html = client.get("/model", headers=site.bearer("admin")).text
    assert 'data-testid="labels-panel"' in html
    # 2 reviewers on 6 messages: 6 pairs, 5 agreeing
    assert re.search(r'data-testid="reviewer-agreement">83%<', html)
    assert re.search(r'data-testid="model-agreement">80%<', html)  # 4 of 5 gold labels
    table = html[html.index('data-testid="disagreements-table"') :]
    assert table.index('data-event="split"') < table.index('data-event="over"')
    assert "reviewers split" in table
    assert "reviewers overrule the model" in table
    assert "Great, another outage." in table
    assert "“sarcasm”" in table
    assert 'data-event="ok-0"' not in table
    assert "No drift report recorded yet" in html


def test_other_roles_see_the_figures_but_not_the_labelled_messages(site: Site) -> None:
    _seed_labels(site)
    with TestClient(site.app) as client:
        lead = client.get("/model", headers=site.bearer("lead")).text
        analyst = client.get("/model", headers=site.bearer("analyst")).text
        agent = client.get("/model", headers=site.bearer("agent"), follow_redirects=False)
    for html in (lead, analyst):
        assert 'data-testid="reviewer-agreement"' in html
        assert 'data-testid="disagreements-table"' not in html
        assert "Great, another outage." not in html
        assert "shown to admins" in html
    assert agent.status_code == 403


def test_too_few_labels_show_no_figures(site: Site) -> None:
    with site.services.store.session() as s:
        add_message(s, "one", "Hello.", label="neutral")
        record_label(s, "one", label="neutral", actor="ana", now=NOW)
    with TestClient(site.app) as client:
        html = client.get("/model", headers=site.bearer("admin")).text
    assert "1 labelled messages: fewer than 5" in html
    assert 'data-testid="reviewer-agreement"' not in html


def test_the_models_reading_is_hidden_from_admins_under_the_aggregate_policy(tmp_path: Path) -> None:
    site = make_site(tmp_path / "agg", visibility_policy="aggregate")
    try:
        _seed_labels(site)
        with TestClient(site.app) as client:
            html = client.get("/model", headers=site.bearer("admin")).text
        table = html[html.index('data-testid="disagreements-table"') :]
        assert "hidden (aggregate)" in table
        assert "data-score" not in table
    finally:
        site.services.store.dispose()


def test_the_latest_drift_report_shows_its_alerts_charts_and_new_terms(site: Site) -> None:
    _seed_drift(site)
    with TestClient(site.app) as client:
        html = client.get("/model", headers=site.bearer("analyst")).text
    panel = html[html.index('data-testid="drift-report-panel"') :]
    assert "Report #1" in panel
    assert panel.count('data-testid="drift-alert"') >= 3
    assert "score distribution (PSI)" in panel
    assert '<th scope="row">zorbix</th>' in panel
    assert {"drift-scores", "drift-labels"} <= _islands(html)


# -- in a real browser ----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_the_model_health_page_with_learning_panels_renders_cleanly_in_chromium(site: Site) -> None:
    chromium = need_chromium()
    from playwright.sync_api import sync_playwright

    _seed_labels(site)
    _seed_drift(site)
    problems: list[str] = []
    with LiveServer(site.app) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.goto(f"{live.url}/login")
            page.fill("#api_key", site.keys["admin"])
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            response = page.goto(f"{live.url}/model")
            page.wait_for_load_state("networkidle")
            assert response is not None
            assert response.status == 200
            drawn: dict[str, Any] = page.evaluate(
                """() => Object.fromEntries(['drift-scores', 'drift-labels'].map(id => {
                    const c = document.querySelector(`canvas[data-chart="${id}"]`);
                    const chart = c && window.Chart && window.Chart.getChart(c);
                    const drawn = d => d.data.filter(v => v !== null).length;
                    return [id, chart ? chart.data.datasets.reduce((a, d) => a + drawn(d), 0) : -1];
                }))"""
            )
            assert all(n > 0 for n in drawn.values()), drawn
            assert page.locator("[data-testid=disagreements-table] tbody tr").count() == 2
            assert page.locator("[data-testid=drift-alert]").count() >= 3
            assert page.locator("h1").count() == 1
            save_screenshot(page.screenshot(full_page=True), "model-health-learning")
        finally:
            browser.close()
    assert problems == []


def test_admins_see_the_model_registry_and_its_latest_changes(site: Site) -> None:
    """The page lists what GET /v1/models lists (same role), with the shadow candidate and the history."""
    from tonewatch.learn._promotion import set_shadow
    from tonewatch.learn._registry import Registry
    from tonewatch.score._model import BUNDLED_MODEL_DIR

    registry = Registry.from_settings(site.settings)
    registry.import_folder(BUNDLED_MODEL_DIR, version="candidate-1")
    set_shadow(site.services.store, registry, "candidate-1", actor="ops lead", why="try on live traffic")
    with TestClient(site.app) as client:
        admin = client.get("/model", headers=site.bearer("admin")).text
        lead = client.get("/model", headers=site.bearer("lead")).text
        listing = client.get("/v1/models", headers=site.bearer("admin")).json()
    panel = admin[admin.index('data-testid="registry-panel"') :]
    assert re.search(r'data-testid="registry-active">builtin<', panel)
    assert re.search(r'data-testid="registry-shadow">candidate-1<', panel)
    for model in listing["models"]:  # every version the API lists, with its marks
        row = panel[panel.index(f'data-version="{model["version"]}"') :]
        row = row[: row.index("</tr>")]
        assert all(mark in row for mark in model["marks"])
    history = panel[panel.index('data-testid="registry-history"') :]
    assert "ops lead" in history
    assert "try on live traffic" in history
    assert 'data-testid="registry-table"' not in lead
    assert "shown to admins, as in <code>GET /v1/models</code>" in lead
