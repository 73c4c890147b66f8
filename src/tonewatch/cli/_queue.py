"""``tonewatch queue list|show|approve|edit|reject|snooze|decide``: the human review queue.

Every decision is recorded in the audit log under ``--actor`` (default: the login name). Approved
and edited messages go out through the outbox (the ``outbox`` table; ``--outbox-file`` also
appends them to a JSON-lines file for a relay).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import typer

from ._store_cli import DB_OPTION, fail, open_store, parse_time, settings_for

if TYPE_CHECKING:
    from tonewatch.review import ReviewItem, ReviewQueue

__all__ = ["register"]

queue_app = typer.Typer(help="The review queue: list, approve, edit, reject, snooze, decide.", no_args_is_help=True)

_T = TypeVar("_T")
_ACTOR = typer.Option("--actor", help="Who decides (default: TONEWATCH_ACTOR or the login name)")
_STATUS_HELP = "pending, snoozed, approved, edited, sent, rejected, decided or all (repeatable)"
_OUTBOX = typer.Option("--outbox-file", help="Also append sent messages to this JSON-lines file")


def _actor(value: str | None) -> str:
    import getpass
    import os

    if value and value.strip():
        return value.strip()
    return os.environ.get("TONEWATCH_ACTOR") or getpass.getuser() or "cli"


def _with_queue(db: str | None, outbox_file: Path | None, work: Callable[[ReviewQueue], _T]) -> _T:
    """Run ``work`` on a queue in one transaction; input and state errors exit 2 with the reason."""
    from tonewatch._errors import InputError, NotFoundError, PermissionDeniedError, StoreError
    from tonewatch.act import JsonlSender
    from tonewatch.review import ReviewQueue

    settings = settings_for(db)
    store = open_store(db, settings)
    sender = JsonlSender(outbox_file) if outbox_file is not None else None
    try:
        with store.session() as session:
            return work(ReviewQueue(session, settings, sender=sender))
    except (InputError, NotFoundError, PermissionDeniedError) as exc:
        fail(exc.message)
    except StoreError as exc:
        fail(exc.message, 1)
    finally:
        store.dispose()


def _done(item: ReviewItem, verb: str) -> None:
    extra = f" (outbox #{item.outbox_id})" if item.outbox_id else ""
    typer.echo(f"review item {item.id} {verb}: now {item.status}{extra}")


@queue_app.command("list")
def list_items(
    status: Annotated[list[str] | None, typer.Option("--status", help=_STATUS_HELP)] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only items past their SLA deadline")] = False,
    customer: Annotated[str | None, typer.Option("--customer", help="Only this customer's items")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Open items (pending and snoozed), overdue first, then by priority and deadline."""
    now = datetime.now(UTC)

    def work(queue: ReviewQueue) -> list[ReviewItem]:
        queue.wake(now=now)
        return queue.items(status=status or None, customer_id=customer, overdue=overdue, limit=limit, now=now)

    items = _with_queue(db, None, work)
    if fmt == "json":
        typer.echo(json.dumps([i.to_dict(now) for i in items], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from tonewatch.act import priority_name

    table = Table(title=f"review queue: {len(items)} items")
    for column in ("id", "customer", "rule", "tier", "action", "status", "priority", "due"):
        table.add_column(column)
    for i in items:
        due = i.due.strftime("%Y-%m-%d %H:%M")
        due = f"[bold red]{due} OVERDUE[/]" if i.overdue(now) else due
        priority = priority_name(i.priority)
        table.add_row(str(i.id), i.customer_id, i.rule or "-", i.tier, i.action, i.status, priority, due)
    Console().print(table)


@queue_app.command("show")
def show(
    item_id: Annotated[int, typer.Argument(help="Review item id")],
    fmt: Annotated[Literal["text", "json"], typer.Option("--format", help="text or json")] = "text",
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """One item: its evidence, draft or recommendation, and decision so far."""
    item = _with_queue(db, None, lambda q: q.get(item_id))
    if fmt == "json":
        typer.echo(json.dumps(item.to_dict(), indent=2))
        return
    head = f"#{item.id} {item.action} ({item.tier}) for {item.customer_id}"
    typer.echo(f"{head}: {item.status}, due {item.due:%Y-%m-%d %H:%M}")
    typer.echo(f"rule: {item.rule}   route: {item.route_reason}")
    typer.echo(f"\n{item.summary}")
    if item.recommendation:
        typer.echo(f"\nRecommendation: {item.recommendation}")
    quotes = item.evidence.get("quotes") or []
    for q in quotes:
        typer.echo(f'  {q.get("date")} [{q.get("channel")}] "{q.get("text")}"')
    if item.draft:
        typer.echo("\n--- draft ---\n" + item.draft)
    if item.final_text and item.final_text != item.draft:
        typer.echo("\n--- sent ---\n" + item.final_text)


@queue_app.command("approve")
def approve(
    item_id: Annotated[int, typer.Argument(help="Review item id")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded)")] = None,
    actor: Annotated[str | None, _ACTOR] = None,
    outbox_file: Annotated[Path | None, _OUTBOX] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Approve as proposed: a message is sent, an internal action is applied."""
    who = _actor(actor)
    _done(_with_queue(db, outbox_file, lambda q: q.approve(item_id, actor=who, reason=reason)), "approved")


@queue_app.command("edit")
def edit(
    item_id: Annotated[int, typer.Argument(help="Review item id")],
    text: Annotated[str | None, typer.Option("--text", help="The new message text")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the new message text from this file")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it was changed (recorded)")] = None,
    actor: Annotated[str | None, _ACTOR] = None,
    outbox_file: Annotated[Path | None, _OUTBOX] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Replace the draft with your text and send it."""
    if (text is None) == (file is None):
        fail("give the new text with exactly one of --text or --file")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"--file: cannot read {file}: {exc}")
    body = text or ""
    who = _actor(actor)
    _done(_with_queue(db, outbox_file, lambda q: q.edit(item_id, body, actor=who, reason=reason)), "edited")


@queue_app.command("reject")
def reject(
    item_id: Annotated[int, typer.Argument(help="Review item id")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required, recorded)")],
    actor: Annotated[str | None, _ACTOR] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Reject with a reason."""
    who = _actor(actor)
    _done(_with_queue(db, None, lambda q: q.reject(item_id, actor=who, reason=reason)), "rejected")


@queue_app.command("snooze")
def snooze(
    item_id: Annotated[int, typer.Argument(help="Review item id")],
    until: Annotated[str, typer.Option("--until", help="Back in the queue at this time (ISO date or date-time)")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded)")] = None,
    actor: Annotated[str | None, _ACTOR] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Put an item aside until a time."""
    when = parse_time(until, "--until")
    who = _actor(actor)
    _done(_with_queue(db, None, lambda q: q.snooze(item_id, actor=who, until=when, reason=reason)), "snoozed")


@queue_app.command("decide")
def decide(
    item_id: Annotated[int, typer.Argument(help="Review item id (human tier)")],
    decision: Annotated[str, typer.Option("--decision", help="What was decided (recorded)")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded)")] = None,
    message_file: Annotated[
        Path | None, typer.Option("--message-file", help="A message you wrote to send the customer")
    ] = None,
    actor: Annotated[str | None, _ACTOR] = None,
    outbox_file: Annotated[Path | None, _OUTBOX] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Record the decision on a human-tier item (retention offer, discount, executive escalation)."""
    message = None
    if message_file is not None:
        try:
            message = message_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"--message-file: cannot read {message_file}: {exc}")
    who = _actor(actor)
    item = _with_queue(
        db, outbox_file, lambda q: q.decide(item_id, actor=who, decision=decision, reason=reason, message=message)
    )
    _done(item, "decided")


def register(app: typer.Typer) -> None:
    app.add_typer(queue_app, name="queue")
