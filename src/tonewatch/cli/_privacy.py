"""``tonewatch privacy export|erase|purge``: the data rights of customers, each audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from ._store_cli import DB_OPTION, fail, open_store, settings_for

__all__ = ["register"]

privacy_app = typer.Typer(help="Export or erase a customer's data; purge old message text.", no_args_is_help=True)

_ACTOR = typer.Option("--actor", help="Who is doing this (recorded in the audit log)")


@privacy_app.command("export")
def export(
    customer_id: Annotated[str, typer.Argument(help="The customer's id")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON here instead of stdout")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
    actor: Annotated[str, _ACTOR] = "cli",
) -> None:
    """Everything stored about one customer as JSON (raw text included only if stored and decryptable)."""
    from tonewatch._errors import TonewatchError
    from tonewatch.mask import RawTextVault
    from tonewatch.store import export_customer

    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        vault = RawTextVault(settings.encryption_key) if settings.encryption_key else None
        with store.session() as session:
            doc = export_customer(session, customer_id, actor=actor, vault=vault)
    except TonewatchError as exc:
        fail(exc.message, 2 if exc.code == "not_found" else 1)
    finally:
        store.dispose()
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=str)
    if out is None:
        typer.echo(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"exported {customer_id} to {out} ({len(doc['messages'])} messages)", err=True)


@privacy_app.command("erase")
def erase(
    customer_id: Annotated[str, typer.Argument(help="The customer's id")],
    db: Annotated[str | None, DB_OPTION] = None,
    actor: Annotated[str, _ACTOR] = "cli",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Remove the customer's texts and personal attributes (scores and the audit chain stay)."""
    from tonewatch._errors import TonewatchError
    from tonewatch.store import erase_customer

    from ._health import health_model

    if not yes and not typer.confirm(f"Erase the texts and personal attributes of {customer_id}?"):
        raise typer.Exit(1)
    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        model = health_model(store, settings)
        with store.session() as session:
            report = erase_customer(session, customer_id, actor=actor, now=datetime.now(UTC), model=model)
    except TonewatchError as exc:
        fail(exc.message, 2 if exc.code == "not_found" else 1)
    finally:
        store.dispose()
    typer.echo(
        f"erased {customer_id}: {report.messages} messages, {report.surveys} survey comments, "
        f"{report.tickets} ticket subjects, attributes removed: {', '.join(report.attributes_removed) or 'none'}"
    )


@privacy_app.command("purge")
def purge(
    older_than: Annotated[
        int | None, typer.Option("--older-than", min=1, help="Days (default: TONEWATCH_RETENTION_DAYS)")
    ] = None,
    db: Annotated[str | None, DB_OPTION] = None,
    actor: Annotated[str, _ACTOR] = "retention",
) -> None:
    """Remove message text, survey comments and ticket subjects older than the retention period."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from tonewatch._errors import TonewatchError
    from tonewatch.store import purge_texts

    from ._health import health_model

    settings = settings_for(db)
    days = older_than or settings.retention_days
    if days is None:
        fail("no retention period: pass --older-than DAYS or set TONEWATCH_RETENTION_DAYS")
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    store = open_store(db, settings)
    try:
        model = health_model(store, settings)
        with (
            Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar,
            store.session() as session,
        ):
            task = bar.add_task("purging message text", total=None)
            report = purge_texts(
                session,
                cutoff,
                actor=actor,
                now=now,
                model=model,
                on_progress=lambda n: bar.update(task, advance=n, description=f"purging message text ({n} more)"),
            )
    except TonewatchError as exc:
        fail(exc.message, 1)
    finally:
        store.dispose()
    typer.echo(
        f"purged text older than {cutoff:%Y-%m-%d}: {report.messages} messages, {report.surveys} survey comments, "
        f"{report.tickets} ticket subjects ({report.customers} customers' reports rebuilt)"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")
