"""``tonewatch drift report``: is the traffic drifting away from what the model was doing well on?

Computed from the store alone (no model run), so it is cheap to schedule (cron, a Kubernetes
CronJob). Each run is recorded unless ``--no-record``: the dashboard and ``/metrics`` show the
latest one, and a measure that newly crosses its threshold is announced once (audit log and a
``drift.alert`` webhook).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._store_cli import DB_OPTION, fail, open_store, parse_time, settings_for

if TYPE_CHECKING:
    from tonewatch.learn import DriftReport, RecordedDrift

__all__ = ["register"]

drift_app = typer.Typer(help="Drift of the traffic against a reference window.", no_args_is_help=True)


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "psi":
        return f"{value:.3f}"
    if kind == "points":
        return f"{value * 100:+.1f} pts"
    if kind == "relative":
        return f"{value:+.1%}"
    if kind == "number":
        return f"{value:.2f}"
    return f"{value:.1%}"


def _print_report(report: DriftReport, recorded: RecordedDrift | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ref, cur = report.reference, report.current
    console.print(
        f"reference {ref.window.start:%Y-%m-%d %H:%M} .. {ref.window.end:%Y-%m-%d %H:%M}: {ref.messages} messages; "
        f"current {cur.window.start:%Y-%m-%d %H:%M} .. {cur.window.end:%Y-%m-%d %H:%M}: {cur.messages} messages"
    )
    if not report.enough_data:
        console.print(
            f"[yellow]not enough data[/]: each window needs at least {report.min_messages} scored customer messages"
        )
    table = Table(title="drift measures")
    for column in ("measure", "reference", "current", "change / value", "alert at", "status"):
        table.add_column(column)
    for row in report.rows():
        kind = row["format"]
        side = "number" if kind == "relative" else "percent"
        threshold = row["threshold"]
        limit = "-" if threshold is None else _fmt(threshold, "psi" if kind == "psi" else "percent")
        status = "[bold red]ALERT[/]" if row["alert"] else ("-" if row["value"] is None else "ok")
        if not row["alert"] and row["value"] is not None and threshold is None:
            status = "info"
        table.add_row(
            row["measure"],
            _fmt(row["reference"], side),
            _fmt(row["current"], side),
            _fmt(row["value"], kind),
            limit,
            status,
        )
    console.print(table)
    if report.new_terms:
        terms = Table(title="new frequent terms")
        for column in ("term", "messages now", "in the reference", "lift"):
            terms.add_column(column)
        for t in report.new_terms:
            terms.add_row(t.term, str(t.current), str(t.reference), f"{t.lift:.1f}x")
        console.print(terms)
    for name, stats in (("reference", ref), ("current", cur)):
        versions = ", ".join(f"{v} ({n})" for v, n in sorted(stats.model_versions.items())) or "none"
        console.print(f"model versions in the {name} window: {versions}")
    for alert in report.alerts:
        console.print(f"[bold red]alert[/] {alert.measure}: {alert.message}")
    if recorded is not None:
        raised = f"; raised {', '.join(a.measure for a in recorded.raised)}" if recorded.raised else ""
        console.print(f"recorded as drift report #{recorded.id}{raised}")


@drift_app.command("report")
def report_cmd(
    reference: Annotated[
        str | None, typer.Option("--reference", help="Reference window START..END (ISO dates or date-times)")
    ] = None,
    reference_days: Annotated[
        float | None, typer.Option("--reference-days", min=0.01, help="Reference: the N days before the current window")
    ] = None,
    current_days: Annotated[
        float | None, typer.Option("--current-days", min=0.01, help="Current window: the last N days")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="End of the current window (default: the newest message)")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write drift.json and drift.html into this folder")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    record: Annotated[bool, typer.Option("--record/--no-record", help="Store the report and raise alerts")] = True,
    actor: Annotated[str, typer.Option("--actor", help="Who ran the check (audit log)")] = "cli:drift",
    fail_on_alert: Annotated[
        bool, typer.Option("--fail-on-alert", help="Exit 1 while any measure is past its threshold")
    ] = False,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Compare the current window with the reference: PSI of scores and labels, new words, low confidence."""
    from tonewatch._errors import InputError, StoreError
    from tonewatch.learn import compute_drift, parse_window, record_drift

    if reference is not None and reference_days is not None:
        fail("give --reference or --reference-days, not both")
    settings = settings_for(db)
    end = parse_time(as_of) if as_of else None
    store = open_store(db, settings)
    recorded = None
    try:
        window = parse_window(reference) if reference is not None else None
        with store.session(readonly=True) as session:
            report = compute_drift(
                session,
                settings,
                as_of=end,
                current_days=current_days,
                reference_days=reference_days,
                reference=window,
                now=datetime.now(UTC),
            )
        if record:
            with store.session() as session:
                recorded = record_drift(session, report, actor=actor)
    except InputError as exc:
        fail(exc.message)
    except StoreError as exc:
        fail(exc.message, 1)
    finally:
        store.dispose()
    if out is not None:
        from tonewatch.dashboard._drift_export import write_drift_files

        try:
            paths = write_drift_files(report, out)
        except OSError as exc:
            fail(f"cannot write into {out}: {exc.strerror or exc}")
        typer.echo(f"wrote {', '.join(str(p) for p in paths)}", err=True)
    if as_json:
        payload = report.to_dict()
        if recorded is not None:
            payload["recorded"] = {"id": recorded.id, "raised": [a.measure for a in recorded.raised]}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        _print_report(report, recorded)
    if fail_on_alert and report.alerts:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(drift_app, name="drift")
