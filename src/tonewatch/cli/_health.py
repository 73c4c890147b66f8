"""``tonewatch health`` (customers by risk, with the reasons) and ``tonewatch health fit``.

``health`` reports as of now from the stored states, or replays the stored history up to
``--as-of``. ``health fit`` learns weights from outcome events on a time-based split and
saves them to the weights file every later report (and the pipeline) uses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from ._store_cli import DB_OPTION, fail, open_store, parse_duration, parse_time, settings_for

if TYPE_CHECKING:
    from tonewatch.ingest._history import CustomerReport
    from tonewatch.ingest._state import HealthModel
    from tonewatch.settings import Settings
    from tonewatch.store import Store

__all__ = ["health_model", "register"]

health_app = typer.Typer(
    help="Customer health, most at risk first (subcommand: fit).", invoke_without_command=True, no_args_is_help=False
)

_BAND_STYLE = {"healthy": "green", "watch": "yellow", "at-risk": "dark_orange", "critical": "bold red"}
_WEIGHTS_OPTION = typer.Option("--weights", help="Health weights YAML (default: the deployment's weights file)")


def health_model(store: Store, settings: Settings, weights_file: Path | None = None) -> HealthModel:
    """The weights and segment baselines every report of a command uses."""
    from tonewatch._errors import TonewatchError
    from tonewatch.ingest._baselines import segment_baselines
    from tonewatch.ingest._state import HealthModel
    from tonewatch.ingest._weights import load_weights

    try:
        weights = load_weights(settings, weights_file)
        with store.session(readonly=True) as session:
            baselines = segment_baselines(session)
    except TonewatchError as exc:
        fail(exc.message)
    return HealthModel(weights, baselines)


def _trend(d: dict[str, Any]) -> str:
    level, slope = d.get("level"), d.get("slope")
    text = "-" if level is None else f"{level:+.2f}"
    if slope is not None:
        text += f" ({slope:+.3f}/d)"
    return text + (" declining" if d.get("declining") else "")


def _print_table(reports: list[CustomerReport]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(reports)} customers, most at risk first", title_justify="left")
    for col in ("customer", "health", "band", "trend", "main factors", "flags"):
        table.add_column(col, justify="right" if col == "health" else "left", overflow="fold")
    for item in reports:
        d = item.report.to_dict()
        worst = [f for f in d["factors"] if f["points"] < 0][:3]
        factors = "; ".join(f"{f['name']} {f['points']:+.0f}" for f in worst) or "-"
        band = d["band"]
        table.add_row(
            item.customer_id,
            f"{d['health']:.0f}",
            f"[{_BAND_STYLE.get(band, '')}]{band}[/]",
            _trend(d["trend"]),
            factors,
            ", ".join(d["flags"]) or "-",
        )
    Console().print(table)


@health_app.callback()
def health(
    ctx: typer.Context,
    db: Annotated[str | None, DB_OPTION] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Replay stored history up to this time")] = None,
    customer: Annotated[list[str] | None, typer.Option("--customer", help="Only this customer (repeatable)")] = None,
    output: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
    weights: Annotated[Path | None, _WEIGHTS_OPTION] = None,
) -> None:
    """Every customer's health, band, trend, factors and flags, most at risk first."""
    if ctx.invoked_subcommand is not None:
        return
    from datetime import UTC, datetime

    from tonewatch._errors import TonewatchError
    from tonewatch.ingest._history import reports_as_of
    from tonewatch.store import Customer

    when = parse_time(as_of) if as_of else datetime.now(UTC)
    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        model = health_model(store, settings, weights)
        with store.session(readonly=True) as session:
            if customer:
                missing = [c for c in customer if session.get(Customer, c) is None]
                if missing:
                    fail(f"no such customer: {', '.join(missing)}")
            reports = reports_as_of(session, model, when, customer_ids=customer, replay=as_of is not None)
    except TonewatchError as exc:
        fail(exc.message, 1)
    finally:
        store.dispose()
    if output == "json":
        typer.echo(json.dumps([r.report.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        _print_table(reports)


@health_app.command("fit")
def fit(
    db: Annotated[str | None, DB_OPTION] = None,
    horizon: Annotated[str, typer.Option(help="Churn within this long after a sample counts (e.g. 60d)")] = "60d",
    step: Annotated[str, typer.Option(help="Sample each customer's factors this often")] = "30d",
    save: Annotated[bool, typer.Option(help="Save the learned weights to the weights file")] = True,
    out: Annotated[Path | None, typer.Option("--out", help="Weights file to write (default: the deployment's)")] = None,
    output: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Learn health weights from outcome events; print the AUC on a time-based split and the weights."""
    from rich.console import Console
    from rich.table import Table

    from tonewatch._errors import TonewatchError
    from tonewatch.health import HealthWeights, fit_weights
    from tonewatch.ingest._history import fit_rows
    from tonewatch.ingest._state import HealthModel
    from tonewatch.ingest._weights import load_weights, save_weights

    h = parse_duration(horizon, "--horizon")
    s = parse_duration(step, "--step")
    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        current = load_weights(settings) or HealthWeights()
        with store.session(readonly=True) as session:
            data = fit_rows(session, HealthModel(current), horizon=h, step=s)
        if data.churned == 0:
            fail("no churned outcome events in the store: health fit needs outcome events to learn from", 1)
        result = fit_weights(data.rows, times=data.times, current=current)
        path = save_weights(settings, result.weights, out) if save else None
    except TonewatchError as exc:
        fail(exc.message, 1)
    finally:
        store.dispose()
    if output == "json":
        doc = result.to_dict() | {"customers": data.customers, "saved_to": None if path is None else str(path)}
        typer.echo(json.dumps(doc, indent=2))
        return
    console = Console()

    def auc(v: float | None) -> str:
        return "n/a (one class only)" if v is None else f"{v:.3f}"

    console.print(
        f"{len(data.rows)} samples from {data.customers} customers ({data.churned} churned), horizon {horizon}"
    )
    console.print(f"AUC on the latest {result.n_test} samples (time-based split): [bold]{auc(result.auc)}[/]")
    console.print(f"  train AUC {auc(result.train_auc)}; weights in use before this fit: {auc(result.current_auc)}")
    table = Table(title="Learned weights (points at factor value 1)", title_justify="left")
    table.add_column("factor")
    table.add_column("learned", justify="right")
    table.add_column("before", justify="right")
    learned, before = result.weights.to_dict(), current.to_dict()
    for name in learned:
        table.add_row(name, f"{learned[name]:+.1f}", f"{before[name]:+.1f}")
    console.print(table)
    if path is not None:
        console.print(f"saved to {path}; tonewatch health and ingest now use these weights")


def register(app: typer.Typer) -> None:
    app.add_typer(health_app, name="health")
