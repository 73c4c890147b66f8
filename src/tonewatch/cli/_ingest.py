"""``tonewatch ingest FILE...``: load JSON-lines or CSV event files into the store.

Exit status 1 when any event was rejected (each is listed with its file, line and reason),
2 for unusable input (missing file, bad database URL).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ._store_cli import DB_OPTION, fail, open_store, settings_for

if TYPE_CHECKING:
    from tonewatch.ingest import IngestReport

__all__ = ["register"]

_SHOWN_REJECTIONS = 50


def _count_lines(path: Path) -> int:
    """Lines in a file, read in blocks: the progress bar's total."""
    n = 0
    last = b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def _print_summary(results: list[tuple[Path, IngestReport]], seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    table = Table(title="Ingested", title_justify="left")
    for col in ("file", "accepted", "duplicate", "rejected"):
        table.add_column(col, justify="left" if col == "file" else "right")
    for path, r in results:
        table.add_row(str(path), str(r.accepted), str(r.duplicate), str(len(r.rejected)))
    if len(results) > 1:
        table.add_row(
            "total",
            str(sum(r.accepted for _, r in results)),
            str(sum(r.duplicate for _, r in results)),
            str(sum(len(r.rejected) for _, r in results)),
        )
    console.print(table)
    total = sum(r.total for _, r in results)
    if seconds > 0:
        console.print(f"{total} events in {seconds:.1f}s ({total / seconds:,.0f} events/s)")
    rejected = [(p, j) for p, r in results for j in r.rejected]
    if rejected:
        errors = Table(title="Rejected", title_justify="left")
        for col in ("file", "line", "event_id", "reason"):
            errors.add_column(col)
        for path, j in rejected[:_SHOWN_REJECTIONS]:
            errors.add_row(str(path), str(j.line or ""), j.event_id or "", f"{j.reason} [{j.code}]")
        Console(stderr=True).print(errors)
        if len(rejected) > _SHOWN_REJECTIONS:
            typer.echo(f"... and {len(rejected) - _SHOWN_REJECTIONS} more rejected events", err=True)


def ingest(
    files: Annotated[list[Path], typer.Argument(help="JSON-lines (.jsonl) or CSV (.csv) event files; - for stdin")],
    db: Annotated[str | None, DB_OPTION] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Events per transaction")] = 5000,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per scoring batch")] = 32,
    output: Annotated[Literal["table", "json"], typer.Option("--format", help="Summary as a table or JSON")] = "table",
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
    rules: Annotated[bool, typer.Option(help="Run the trigger rules on every ingested event")] = True,
    playbook: Annotated[
        Path | None,
        typer.Option("--playbook", help="Rules YAML (default: TONEWATCH_RULES_PATH or the starter playbook)"),
    ] = None,
) -> None:
    """Validate, mask, score and store events; summarise accepted, duplicate and rejected ones.

    The active playbook's rules run on every event in the same transaction (``--no-rules`` to
    only load data, e.g. a backfill before the rules are tuned).
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    from tonewatch._errors import TonewatchError
    from tonewatch.ingest import Hook, Pipeline, read_events
    from tonewatch.ingest._baselines import segment_baselines

    for path in files:
        if str(path) != "-" and not path.is_file():
            fail(f"no such file: {path}")
    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        with store.session(readonly=True) as session:
            baselines = segment_baselines(session)
        hooks: list[Hook] = []
        if rules:
            from tonewatch.triggers import TriggerHook, active_playbook

            hooks.append(TriggerHook(active_playbook(settings, playbook), settings))
        pipeline = Pipeline(
            store,
            settings=settings,
            hooks=hooks,
            chunk_size=chunk_size,
            batch_size=batch_size,
            segment_baselines=baselines,
        )
        results: list[tuple[Path, IngestReport]] = []
        started = time.perf_counter()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
            disable=not progress or output == "json",
        ) as bar:
            for path in files:
                total = None if str(path) == "-" else _count_lines(path) - (path.suffix.lower() == ".csv")
                task = bar.add_task(path.name, total=total)

                def advance(n: int, task: TaskID = task) -> None:
                    bar.advance(task, n)

                report = pipeline.ingest(read_events(path), on_progress=advance)
                results.append((path, report))
        seconds = time.perf_counter() - started
        pipeline.drain()  # shadow scoring of what was just stored, when a shadow version is set
    except TonewatchError as exc:
        fail(exc.message, 1 if exc.code == "store_error" else 2)
    finally:
        store.dispose()
    if output == "json":
        typer.echo(json.dumps({str(p): r.to_dict() for p, r in results}, indent=2))
    else:
        _print_summary(results, seconds)
    if any(r.rejected for _, r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
