"""``tonewatch report monthly``: write the monthly report (HTML, CSV, PNG charts) without a server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["monthly"]


def monthly(
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM (default: the last complete month with customer messages)")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files to")] = Path("."),
    features: Annotated[
        Path | None, typer.Option("--features", help="A file of feature names, one per line, to rank")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: TONEWATCH_DB_URL or the embedded SQLite file)")
    ] = None,
) -> None:
    """Write the monthly report: negative sentiment by issue category and feature, quotes, trends."""
    from tonewatch._errors import TonewatchError
    from tonewatch.cli._store_cli import fail, open_store, settings_for

    from ._export import write_monthly_report

    names: list[str] | None = None
    if features is not None:
        try:
            lines = features.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            fail(f"--features: cannot read {features}: {exc.strerror or exc}")
        names = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")] or None
    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        paths = write_monthly_report(store, settings, out, month=month, features=names)
    except TonewatchError as exc:
        fail(exc.message)
    except ValueError as exc:
        fail(f"--month: {exc}")
    except OSError as exc:
        fail(f"--out: cannot write to {out}: {exc.strerror or exc}")
    finally:
        store.dispose()
    for path in paths:
        typer.echo(str(path))
