"""``tonewatch report impact``: treated versus holdout retention and CSAT, with 95% intervals."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import typer

from ._store_cli import DB_OPTION, fail, open_store, parse_time, settings_for

__all__ = ["register"]

report_app = typer.Typer(help="Reports on the proactive-support program.", no_args_is_help=True)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ci(ci: list[float | None] | None, pct: bool = True) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "-"
    return f"[{ci[0]:.1%}, {ci[1]:.1%}]" if pct else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


@report_app.command("impact")
def impact(
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule")] = None,
    since: Annotated[str | None, typer.Option("--from", help="Firings from this time")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Firings up to this time")] = None,
    relink: Annotated[bool, typer.Option(help="Link stored outcomes to firings first (idempotent)")] = True,
    iterations: Annotated[int, typer.Option("--bootstrap", min=200, help="Bootstrap resamples")] = 2000,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Compare treated and holdout customers (intention to treat) on retention and CSAT."""
    from tonewatch._errors import TonewatchError
    from tonewatch.outcomes import OutcomeLinker, impact_reports

    start = parse_time(since, "--from") if since else None
    end = parse_time(until, "--to") if until else None
    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        if relink:
            with store.session() as session:
                OutcomeLinker(session).relink()
        with store.session(readonly=True) as session:
            reports = [
                r.to_dict()
                for r in impact_reports(session, rule_id=rule, since=start, until=end, iterations=iterations)
            ]
    except TonewatchError as exc:
        fail(exc.message)
    finally:
        store.dispose()
    if fmt == "json":
        typer.echo(json.dumps(reports, indent=2))
        return
    _print(reports)


def _print(reports: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="impact: treated vs holdout (intention to treat, 95% intervals)")
    for column in (
        "rule",
        "group",
        "flagged",
        "outcomes",
        "retention",
        "95% CI",
        "CSAT",
        "95% CI",
        "retention diff",
        "CSAT diff",
    ):
        table.add_column(column)
    for r in reports:
        diff = r["retention_difference"]
        cdiff = r["csat_difference"]
        for group in ("treated", "holdout"):
            g = r[group]
            first = group == "treated"
            rd = (
                f"{diff['estimate']:+.1%} {_ci(diff['ci'])}" + (" *" if diff["significant"] else "")
                if first and diff["estimate"] is not None
                else ""
            )
            cd = (
                f"{cdiff['estimate']:+.3f} {_ci(cdiff['ci'], pct=False)}" + (" *" if cdiff["significant"] else "")
                if first and cdiff["estimate"] is not None
                else ""
            )
            table.add_row(
                r["rule"] if first else "",
                group,
                str(g["flagged"]),
                str(g["with_outcome"]),
                _pct(g["retention"]),
                _ci(g["retention_ci"]),
                "-" if g["csat_mean"] is None else f"{g['csat_mean']:.3f}",
                _ci(g["csat_ci"], pct=False),
                rd,
                cd,
            )
    Console().print(table)
    typer.echo("* the 95% interval of the difference excludes zero. CSAT is normalised to 0..1.")


def register(app: typer.Typer) -> None:
    from tonewatch.dashboard._cli import monthly  # the monthly report lives with the dashboard

    report_app.command("monthly")(monthly)
    app.add_typer(report_app, name="report")
