"""The dashboard's pages and form handlers (server-rendered; not part of the API schema).

Browsers sign in with an API key and carry a signed session cookie; every form posts a
CSRF token. Scripts may send ``Authorization: Bearer <key>`` instead (no cookie, no CSRF
token needed). Each page requires the API permission whose data it shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tonewatch._errors import InputError, InvalidTransitionError, NotFoundError, TonewatchError

from ._access import AccessDenied, Visitor, home_for, identify
from ._render import html_page
from ._session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    check_login_token,
    new_login_token,
    same_token,
    write_session,
)

if TYPE_CHECKING:
    from tonewatch.api._services import Services

__all__ = ["build_router"]

_T = TypeVar("_T", bound=str)
_PNG_CHARTS = frozenset({"category-negative", "weekly-trend", "features"})
_FEATURES_FILE = "features.txt"


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _now() -> datetime:
    return datetime.now(UTC)


def _safe_next(value: str | None) -> str:
    """Only same-site paths: ``/x``, never ``//host`` or a scheme."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _context(request: Request, visitor: Visitor | None, title: str, **extra: Any) -> dict[str, Any]:
    settings = _services(request).settings
    return {
        "title": title,
        "visitor": visitor,
        "nav": visitor.nav if visitor else [],
        "path": request.url.path,
        "csrf": visitor.csrf if visitor else None,
        "policy": settings.visibility_policy,
        "min_group": settings.aggregate_min_group,
        "now": _now(),
        **extra,
    }


def _error_page(request: Request, visitor: Visitor | None, status: int, message: str) -> Response:
    titles = {401: "Sign-in needed", 403: "Not available to your role", 404: "Not found", 429: "Slow down"}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return html_page(
        "error.html.j2",
        status=status,
        headers=headers,
        **_context(request, visitor, titles.get(status, "Something went wrong"), code=status, message=message),
    )


Page = Callable[[Request, Visitor], Awaitable[Response]]


async def _guarded(request: Request, permission: str, page: Page) -> Response:
    """Authenticate, check the role, run the page; turn refusals into the right response."""
    services = _services(request)
    try:
        visitor = await identify(request, services)
    except AccessDenied as exc:
        return _error_page(request, None, exc.status, exc.message)
    if visitor is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if not visitor.may(permission):
        if request.url.path == "/" and request.method == "GET":
            return RedirectResponse(visitor.home, status_code=303)
        return _error_page(request, visitor, 403, f"The {visitor.role} role cannot open this page.")
    try:
        return await page(request, visitor)
    except AccessDenied as exc:
        return _error_page(request, visitor, exc.status, exc.message)
    except NotFoundError as exc:
        return _error_page(request, visitor, 404, exc.message)


async def _form(request: Request, visitor: Visitor) -> dict[str, str]:
    """The posted form; a browser session must send its CSRF token (bearer scripts need none)."""
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    if visitor.via == "session" and not same_token(visitor.csrf or "", data.get("csrf_token")):
        raise AccessDenied(
            403, "the form has expired or did not come from this dashboard; reload the page and try again"
        )
    return data


def _int(value: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(value or default), lo), hi)
    except ValueError:
        return default


def _choice(value: str | None, options: tuple[_T, ...], default: _T) -> _T:
    return next((o for o in options if o == value), default)


def _manifest(services: Services) -> dict[str, Any]:
    """The model's manifest (version, validated languages); reading it does not load the model."""
    manifest = getattr(services.analyzer, "manifest", None)
    if isinstance(manifest, dict):
        return manifest
    from tonewatch.score._model import BUNDLED_MODEL_DIR, read_manifest

    return read_manifest(services.settings.model_dir or BUNDLED_MODEL_DIR)


def _features(services: Services) -> list[str] | None:
    """The operator's feature list (``<home>/features.txt``, one per line), if there is one."""
    path = Path(services.settings.home) / _FEATURES_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    names = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return names or None


def build_router() -> APIRouter:
    """Every dashboard route; ``mount_dashboard`` includes it in an app."""
    router = APIRouter(include_in_schema=False)

    # -- sign in and out ------------------------------------------------------------------------
    @router.get("/login")
    async def login_page(request: Request) -> Response:
        services = _services(request)
        try:
            visitor = await identify(request, services)
        except AccessDenied:
            visitor = None
        next_path = _safe_next(request.query_params.get("next"))
        if visitor is not None:
            return RedirectResponse(next_path if next_path != "/" else visitor.home, status_code=303)
        return _login_form(request, next_path, None, 200)

    @router.post("/login")
    async def login(request: Request) -> Response:
        services = _services(request)
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        next_path = _safe_next(data.get("next"))
        if not check_login_token(
            data.get("csrf_token"), request.cookies.get(LOGIN_COOKIE), services.settings.secret_key
        ):
            return _login_form(request, next_path, "The sign-in form expired; please try again.", 400)
        key = (data.get("api_key") or "").strip()
        info = await run_in_threadpool(services.verify_key, key) if key else None
        if info is None:
            return _login_form(request, next_path, "Unknown or revoked API key.", 401)
        response = RedirectResponse(home_for(info.role) if next_path == "/" else next_path, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            write_session(info.id, info.role, info.name, services.settings.secret_key),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        async def page(request: Request, visitor: Visitor) -> Response:
            await _form(request, visitor)
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

        return await _guarded(request, "customers.read", page)

    def _login_form(request: Request, next_path: str, error: str | None, status: int) -> Response:
        services = _services(request)
        nonce, token = new_login_token(services.settings.secret_key)
        response = html_page(
            "login.html.j2",
            status=status,
            **_context(request, None, "Sign in", login_token=token, next=next_path, error=error),
        )
        response.set_cookie(
            LOGIN_COOKIE,
            nonce,
            max_age=3600,
            httponly=True,
            samesite="strict",
            path="/login",
            secure=request.url.scheme == "https",
        )
        return response

    # -- overview -------------------------------------------------------------------------------
    @router.get("/")
    async def overview(request: Request) -> Response:
        from ._overview import GROUPINGS, build_overview

        async def page(request: Request, visitor: Visitor) -> Response:
            services = _services(request)
            by = _choice(request.query_params.get("by"), GROUPINGS, "channel")
            weeks = _int(request.query_params.get("weeks"), 12, 4, 52)

            def build() -> Any:
                with services.store.session(readonly=True) as session:
                    return build_overview(session, visitor.viewer, now=_now(), by=by, weeks=weeks)

            data = await run_in_threadpool(build)
            return html_page(
                "overview.html.j2", **_context(request, visitor, "Overview", data=data, groupings=GROUPINGS)
            )

        return await _guarded(request, "aggregates.read", page)

    # -- at-risk customers ------------------------------------------------------------------------
    @router.get("/at-risk")
    async def at_risk(request: Request) -> Response:
        from ._atrisk import BAND_FILTERS, SORTS, build_at_risk

        async def page(request: Request, visitor: Visitor) -> Response:
            services = _services(request)
            sort = _choice(request.query_params.get("sort"), SORTS, "health")
            descending = request.query_params.get("dir") == "desc"
            band = _choice(request.query_params.get("band"), BAND_FILTERS, "bad")

            def build() -> Any:
                with services.store.session(readonly=True) as session:
                    return build_at_risk(
                        session,
                        visitor.viewer,
                        now=_now(),
                        sort=sort,
                        descending=descending,
                        band=band,
                    )

            data = await run_in_threadpool(build)
            return html_page(
                "at_risk.html.j2",
                **_context(request, visitor, "At-risk customers", data=data, bands=BAND_FILTERS),
            )

        return await _guarded(request, "customers.read", page)

    # -- one customer -----------------------------------------------------------------------------
    @router.get("/customers/{customer_id:path}")
    async def customer(request: Request, customer_id: str) -> Response:
        async def page(request: Request, visitor: Visitor) -> Response:
            return await _customer_page(request, visitor, customer_id, None, 200)

        return await _guarded(request, "customers.read", page)

    async def _customer_page(
        request: Request, visitor: Visitor, customer_id: str, error: str | None, status: int
    ) -> Response:
        from ._customer import build_customer
        from ._labelling import LABEL_CHOICES

        if not 1 <= len(customer_id) <= 200:
            raise NotFoundError("no such customer")
        data = await run_in_threadpool(build_customer, _services(request), visitor, customer_id, now=_now())
        name = data.data["attributes"].get("name") or customer_id
        labelled = request.query_params.get("labelled") if error is None else None
        own = data.own_labels.get(labelled or "")
        notice = f"Saved: your label for message {labelled} is {own}." if own else None
        return html_page(
            "customer.html.j2",
            status=status,
            **_context(request, visitor, str(name), page=data, labels=LABEL_CHOICES, error=error, notice=notice),
        )

    # -- labelling a message ----------------------------------------------------------------------
    @router.post("/messages/{event_id:path}/label")
    async def label(request: Request, event_id: str) -> Response:
        from ._labelling import label_message, message_customer

        async def page(request: Request, visitor: Visitor) -> Response:
            if not 1 <= len(event_id) <= 200:
                raise NotFoundError("no such message")
            form = await _form(request, visitor)
            services = _services(request)
            customer_id = await run_in_threadpool(message_customer, services, event_id)
            try:
                await run_in_threadpool(label_message, services, visitor, event_id, form)
            except InputError as exc:
                return await _customer_page(request, visitor, customer_id, exc.message, 422)
            target = f"/customers/{quote(customer_id, safe='')}?{urlencode({'labelled': event_id})}"
            return RedirectResponse(f"{target}#event-{quote(event_id, safe='')}", status_code=303)

        return await _guarded(request, "feedback.write", page)

    # -- review queue -----------------------------------------------------------------------------
    @router.get("/review")
    async def review(request: Request) -> Response:
        async def page(request: Request, visitor: Visitor) -> Response:
            return await _review_page(request, visitor, None, 200)

        return await _guarded(request, "review.read", page)

    async def _review_page(request: Request, visitor: Visitor, error: str | None, status: int) -> Response:
        from ._review import MAX_ITEMS, PAGE_SIZE, STATUS_FILTERS, build_review

        services = _services(request)
        wanted = _choice(request.query_params.get("status"), STATUS_FILTERS, "open")
        limit = _int(request.query_params.get("limit"), PAGE_SIZE, 1, MAX_ITEMS)
        data = await run_in_threadpool(build_review, services, visitor, status=wanted, now=_now(), limit=limit)
        return html_page(
            "review.html.j2",
            status=status,
            **_context(
                request,
                visitor,
                "Review queue",
                data=data,
                filters=STATUS_FILTERS,
                error=error,
                notice=request.query_params.get("done"),
            ),
        )

    @router.post("/review/{item_id}/{verb}")
    async def review_action(request: Request, item_id: str, verb: str) -> Response:
        from ._review import VERBS, act_on_item

        async def page(request: Request, visitor: Visitor) -> Response:
            if verb not in VERBS or not item_id.isdigit() or not 1 <= int(item_id) < 2**62:
                raise NotFoundError("no such review action")
            form = await _form(request, visitor)
            try:
                item = await run_in_threadpool(act_on_item, _services(request), visitor, int(item_id), verb, form)
            except InvalidTransitionError as exc:
                return await _review_page(request, visitor, exc.message, 409)
            except (InputError, TonewatchError) as exc:
                if isinstance(exc, NotFoundError):
                    raise
                return await _review_page(request, visitor, exc.message, 422)
            back = _choice(form.get("status"), ("open", "pending", "snoozed", "decided", "all"), "open")
            done = f"Item {item['id']} ({item['action']} for {item['customer_id']}) is now {item['status']}."
            return RedirectResponse(f"/review?{urlencode({'status': back, 'done': done})}", status_code=303)

        return await _guarded(request, "review.act", page)

    # -- rules ------------------------------------------------------------------------------------
    @router.get("/rules")
    async def rules(request: Request) -> Response:
        from ._rules import build_rules, run_backtest

        async def page(request: Request, visitor: Visitor) -> Response:
            services = _services(request)
            start = _date(request.query_params.get("from"))
            end = _date(request.query_params.get("to"))

            def build() -> Any:
                data = build_rules(services, visitor.viewer, now=_now())
                if start is not None and end is not None:
                    run_backtest(services, visitor.viewer, data, start, end)
                return data

            data = await run_in_threadpool(build)
            today = _now().date()
            return html_page(
                "rules.html.j2",
                **_context(
                    request,
                    visitor,
                    "Rules",
                    data=data,
                    default_from=(start or today - timedelta(days=30)).isoformat(),
                    default_to=(end or today).isoformat(),
                ),
            )

        return await _guarded(request, "rules.read", page)

    # -- model health -----------------------------------------------------------------------------
    @router.get("/model")
    async def model_health(request: Request) -> Response:
        from ._model_health import build_model_health

        async def page(request: Request, visitor: Visitor) -> Response:
            services = _services(request)

            def build() -> Any:
                from tonewatch.api.routes.models import models_overview

                from ._learning import build_learning_panels

                manifest = _manifest(services)
                with services.store.session(readonly=True) as session:
                    health = build_model_health(session, visitor.viewer, manifest, now=_now())
                    labels = visitor.may("feedback.read")
                    learning = build_learning_panels(session, visitor.viewer, may_read_labels=labels)
                # the registry listing is what GET /v1/models returns, for the same roles (models.read)
                registry = models_overview(services, history=10) if visitor.may("models.read") else None
                return health, learning, registry

            data, learning, registry = await run_in_threadpool(build)
            return html_page(
                "model_health.html.j2",
                **_context(request, visitor, "Model health", data=data, learning=learning, registry=registry),
            )

        return await _guarded(request, "aggregates.read", page)

    # -- monthly report ---------------------------------------------------------------------------
    async def _report(request: Request, visitor: Visitor) -> Any:
        from ._monthly import build_monthly_report, latest_month

        services = _services(request)
        wanted = request.query_params.get("month")

        def build() -> Any:
            with services.store.session(readonly=True) as session:
                month = wanted or latest_month(session, _now())
                return build_monthly_report(
                    session, month, min_group=visitor.viewer.min_group, features=_features(services), now=_now()
                )

        try:
            return await run_in_threadpool(build)
        except ValueError as exc:
            raise InputError(str(exc), field="month") from None

    @router.get("/reports/monthly")
    async def monthly(request: Request) -> Response:
        async def page(request: Request, visitor: Visitor) -> Response:
            try:
                report = await _report(request, visitor)
            except InputError as exc:
                return _error_page(request, visitor, 422, exc.message)
            return html_page(
                "monthly.html.j2", **_context(request, visitor, f"Monthly report {report.month}", report=report)
            )

        return await _guarded(request, "aggregates.read", page)

    @router.get("/reports/monthly.csv")
    async def monthly_csv(request: Request) -> Response:
        async def page(request: Request, visitor: Visitor) -> Response:
            try:
                report = await _report(request, visitor)
            except InputError as exc:
                return _error_page(request, visitor, 422, exc.message)
            return Response(
                report.to_csv(),
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="tonewatch-report-{report.month}.csv"',
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                },
            )

        return await _guarded(request, "aggregates.read", page)

    @router.get("/reports/monthly.html")
    async def monthly_html(request: Request) -> Response:
        async def page(request: Request, visitor: Visitor) -> Response:
            from ._export import monthly_html as export

            try:
                report = await _report(request, visitor)
            except InputError as exc:
                return _error_page(request, visitor, 422, exc.message)
            body = await run_in_threadpool(export, report)
            return Response(
                body,
                media_type="text/html; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="tonewatch-report-{report.month}.html"',
                    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                },
            )

        return await _guarded(request, "aggregates.read", page)

    @router.get("/reports/monthly/{chart}.png")
    async def monthly_png(request: Request, chart: str) -> Response:
        async def page(request: Request, visitor: Visitor) -> Response:
            from ._raster import render_chart_png

            if chart not in _PNG_CHARTS:
                raise NotFoundError("no such chart")
            try:
                report = await _report(request, visitor)
            except InputError as exc:
                return _error_page(request, visitor, 422, exc.message)
            spec = next(s for s in report.charts() if s.id == chart)
            png = await run_in_threadpool(render_chart_png, spec)
            return Response(
                png,
                media_type="image/png",
                headers={
                    "Content-Disposition": f'inline; filename="tonewatch-{chart}-{report.month}.png"',
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                },
            )

        return await _guarded(request, "aggregates.read", page)

    return router


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
