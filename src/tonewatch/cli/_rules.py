"""``tonewatch rules check|run|backtest``: validate, run and backtest a trigger playbook.

``check`` and ``backtest`` take a playbook file; ``run`` uses the active playbook
(``TONEWATCH_RULES_PATH`` or the bundled starter) unless one is given. Rule errors print the
file, line and field and exit 2.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ._store_cli import DB_OPTION, fail, open_store, parse_time, settings_for

if TYPE_CHECKING:
    from tonewatch.triggers import Playbook

__all__ = ["register"]

rules_app = typer.Typer(help="Validate, run and backtest the trigger playbook.", no_args_is_help=True)

_FORMAT = typer.Option("--format", help="table or json")


def _load(path: Path | None, db: str | None = None) -> Playbook:
    from tonewatch._errors import RuleValidationError
    from tonewatch.triggers import active_playbook

    try:
        return active_playbook(settings_for(db) if path is None else None, path)
    except RuleValidationError as exc:
        where = str(path) if path is not None else "playbook"
        fail(f"{where}: {exc.message}")


def _start(value: str, option: str) -> datetime:
    """A date means the start of that day (``--from``); a date-time is taken as given."""
    text = value.strip()
    if len(text) == 10:
        try:
            d = date.fromisoformat(text)
        except ValueError:
            fail(f"{option}: {value!r} is not an ISO date or date-time")
        return datetime(d.year, d.month, d.day, tzinfo=UTC)
    return parse_time(value, option)


@rules_app.command("check")
def check(
    rules: Annotated[Path | None, typer.Argument(help="Playbook YAML (default: the active playbook)")] = None,
    fmt: Annotated[Literal["table", "json"], _FORMAT] = "table",
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Validate a playbook; errors name the line and field, and exit 2 (``--db`` is not needed)."""
    playbook = _load(rules, db)
    if fmt == "json":
        typer.echo(json.dumps({"name": playbook.name, "rules": [r.summary() for r in playbook.rules]}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{playbook.source}: {len(playbook.rules)} rules OK")
    for column in ("rule", "on", "cooldown", "holdout", "priority", "actions (tier)"):
        table.add_column(column)
    from tonewatch.act import priority_name
    from tonewatch.triggers import format_duration

    for r in playbook.rules:
        on = "any" if len(r.on) >= 7 else ", ".join(sorted(r.on))
        holdout = "default" if r.holdout is None else f"{r.holdout:.0%}"
        actions = ", ".join(f"{a.type} ({a.tier.value})" for a in r.then)
        name = r.id if r.enabled else f"{r.id} (disabled)"
        table.add_row(name, on, format_duration(r.cooldown), holdout, priority_name(r.priority), actions)
    Console().print(table)


@rules_app.command("run")
def run(
    rules: Annotated[Path | None, typer.Argument(help="Playbook YAML (default: the active playbook)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Evaluate as of this time (default now)")] = None,
    fmt: Annotated[Literal["table", "json"], _FORMAT] = "table",
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Sweep every customer through the playbook now (or as of a time): the clock rules."""
    from tonewatch._errors import TonewatchError
    from tonewatch.triggers import TriggerHook

    from ._health import health_model

    settings = settings_for(db)
    playbook = _load(rules, db)
    when = parse_time(as_of) if as_of else datetime.now(UTC)
    store = open_store(db, settings)
    try:
        model = health_model(store, settings)
        hook = TriggerHook(playbook, settings)
        report = hook.sweep(store, when, weights=model.weights, segment_baselines=model.segment_baselines)
    except TonewatchError as exc:
        fail(exc.message)
    finally:
        store.dispose()
    fired = [f.to_dict() for f in hook.fired]
    if fmt == "json":
        typer.echo(json.dumps({"as_of": when.isoformat(), "customers": report.customers, "fired": fired}, indent=2))
        return
    typer.echo(f"{playbook.name}: {report.customers} customers swept as of {when.isoformat()}, {len(fired)} firings")
    for f in fired:
        actions = ", ".join(f"{a['action']}:{a['status']}" + (f"#{a['ref']}" if a["ref"] else "") for a in f["actions"])
        holdout = " [holdout]" if f["holdout"] else ""
        typer.echo(f"  {f['rule']:<32} {f['customer_id']:<20}{holdout} {actions}")


@rules_app.command("backtest")
def backtest_command(
    rules: Annotated[Path, typer.Argument(help="Playbook YAML to replay")],
    start: Annotated[str, typer.Option("--from", help="Start of the replay window (ISO date or date-time)")],
    end: Annotated[str, typer.Option("--to", help="End of the replay window (a date means the end of that day)")],
    fmt: Annotated[Literal["table", "json"], _FORMAT] = "table",
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Replay stored history day by day: whom each rule would have flagged, when, and who churned."""
    from tonewatch._errors import TonewatchError
    from tonewatch.ingest import iter_histories
    from tonewatch.store import Customer
    from tonewatch.triggers import backtest

    from ._health import health_model

    playbook = _load(rules)
    since, until = _start(start, "--from"), parse_time(end, "--to")
    if until <= since:
        fail("--to must be after --from")
    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        model = health_model(store, settings)
        with store.session(readonly=True) as session:
            from sqlalchemy import select

            attributes = {cid: dict(a or {}) for cid, a in session.execute(select(Customer.id, Customer.attributes))}
            histories = ((cid, attributes.get(cid, {}), h) for cid, h in iter_histories(session))
            result = backtest(playbook, histories, start=since, end=until, model=model, settings=settings)
    except TonewatchError as exc:
        fail(exc.message)
    finally:
        store.dispose()
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{playbook.name}: {result.customers} customers, {result.events} events, "
        f"{since.date().isoformat()} .. {until.date().isoformat()}"
    )
    for column in ("rule", "flagged", "firings", "first flags", "with outcome", "churned", "precision", "median lead"):
        table.add_column(column, justify="left" if column in ("rule", "first flags") else "right")
    for r in result.rules:
        days = r.flags_by_day()
        when = f"{min(days)} .. {max(days)}" if days else "-"
        precision = "-" if r.precision is None else f"{r.precision:.0%}"
        lead = "-" if r.median_lead_days is None else f"{r.median_lead_days:g} d"
        counts = (str(r.flagged), str(r.firings), when, str(r.with_outcome), str(r.churned))
        table.add_row(r.rule_id, *counts, precision, lead)
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
