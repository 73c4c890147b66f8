"""``tonewatch customer ID``: one customer's timeline, signals and health over time.

Shows masked text only (what the store holds), the analysis of each customer message, the
health of each day from the snapshots, and the current report with its reasons.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from ._store_cli import DB_OPTION, fail, open_store, parse_time, settings_for

__all__ = ["register"]

_TEXT_WIDTH = 90


def _short(text: str | None, width: int = _TEXT_WIDTH) -> str:
    if text is None:
        return "[text removed]"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _describe(kind: str, payload: dict[str, Any]) -> str:
    if kind == "ticket":
        return f"ticket {payload.get('ticket_id')} {payload.get('status')}"
    if kind == "survey":
        return f"{payload.get('survey')} {payload.get('score')}"
    if kind == "usage":
        return f"{payload.get('metric')} = {payload.get('value')}"
    if kind == "outcome":
        return str(payload.get("outcome"))
    return kind


def customer(
    customer_id: Annotated[str, typer.Argument(help="The customer's id")],
    db: Annotated[str | None, DB_OPTION] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Report as of this time (default now)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show the latest N events")] = 50,
    output: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
    weights: Annotated[Path | None, typer.Option("--weights", help="Health weights YAML")] = None,
) -> None:
    """The customer's events (masked text, scores, categories), daily health and current report."""
    from sqlalchemy import select

    from tonewatch._errors import TonewatchError
    from tonewatch.ingest._history import reports_as_of
    from tonewatch.store import Customer, EventRow, HealthSnapshot, Message

    from ._health import health_model

    when = parse_time(as_of) if as_of else datetime.now(UTC)
    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        with store.session(readonly=True) as session:
            c = session.get(Customer, customer_id)
            if c is None:
                fail(f"no such customer: {customer_id}")
            rows = session.execute(
                select(EventRow.kind, EventRow.timestamp, EventRow.event_id, EventRow.payload, Message)
                .outerjoin(Message, Message.event_id == EventRow.event_id)
                .where(EventRow.customer_id == customer_id, EventRow.kind != "customer", EventRow.timestamp <= when)
                .order_by(EventRow.timestamp.desc(), EventRow.event_id.desc())
                .limit(limit)
            ).all()
            snaps = session.scalars(
                select(HealthSnapshot)
                .where(HealthSnapshot.customer_id == customer_id, HealthSnapshot.as_of <= when)
                .order_by(HealthSnapshot.day)
            ).all()
            attributes = dict(c.attributes or {})
            erased = c.erased_at
        model = health_model(store, settings, weights)
        with store.session(readonly=True) as session:
            found = reports_as_of(session, model, when, customer_ids=[customer_id])
    except TonewatchError as exc:
        fail(exc.message, 1)
    finally:
        store.dispose()
    report = found[0].report.to_dict() if found else None
    daily = {s.day: s for s in snaps}
    timeline = []
    for kind, ts, event_id, payload, m in reversed(rows):
        item: dict[str, Any] = {"timestamp": ts.isoformat(), "event_id": event_id, "kind": kind}
        if m is not None:
            item |= {
                "channel": m.channel,
                "author": m.author,
                "ticket_id": m.ticket_id,
                "text": m.text,
                "category": m.category,
                "label": m.label,
                "score": m.score,
                "confidence": m.confidence,
                "urgency": m.urgency,
            }
        else:
            item["summary"] = _describe(kind, payload)
        snap = daily.get(ts.date().isoformat())
        item["health_that_day"] = None if snap is None else snap.health
        timeline.append(item)
    history = [{"day": s.day, "health": s.health, "band": s.band, "declining": s.declining} for s in snaps]
    if output == "json":
        doc = {
            "customer_id": customer_id,
            "attributes": attributes,
            "erased_at": None if erased is None else erased.isoformat(),
            "report": report,
            "timeline": timeline,
            "health_history": history,
        }
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    _print(customer_id, attributes, report, timeline, history, when)


def _print(
    customer_id: str,
    attributes: dict[str, Any],
    report: dict[str, Any] | None,
    timeline: list[dict[str, Any]],
    history: list[dict[str, Any]],
    when: datetime,
) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    attrs = ", ".join(f"{k}={v}" for k, v in attributes.items()) or "no attributes"
    console.print(f"[bold]{customer_id}[/]  {attrs}")
    if report is None:
        console.print(f"no events up to {when.isoformat()}")
    else:
        t = report["trend"]
        console.print(
            f"health [bold]{report['health']:.0f}[/] ({report['band']}) as of {when:%Y-%m-%d %H:%M} UTC; "
            f"sentiment level {t.get('level')}, slope {t.get('slope')}, declining {t.get('declining')}; "
            f"flags: {', '.join(report['flags']) or 'none'}"
        )
        factors = Table(title="Why", title_justify="left")
        factors.add_column("factor")
        factors.add_column("points", justify="right")
        factors.add_column("reason", overflow="fold")
        for f in report["factors"]:
            factors.add_row(f["name"], f"{f['points']:+.1f}", f["reason"])
        console.print(factors)
        signals = Table(title="Signals", title_justify="left")
        signals.add_column("signal")
        signals.add_column("reading", overflow="fold")
        for name, value in (report.get("signals") or {}).items():
            signals.add_row(name, json.dumps(value, ensure_ascii=False, default=str)[:240])
        console.print(signals)
    table = Table(title="Timeline (masked text)", title_justify="left")
    for col in ("time", "event", "category", "sentiment", "text / detail", "health"):
        table.add_column(col, overflow="fold")
    for item in timeline:
        if "text" in item:
            event = f"{item['channel']} {item['author']}"
            sentiment = "" if item["label"] is None else f"{item['label']} {item['score']:+.2f}"
            detail = _short(item["text"])
        else:
            event, sentiment, detail = item["kind"], "", item["summary"]
        h = item["health_that_day"]
        table.add_row(
            item["timestamp"][:16].replace("T", " "),
            event,
            item.get("category") or "",
            sentiment,
            detail,
            "" if h is None else f"{h:.0f}",
        )
    console.print(table)
    if history:
        line = " ".join(f"{h['day'][5:]}:{h['health']:.0f}" for h in history[-30:])
        console.print(f"health over time (last {min(len(history), 30)} days with activity): {line}")


def register(app: typer.Typer) -> None:
    app.command("customer")(customer)
