"""``tonewatch generate`` (the demo company's history as JSONL) and ``tonewatch demo`` (the whole loop).

``generate`` is the generator on its own, for benchmarks and tests; ``demo`` generates (or
reuses) the history under the tonewatch home, ingests it through the production pipeline
with the active playbook, and either serves the API and dashboard or prints what it found.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from ._display import stage_progress

if TYPE_CHECKING:
    from rich.console import Console

    from tonewatch.demo import DemoSummary

__all__ = ["register"]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--start: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write; - for standard output")],
    customers: Annotated[int, typer.Option(min=1, max=100_000, help="Number of customers")] = 300,
    months: Annotated[int, typer.Option(min=1, max=36, help="Months of history")] = 6,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives byte-identical output")] = 7,
    start: Annotated[str | None, typer.Option(help="First day of the history (YYYY-MM-DD)")] = None,
    truth: Annotated[
        Path | None, typer.Option(help="Also write each customer's archetype and outcome (JSON) here")
    ] = None,
) -> None:
    """Write the support history of Northwind Cloud, a fictional SaaS company, as v1 events."""
    from tonewatch.demo import DEFAULT_START, dumps_event, generate, ground_truth, write_jsonl

    first = _parse_date(start) or DEFAULT_START
    events = generate(customers=customers, months=months, seed=seed, start=first)
    if str(out) == "-":
        n = 0
        for n, event in enumerate(events, start=1):  # noqa: B007 - n is the count afterwards
            sys.stdout.write(dumps_event(event) + "\n")
    else:
        n = write_jsonl(events, out)
    if truth is not None:
        ground_truth(customers=customers, months=months, seed=seed, start=first).write(truth)
    where = "standard output" if str(out) == "-" else str(out)
    typer.echo(f"wrote {n} events for {customers} customers over {months} months to {where}", err=True)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_summary(console: Console, summary: DemoSummary, rejected: int) -> None:
    from rich.table import Table

    acc = summary.accuracy
    bands = ", ".join(f"{n} {b}" for b, n in summary.bands.items())
    console.print(f"\n[bold]Northwind Cloud as of {summary.as_of:%Y-%m-%d}[/]: {summary.customers} customers ({bands})")

    console.print("\n[bold]Most at-risk customers[/] (why, from the health breakdown)")
    for c in summary.top_at_risk:
        console.print(
            f"[bold]{c.customer_id}[/] {c.name} ({c.segment}): health {c.health:.0f}, [red]{c.band}[/]"
            f"  [dim]generated as {c.archetype}[/]"
        )
        for reason in c.reasons:
            console.print(f"    - {_clip(reason, 130)}", highlight=False)

    queue = Table(title=f"\nReview queue: {summary.queue_open} open items", title_justify="left")
    for col in ("id", "customer", "rule", "tier", "action", "due"):
        queue.add_column(col, no_wrap=True)
    for q in summary.queue:
        queue.add_row(str(q.id), q.customer_id, q.rule or "-", q.tier, q.action, q.due[:16].replace("T", " "))
    console.print(queue)

    hits = Table(title=f"Rule hits ({summary.holdout_hits} in holdout groups)", title_justify="left")
    hits.add_column("rule", no_wrap=True)
    hits.add_column("firings", justify="right")
    for rule, n in summary.rule_hits.items():
        hits.add_row(rule, str(n))
    console.print(hits)

    truth = Table(title="Health bands against the generator's ground truth", title_justify="left")
    truth.add_column("archetype", no_wrap=True)
    for col in ("customers", "ever at-risk/critical", "churned", "flagged before churn"):
        truth.add_column(col, justify="right")
    truth.add_column("bands now (customers still here)")
    for row in acc.archetypes:
        truth.add_row(
            row.archetype,
            str(row.customers),
            f"{row.flagged} ({row.flagged / row.customers:.0%})" if row.customers else "0",
            str(row.churned),
            f"{row.churned_flagged}/{row.churned}" if row.churned else "-",
            ", ".join(f"{n} {b}" for b, n in row.bands.items()),
        )
    console.print(truth)
    lead = f", a median {acc.median_lead_days:.0f} days ahead" if acc.median_lead_days is not None else ""
    console.print(
        f"Churners flagged at-risk/critical before they churned: [bold]{acc.churners_flagged}/{acc.churners} "
        f"({acc.churn_recall:.0%})[/]{lead}; a rule fired on {acc.churners_rule_flagged} ({acc.rule_recall:.0%})."
    )
    console.print(
        "Customers who renewed or expanded but were at-risk/critical in the 120 days before: "
        f"{acc.retained_flagged}/{acc.retained} ({acc.false_alarm_rate:.0%})."
    )
    verified = "chain verified" if summary.audit_verified else "[red]chain NOT verified[/]"
    console.print(f"Audit log: {summary.audit_entries} entries, {verified}.")
    if rejected:
        console.print(f"[red]{rejected} generated events were rejected by the pipeline.[/]")
    for what in summary.missing:
        console.print(f"[yellow]Not available yet: {what}[/]")


def demo(
    customers: Annotated[
        int | None,
        typer.Option(min=1, max=5_000, help="Customers (default: sized to finish in about two minutes on two cores)"),
    ] = None,
    months: Annotated[int, typer.Option(min=1, max=24, help="Months of history")] = 6,
    seed: Annotated[int, typer.Option(help="Random seed of the generated company")] = 7,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: a SQLite file under <home>/demo/)")
    ] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the server, or print a summary")] = True,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    fresh: Annotated[bool, typer.Option("--fresh", help="Regenerate the data and rebuild the demo database")] = False,
    output: Annotated[Literal["table", "json"], typer.Option("--format", help="Summary as tables or JSON")] = "table",
) -> None:
    """Run the whole loop on Northwind Cloud, a generated company: ingest, score, rules, review queue, audit."""
    from rich.console import Console

    from tonewatch._errors import ConfigurationError, TonewatchError
    from tonewatch.demo import DEMO_CUSTOMERS, ingest_demo, prepare_data, write_meta
    from tonewatch.settings import Settings

    console = Console(stderr=output == "json")
    if not console.is_terminal:
        console = Console(stderr=output == "json", width=140)  # piped output: do not squeeze to 80 columns
    try:
        base = Settings()
    except ConfigurationError as exc:
        raise _fail(exc.message) from None
    folder = base.home / "demo"
    demo_db = folder / "tonewatch.db"
    url = db or f"sqlite:///{demo_db.as_posix()}"
    settings = base.model_copy(update={"db_url": url})

    labels = {"generate": "Generating Northwind Cloud", "ingest": "Ingesting (mask, score, rules)"}
    with stage_progress(console, labels, disable=output == "json") as stages:
        data = prepare_data(
            folder,
            customers=customers or DEMO_CUSTOMERS,
            months=months,
            seed=seed,
            fresh=fresh,
            progress=stages.advance,
        )
        if db is None and (fresh or not data.reused):
            _remove_sqlite(demo_db)
        elif db is not None and fresh:
            console.print("[yellow]--fresh never empties a database given with --db; events are re-ingested.[/]")
        try:
            from tonewatch.store import Store

            store = Store.from_settings(settings)
            store.create_all()
        except ImportError as exc:
            raise _fail(f"the store is not available ({exc})") from None
        except TonewatchError as exc:
            raise _fail(exc.message) from None
        ingested = data.meta.get("ingested") or {}
        rejected = 0
        try:
            if ingested.get(url) != data.digest or not _has_customers(store):
                try:
                    outcome = ingest_demo(data, store, settings, progress=stages.advance)
                except ImportError as exc:
                    raise _fail(f"the ingest pipeline or the playbook is not available ({exc})") from None
                rejected = outcome.rejected
                for line in outcome.rejections:
                    console.print(f"[red]rejected {line}[/]")
                data = write_meta(data, ingested={**ingested, url: data.digest})
                console.print(
                    f"Ingested {outcome.accepted} events in {outcome.seconds:.0f}s "
                    f"({outcome.sweeps} weekly sweeps, {outcome.firings} rule firings)."
                )
            else:
                console.print(f"Reusing the demo data already ingested into {url}.")
        except TonewatchError as exc:
            store.dispose()
            raise _fail(exc.message, 1) from None

    from tonewatch.demo import summarize

    summary = summarize(store, data.truth(), datetime.combine(data.end, time(0), UTC))
    if not serve:
        store.dispose()
        if output == "json":
            typer.echo(json.dumps({"data": data.meta, "summary": summary.to_dict()}, indent=2, default=str))
        else:
            _print_summary(console, summary, rejected)
        return
    bands = ", ".join(f"{n} {b}" for b, n in summary.bands.items())
    console.print(
        f"{summary.customers} customers ({bands}); {summary.queue_open} review items open; "
        f"{sum(summary.rule_hits.values())} rule firings; {summary.audit_entries} audit entries."
    )
    _serve(console, store, settings, host, port)


def _has_customers(store: Any) -> bool:
    from sqlalchemy import func, select

    from tonewatch.store import Customer

    with store.session(readonly=True) as session:
        return bool(session.scalar(select(func.count()).select_from(Customer)))


def _serve(console: Console, store: Any, settings: Any, host: str, port: int) -> None:
    """Print a demo key, then run the API (and dashboard) on the demo database."""
    try:
        import uvicorn

        from tonewatch.api import create_app, create_key
        from tonewatch.audit import AuditLog
    except ImportError as exc:
        raise _fail(f"the server is not available yet ({exc}); use --no-serve for the summary") from None
    with store.session() as session:
        new = create_key(session, "admin", name="demo")
        AuditLog(session).record("cli", "api_key.create", f"api_key:{new.info.id}", {"role": "admin", "name": "demo"})
    url = f"http://{host}:{port}"
    app = create_app(settings, store=store)
    # Included routers are not listed by path on every FastAPI version; the dashboard's static mount is.
    served = any(getattr(route, "name", "") == "dashboard-static" for route in app.routes)
    dashboard = f"dashboard: {url}/ (sign in with the key below)" if served else "no dashboard in this build"
    console.print(f"\n[bold]tonewatch demo[/] on {url}  ({dashboard}; API docs: {url}/docs)")
    console.print(f"Demo API key (admin): [bold]{new.key}[/]")
    console.print(f'Try: curl -H "Authorization: Bearer {new.key}" {url}/v1/customers')
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("demo")(demo)
