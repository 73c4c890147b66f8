"""``tonewatch label``: people's sentiment labels, the labelled dataset, disagreements, what to label next.

``tonewatch label EVENT_ID --label negative --actor dana`` is short for ``tonewatch label add ...``:
the common case needs no sub-command, and the others (``export``, ``disagreements``,
``suggest``) are names no event id is expected to take (``label add`` is there for one that does).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer
from typer.core import TyperGroup

from ._store_cli import DB_OPTION, fail, open_store, parse_time, settings_for

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tonewatch.learn._labels import LabelledItem
    from tonewatch.settings import Settings

__all__ = ["register"]

_T = TypeVar("_T")
_TEXT_WIDTH = 70


class _DefaultAdd(TyperGroup):
    """A group whose first argument, when it is not a sub-command, is an event id for ``add``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # Any: typer's vendored click Context
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["add", *args]
        return super().parse_args(ctx, args)


label_app = typer.Typer(
    cls=_DefaultAdd,
    help="Label messages (tonewatch label EVENT_ID --label L --actor NAME), export the labelled data, "
    "see disagreements, pick what to label next.",
    no_args_is_help=True,
)


def _since(value: str | None) -> datetime | None:
    """A date means from the start of that day (``parse_time`` reads a bare date as its end)."""
    if value is None:
        return None
    text = value.strip()
    if len(text) == 10:
        try:
            d = date.fromisoformat(text)
        except ValueError:
            fail(f"--since: {value!r} is not an ISO date or date-time")
        return datetime(d.year, d.month, d.day, tzinfo=UTC)
    try:
        return parse_time(text, "--since")
    except OverflowError:
        fail(f"--since: {value!r} is outside the supported dates")


def _with_session(db: str | None, work: Callable[[Session, Settings], _T], *, write: bool = False) -> _T:
    """Run ``work`` in one transaction; bad input exits 2 with the reason, database trouble 1."""
    from tonewatch._errors import InputError, NotFoundError, StoreError

    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        with store.session(readonly=not write) as session:
            return work(session, settings)
    except (InputError, NotFoundError) as exc:
        fail(exc.message)
    except StoreError as exc:
        fail(exc.message, 1)
    finally:
        store.dispose()


def _short(text: str | None, width: int = _TEXT_WIDTH) -> str:
    if text is None:
        return "(text purged)"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@label_app.command("add")
def add(
    event_id: Annotated[str, typer.Argument(help="The message's event id")],
    label: Annotated[str, typer.Option("--label", help="positive, neutral, negative or mixed")],
    actor: Annotated[str, typer.Option("--actor", envvar="TONEWATCH_ACTOR", help="Who labels (recorded)")],
    why: Annotated[str | None, typer.Option("--why", help="Why this label (recorded with it)")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Record a person's sentiment label for one stored message (kept next to the analysis, audited)."""
    from tonewatch.learn import record_label

    def work(session: Session, _: Settings) -> tuple[int, str | None]:
        row = record_label(session, event_id, label=label.strip().lower(), actor=actor, why=why)
        from tonewatch.store import Message

        message = session.get(Message, event_id)
        return row.id, None if message is None else message.label

    feedback_id, model_label = _with_session(db, work, write=True)
    typer.echo(f"labelled {event_id} {label.strip().lower()} (feedback #{feedback_id}; the model said {model_label})")


@label_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="JSON-lines file to write")],
    since: Annotated[str | None, typer.Option("--since", help="Only messages labelled since (ISO date/time)")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Write the labelled dataset (gold label by majority vote, with every vote as provenance).

    Ties and messages whose text was purged are left out and listed; the file is what
    ``tonewatch evaluate --data`` and ``tonewatch train --data`` read.
    """
    from tonewatch.learn import export_labels

    start = _since(since)
    try:
        report = _with_session(db, lambda s, _: export_labels(s, out, since=start))
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"wrote {report.written} labelled messages to {out}", err=True)
    if report.ties:
        shown = ", ".join(report.ties[:10]) + (" ..." if len(report.ties) > 10 else "")
        typer.echo(f"left out {len(report.ties)} tied messages (need a deciding label): {shown}", err=True)
    if report.purged:
        typer.echo(f"left out {len(report.purged)} messages whose text was purged", err=True)


def _votes(item: LabelledItem) -> str:
    return ", ".join(f"{v.actor}: {v.label}" + (f" ({_short(v.why, 40)})" if v.why else "") for v in item.votes)


@label_app.command("disagreements")
def disagreements_cmd(
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many messages")] = 50,
    since: Annotated[str | None, typer.Option("--since", help="Only messages labelled since (ISO date/time)")] = None,
    kind: Annotated[
        Literal["all", "reviewers", "model"],
        typer.Option("--kind", help="reviewers (they split), model (they overrule it) or all"),
    ] = "all",
    fmt: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Messages where reviewers disagree with each other, or agree with each other but not with the model."""
    from tonewatch.learn import agreement_stats, disagreements, labelled_items

    start = _since(since)

    def work(session: Session, _: Settings) -> tuple[Any, list[LabelledItem]]:
        stats = agreement_stats(labelled_items(session, since=start))
        chosen = None if kind == "all" else kind
        return stats, disagreements(session, kind=chosen, since=start, limit=limit)

    stats, items = _with_session(db, work)
    if fmt == "json":
        payload = {
            "agreement": stats.to_dict(),
            "items": [{**i.to_record(), "kind": i.kind, "model_confidence": i.model_confidence} for i in items],
        }
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    rate = "-" if stats.reviewer_agreement is None else f"{stats.reviewer_agreement:.0%}"
    model = "-" if stats.model_agreement is None else f"{stats.model_agreement:.0%}"
    table = Table(
        title=f"disagreements: {len(items)} shown; reviewer agreement {rate} over {stats.reviewer_pairs} pairs, "
        f"model agrees with {model} of {stats.gold} gold labels, {stats.ties} ties"
    )
    for column in ("event", "kind", "model", "votes", "gold", "text"):
        table.add_column(column, overflow="fold")
    for i in items:
        conf = "" if i.model_confidence is None else f" {i.model_confidence:.2f}"
        table.add_row(
            i.event_id, i.kind or "", f"{i.model_label}{conf}", _votes(i), i.gold or "tie", _short(i.text, 60)
        )
    Console().print(table)


@label_app.command("suggest")
def suggest(
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="How many messages to suggest")] = 20,
    pool: Annotated[
        int, typer.Option("--pool", min=1, max=1_000_000, help="Rank this many of the newest unlabelled messages")
    ] = 5000,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the picks as JSON lines")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Vocabulary windows end here (ISO date/time)")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Unlabelled messages a label would teach the model most: uncertain, overruled, new words; no near-duplicates."""
    from tonewatch.learn import suggest_labels

    end = parse_time(as_of) if as_of else None
    run = _with_session(db, lambda s, settings: suggest_labels(s, settings, limit=limit, pool=pool, as_of=end))
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8", newline="\n") as fh:
                for s in run.suggestions:
                    fh.write(json.dumps(s.to_record(), ensure_ascii=False, separators=(",", ":")) + "\n")
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
        typer.echo(f"wrote {len(run.suggestions)} suggestions to {out}", err=True)
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"label next: {len(run.suggestions)} of {run.pool} unlabelled messages "
        f"({run.duplicates} near-duplicates skipped)"
    )
    for column in ("#", "event", "priority", "model", "why", "text"):
        table.add_column(column, overflow="fold")
    for n, s in enumerate(run.suggestions, start=1):
        conf = "" if s.model_confidence is None else f" {s.model_confidence:.2f}"
        table.add_row(
            str(n), s.event_id, f"{s.priority:.2f}", f"{s.model_label}{conf}", "; ".join(s.reasons), _short(s.text, 60)
        )
    Console().print(table)
    if run.suggestions:
        typer.echo("label one with: tonewatch label EVENT_ID --label positive|neutral|negative|mixed --actor NAME")


def register(app: typer.Typer) -> None:
    app.add_typer(label_app, name="label")
