"""``tonewatch audit verify|export``: check and extract the hash-chained audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from ._store_cli import DB_OPTION, fail, open_store

__all__ = ["register"]

audit_app = typer.Typer(help="Verify and export the tamper-evident audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify(db: Annotated[str | None, DB_OPTION] = None) -> None:
    """Recompute the hash chain; exit 1 naming the first entry that was altered or deleted."""
    from tonewatch._errors import AuditIntegrityError, StoreError
    from tonewatch.audit import AuditLog

    store = open_store(db)
    try:
        with store.session(readonly=True) as session:
            count = AuditLog(session).verify()
    except AuditIntegrityError as exc:
        typer.echo(f"audit log FAILED verification: {exc.message}", err=True)
        raise typer.Exit(1) from None
    except StoreError as exc:
        fail(exc.message, 1)
    finally:
        store.dispose()
    typer.echo(f"audit log OK: {count} entries, chain intact")


@audit_app.command("export")
def export(
    fmt: Annotated[Literal["jsonl", "csv"], typer.Option("--format", help="jsonl or csv")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Write every entry (with its hash and previous hash) as JSON lines or CSV."""
    import sys

    from tonewatch._errors import StoreError
    from tonewatch.audit import AuditLog

    store = open_store(db)
    try:
        with store.session(readonly=True) as session:
            log = AuditLog(session)
            if out is None:
                sys.stdout.writelines(log.export(fmt))
            else:
                out.parent.mkdir(parents=True, exist_ok=True)
                with out.open("w", encoding="utf-8", newline="") as fh:
                    fh.writelines(log.export(fmt))
                typer.echo(f"wrote {log.count()} entries to {out}", err=True)
    except StoreError as exc:
        fail(exc.message, 1)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    finally:
        store.dispose()


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
