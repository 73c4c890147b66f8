"""The dashboard over HTTP: sign-in, sessions, CSRF, roles, the visibility policy, review decisions, reports.

A real app (``create_app``) on a real SQLite store, fed through the real pipeline and the
bundled analyzer; requests go through Starlette's test client (the browser tests drive the
same pages in Chromium).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_support import Site, ingest, make_site, now_utc, queue_item, story_events
from fastapi.testclient import TestClient
from sqlalchemy import select

from tonewatch.api import revoke_key
from tonewatch.audit import AuditLog
from tonewatch.review import ReviewItemRow
from tonewatch.store import Customer, Message

pytestmark = pytest.mark.slow

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The story history under the default (supervisor) policy, plus a few review items."""
    site = make_site(tmp_path_factory.mktemp("dashboard") / "home")
    with TestClient(site.app):
        ingest(site, story_events(now_utc()))
    yield site
    site.services.store.dispose()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app, follow_redirects=False) as c:
        yield c


def sign_in(client: TestClient, key: str, next_path: str = "/") -> Any:
    page = client.get(f"/login?next={next_path}")
    assert page.status_code == 200
    token = _CSRF.search(page.text)
    assert token is not None
    return client.post("/login", data={"api_key": key, "csrf_token": token.group(1), "next": next_path})


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    assert m is not None, "no CSRF token on the page"
    return m.group(1)


def islands(html: str) -> dict[str, dict[str, Any]]:
    """The chart specs a page embeds for its charts, by id."""
    out: dict[str, dict[str, Any]] = {}
    for m in re.finditer(r'<script type="application/json" id="chart-data-([\w-]+)">(.*?)</script>', html, re.S):
        out[m.group(1)] = json.loads(m.group(2))
    return out


# -- sign-in, sessions and CSRF -------------------------------------------------------------------


def test_signing_in_with_a_key_sets_a_signed_http_only_session_cookie(site: Site, client: TestClient) -> None:
    r = sign_in(client, site.keys["lead"])
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "tonewatch_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    assert site.keys["lead"] not in cookie  # the key itself never travels in the cookie
    page = client.get("/")
    assert page.status_code == 200
    assert "<h1>Overview</h1>" in page.text
    assert "lead tester" in page.text


def test_sign_in_refuses_a_bad_key_and_a_missing_or_foreign_form_token(site: Site, client: TestClient) -> None:
    assert sign_in(client, "tw_0123456789ab_not-a-real-key").status_code == 401
    assert "tonewatch_session" not in client.cookies
    r = client.post("/login", data={"api_key": site.keys["lead"], "next": "/"})
    assert r.status_code == 400
    with TestClient(site.app) as other:  # a token issued to another browser does not match this one's cookie
        foreign = csrf_of(other.get("/login").text)
    client.get("/login")
    r = client.post("/login", data={"api_key": site.keys["lead"], "csrf_token": foreign, "next": "/"})
    assert r.status_code == 400
    assert "tonewatch_session" not in client.cookies


def test_pages_send_browsers_to_sign_in_and_scripts_may_use_a_bearer_key(site: Site, client: TestClient) -> None:
    r = client.get("/at-risk?band=all")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    r = client.get("/at-risk", headers=site.bearer("lead"))
    assert r.status_code == 200
    assert "At-risk customers" in r.text
    r = client.get("/at-risk", headers={"Authorization": "Bearer tw_0123456789ab_nope"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/at-risk", headers={"Authorization": "Basic abc"}).status_code == 401


def test_sign_in_only_redirects_within_the_site(site: Site, client: TestClient) -> None:
    r = sign_in(client, site.keys["lead"], next_path="//evil.example/x")
    assert r.status_code == 303
    assert r.headers["location"] == "/"


def test_a_tampered_cookie_or_a_revoked_key_ends_the_session(site: Site, client: TestClient) -> None:
    sign_in(client, site.keys["qa"])
    value = client.cookies["tonewatch_session"]
    body, mac = value.split(".")
    payload = json.loads(_b64d(body))
    payload["r"] = "admin"
    forged = _b64e(json.dumps(payload, separators=(",", ":"))) + "." + mac
    with TestClient(site.app, follow_redirects=False) as fresh:
        assert fresh.get("/review", headers={"Cookie": f"tonewatch_session={value}"}).status_code == 200
        assert fresh.get("/review", headers={"Cookie": f"tonewatch_session={forged}"}).status_code == 303
        assert fresh.get("/review", headers={"Cookie": "tonewatch_session=garbage"}).status_code == 303
        with site.services.store.session() as session:
            revoke_key(session, site.keys["qa"].split("_")[1])
        assert fresh.get("/review", headers={"Cookie": f"tonewatch_session={value}"}).status_code == 303


def test_signing_out_needs_the_csrf_token(site: Site, client: TestClient) -> None:
    sign_in(client, site.keys["admin"])
    page = client.get("/review")
    assert client.post("/logout", data={}).status_code == 403
    r = client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert client.get("/review").status_code == 303


def test_each_role_opens_only_the_pages_its_api_permissions_allow(site: Site, client: TestClient) -> None:
    expected = {
        "agent": {"/": 303, "/at-risk": 200, "/review": 200, "/rules": 403, "/model": 403, "/reports/monthly": 403},
        "analyst": {"/": 200, "/at-risk": 200, "/review": 403, "/rules": 200, "/model": 200, "/reports/monthly": 200},
        "lead": {"/": 200, "/at-risk": 200, "/review": 200, "/rules": 200, "/model": 200, "/reports/monthly": 200},
    }
    for role, pages in expected.items():
        for path, status in pages.items():
            r = client.get(path, headers=site.bearer(role))
            assert r.status_code == status, (role, path, r.status_code)
    assert client.get("/", headers=site.bearer("agent")).headers["location"] == "/at-risk"
    nav = client.get("/review", headers=site.bearer("agent")).text
    assert 'href="/rules"' not in nav
    assert 'href="/model"' not in nav


# -- the visibility policy ------------------------------------------------------------------------


def _scores_of(site: Site, customer_id: str) -> set[str]:
    with site.services.store.session(readonly=True) as session:
        scores = session.scalars(
            select(Message.score).where(Message.customer_id == customer_id, Message.score.is_not(None))
        ).all()
    return {f"{s:+.2f}" for s in scores if abs(s) >= 0.05}


def test_an_agent_sees_no_score_where_the_supervisor_policy_hides_them(site: Site, client: TestClient) -> None:
    lead = client.get("/customers/c-sour", headers=site.bearer("lead")).text
    agent = client.get("/customers/c-sour", headers=site.bearer("agent")).text
    assert "data-score" in lead
    assert 'data-testid="health-value"' in lead
    assert {"trajectory", "health-history"} <= set(islands(lead))
    scores = _scores_of(site, "c-sour")
    assert scores
    assert any(s in lead for s in scores)

    assert "data-score" not in agent
    assert "hidden (supervisor)" in agent
    assert not {"trajectory", "health-history"} & set(islands(agent))
    assert 'data-chart-hidden="trajectory"' in agent
    leaked = [s for s in scores if s in agent]
    assert not leaked, leaked
    assert "label-negative" not in agent
    assert "label-positive" not in agent
    assert "Still broken." in agent  # the masked messages themselves are not hidden

    risk = client.get("/at-risk?band=all", headers=site.bearer("agent")).text
    assert "hidden from the agent role by the <strong>supervisor</strong>" in risk
    assert "data-health" not in risk


def test_the_review_queue_hides_scores_in_evidence_and_summary_from_an_agent(site: Site, client: TestClient) -> None:
    item = queue_item(site, "c-angry", "check_in", draft="Hi, we are on it.\n")
    alert = queue_item(site, "c-angry", "notify_account_manager", draft="Quillon: health 12.7 (critical).\n")
    lead = client.get("/review?limit=100", headers=site.bearer("lead")).text
    agent = client.get("/review?limit=100", headers=site.bearer("agent")).text
    for i in (item, alert):
        assert f'id="item-{i}"' in lead
        assert f'id="item-{i}"' in agent
    assert "31.5" in lead
    assert "-0.62" in lead
    assert "12.7" in lead
    assert "31.5" not in agent
    assert "-0.62" not in agent
    assert "12.7" not in agent
    assert "Still broken." in agent  # quotes stay, their scores go
    assert "Hi, we are on it." in agent  # so do drafts to the customer


def test_under_the_full_policy_the_same_agent_sees_scores(site: Site, tmp_path: Path) -> None:
    full = make_site(tmp_path / "full", db_url=site.settings.db_url, visibility_policy="full")
    try:
        with TestClient(full.app) as c:
            agent = c.get("/customers/c-sour", headers={"Authorization": f"Bearer {site.keys['agent']}"}).text
        assert "data-score" in agent
        assert "trajectory" in islands(agent)
    finally:
        full.services.store.dispose()


# -- pages show the pipeline's data ---------------------------------------------------------------


def test_the_trajectory_chart_replays_the_pipelines_own_level(site: Site, client: TestClient) -> None:
    spec = islands(client.get("/customers/c-sour", headers=site.bearer("lead")).text)["trajectory"]
    sets = {d["label"]: d for d in spec["datasets"]}
    assert len(sets["message score"]["points"]) == 8
    with site.services.store.session(readonly=True) as session:
        stored = session.get(Customer, "c-sour")
        assert stored is not None
        assert stored.report is not None
        level = stored.report["trend"]["level"]
    assert sets["smoothed level"]["points"][-1][1] == pytest.approx(level, abs=1e-3)


def test_at_risk_sorts_by_health_and_by_change(site: Site, client: TestClient) -> None:
    def health_column(query: str) -> list[float]:
        html = client.get(f"/at-risk?band=all&{query}", headers=site.bearer("lead")).text
        return [float(x) for x in re.findall(r'data-health="([-\d.]+)"', html)]

    ascending = health_column("sort=health&dir=asc")
    assert len(ascending) == 3
    assert ascending == sorted(ascending)
    assert health_column("sort=health&dir=desc") == sorted(ascending, reverse=True)
    html = client.get("/at-risk?band=all&sort=change", headers=site.bearer("lead")).text
    assert 'aria-sort="ascending"' in html


def test_overview_charts_carry_weekly_data(site: Site, client: TestClient) -> None:
    html = client.get("/?by=category&weeks=8", headers=site.bearer("analyst")).text
    charts = islands(html)
    volume = charts["volume-by-category"]
    assert len(volume["labels"]) == 8
    assert sum(v or 0 for d in volume["datasets"] for v in d["values"]) == 19  # every customer message
    # No week has 5 messages: the mean emotions and sentiment are suppressed (counts are not).
    assert 'data-chart-empty="emotions"' in html
    assert "emotions" not in charts


def test_groups_below_the_minimum_size_are_suppressed_and_shown_once_allowed(site: Site, tmp_path: Path) -> None:
    small = make_site(tmp_path / "small", db_url=site.settings.db_url, aggregate_min_group=1)
    try:
        with TestClient(small.app) as c:
            html = c.get("/?by=category&weeks=8", headers={"Authorization": f"Bearer {site.keys['analyst']}"}).text
        charts = islands(html)
        assert any(v is not None for d in charts["emotions"]["datasets"] for v in d["values"])
        assert any(v is not None for d in charts["sentiment-by-category"]["datasets"] for v in d["values"])
    finally:
        small.services.store.dispose()


# -- review decisions in the page -----------------------------------------------------------------


def _item(site: Site, item_id: int) -> ReviewItemRow:
    with site.services.store.session(readonly=True) as session:
        row = session.get(ReviewItemRow, item_id)
        assert row is not None
        return row


def _audit(site: Site, item_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    with site.services.store.session(readonly=True) as session:
        log = AuditLog(session)
        log.verify()
        return [(e.action, e.actor, dict(e.details)) for e in log.entries(subject=f"review:{item_id}")]


def test_approve_edit_reject_and_snooze_round_trip_to_the_store_and_the_audit_log(
    site: Site, client: TestClient
) -> None:
    approve = queue_item(site, "c-sour", "check_in", draft="Subject: Checking in\n\nHi, the fix is live.\n")
    edit = queue_item(site, "c-sour", "check_in", draft="Hi.\n")
    reject = queue_item(site, "c-happy", "check_in", draft="Hello!\n")
    snooze = queue_item(site, "c-angry", "notify_account_manager", draft="Please call Quillon.\n")
    sign_in(client, site.keys["lead"])
    token = csrf_of(client.get("/review").text)

    r = client.post(f"/review/{approve}/approve", data={"csrf_token": token, "status": "open"})
    assert r.status_code == 303
    assert "done=" in r.headers["location"]
    assert _item(site, approve).status == "sent"
    actions = _audit(site, approve)
    assert [a for a, _, _ in actions] == ["review.created", "review.approved", "review.sent"]
    assert actions[1][1].startswith("lead tester [key:")

    r = client.post(
        f"/review/{edit}/edit", data={"csrf_token": token, "text": "Hi, sorry: fixed today.", "reason": "tone"}
    )
    assert r.status_code == 303
    row = _item(site, edit)
    assert row.status == "sent"
    assert row.final_text == "Hi, sorry: fixed today.\n"
    assert "review.edited" in [a for a, _, _ in _audit(site, edit)]

    r = client.post(f"/review/{reject}/reject", data={"csrf_token": token, "reason": ""})
    assert r.status_code == 422
    assert "reason is required" in r.text
    assert _item(site, reject).status == "pending"
    r = client.post(f"/review/{reject}/reject", data={"csrf_token": token, "reason": "customer is happy"})
    assert r.status_code == 303
    assert _item(site, reject).status == "rejected"
    assert _item(site, reject).reason == "customer is happy"
    assert ("review.rejected", "customer is happy") in [(a, d.get("reason")) for a, _, d in _audit(site, reject)]

    r = client.post(f"/review/{snooze}/snooze", data={"csrf_token": token, "hours": "4"})
    assert r.status_code == 303
    assert _item(site, snooze).status == "snoozed"

    r = client.post(f"/review/{reject}/approve", data={"csrf_token": token})
    assert r.status_code == 409
    assert "alert-error" in r.text
    assert client.get("/review?status=decided&done=x").status_code == 200


def test_a_decision_without_the_csrf_token_changes_nothing(site: Site, client: TestClient) -> None:
    item = queue_item(site, "c-sour", "check_in", draft="Hi.\n")
    sign_in(client, site.keys["lead"])
    before = len(_audit(site, item))
    r = client.post(f"/review/{item}/approve", data={"csrf_token": "forged"})
    assert r.status_code == 403
    assert _item(site, item).status == "pending"
    assert len(_audit(site, item)) == before
    r = client.post(f"/review/{item}/approve", data={}, headers=site.bearer("lead"))  # scripts: no cookie, no CSRF
    assert r.status_code == 303
    assert _item(site, item).status == "sent"


def test_an_analyst_cannot_decide_and_unknown_items_are_404(site: Site, client: TestClient) -> None:
    item = queue_item(site, "c-sour", "check_in", draft="Hi.\n")
    assert client.post(f"/review/{item}/approve", data={}, headers=site.bearer("analyst")).status_code == 403
    assert client.post("/review/999999/approve", data={}, headers=site.bearer("lead")).status_code == 404
    assert client.post(f"/review/{item}/explode", data={}, headers=site.bearer("lead")).status_code == 404
    assert _item(site, item).status == "pending"


# -- rules, model health, reports -----------------------------------------------------------------


def test_rules_page_backtests_the_playbook_on_demand(site: Site, client: TestClient) -> None:
    today = now_utc().date()
    html = client.get(
        f"/rules?from={today.replace(day=1).isoformat()}&to={today.isoformat()}", headers=site.bearer("analyst")
    ).text
    assert 'data-testid="rules-table"' in html
    assert 'data-testid="backtest-table"' in html
    assert "3 customers and" in html
    too_long = client.get("/rules?from=2020-01-01&to=2026-01-01", headers=site.bearer("analyst")).text
    assert "backtest at most 92 days" in too_long


def test_model_health_lists_languages_and_drift(site: Site, client: TestClient) -> None:
    html = client.get("/model", headers=site.bearer("lead")).text
    assert 'data-testid="drift-table"' in html
    assert '<th scope="row">en</th>' in html
    confidence = islands(html)["confidence"]
    assert all(sum(v or 0 for v in d["values"]) == pytest.approx(1.0) for d in confidence["datasets"])
    assert "not enough data" not in html  # 5 messages in the newest week, 11 in the reference window
    assert 'data-chart-empty="labels-over-time"' in html  # no single week reaches 5 messages


def test_monthly_report_downloads_as_csv_html_and_png(site: Site, client: TestClient) -> None:
    month = now_utc().strftime("%Y-%m")
    page = client.get(f"/reports/monthly?month={month}", headers=site.bearer("analyst"))
    assert page.status_code == 200
    assert f"Monthly report: {month}" in page.text

    r = client.get(f"/reports/monthly.csv?month={month}", headers=site.bearer("analyst"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert f"tonewatch-report-{month}.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    total = next(row for row in rows if row["section"] == "total")
    assert int(total["messages"]) > 0
    assert {"category", "channel", "week"} <= {row["section"] for row in rows}

    r = client.get(f"/reports/monthly.html?month={month}", headers=site.bearer("analyst"))
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', r.text)
    assert len(images) == 3
    assert all(_is_png(__import__("base64").b64decode(i)) for i in images)
    assert "<script" not in r.text
    assert "http://" not in r.text
    assert "https://" not in r.text

    r = client.get(f"/reports/monthly/category-negative.png?month={month}", headers=site.bearer("analyst"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert _is_png(r.content)
    assert client.get("/reports/monthly/nope.png", headers=site.bearer("analyst")).status_code == 404
    assert client.get("/reports/monthly.csv?month=2026-13", headers=site.bearer("analyst")).status_code == 422


def test_report_monthly_command_writes_the_report_without_a_server(site: Site, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from tonewatch.cli._report import register

    app = typer.Typer()
    register(app)
    month = now_utc().strftime("%Y-%m")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["report", "monthly", "--month", month, "--out", str(out), "--db", site.settings.db_url]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert f"tonewatch-report-{month}.html" in names
    assert f"tonewatch-report-{month}.csv" in names
    assert len([n for n in names if n.endswith(".png")]) == 3
    bad = CliRunner().invoke(app, ["report", "monthly", "--month", "May", "--db", site.settings.db_url])
    assert bad.exit_code == 2
    assert "--month" in bad.output


# -- packaging and headers ------------------------------------------------------------------------


def test_pages_are_not_in_the_api_schema_and_carry_security_headers(site: Site, client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith("/v1") and p not in ("/healthz", "/readyz", "/metrics")]
    r = client.get("/at-risk", headers=site.bearer("lead"))
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    # The API's body guard admits form posts on the dashboard's paths only.
    form = client.post(
        "/v1/classify-sentiment",
        content=b"text=hi",
        headers={**site.bearer("lead"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415


def test_the_chart_library_is_vendored_and_nothing_loads_from_another_origin(client: TestClient) -> None:
    r = client.get("/static/vendor/chart.umd.min.js")
    assert r.status_code == 200
    assert r.content.startswith(b"/*!\n * Chart.js v4.6.1")
    readme = (Path(__file__).resolve().parents[2] / "src/tonewatch/dashboard/static/vendor/README.md").read_text()
    assert hashlib.sha256(r.content).hexdigest() in readme
    templates = Path(__file__).resolve().parents[2] / "src/tonewatch/dashboard/templates"
    for t in templates.glob("*.j2"):
        assert not re.search(r'(src|href)="(https?:)?//', t.read_text()), t.name
    assert client.get("/static/dashboard.js").status_code == 200


def _is_png(data: bytes) -> bool:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return False
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    raw = zlib.decompress(data[idat + 4 : idat + 4 + length])
    return width > 0 and len(raw) == height * (width * 3 + 1)


def _b64d(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
