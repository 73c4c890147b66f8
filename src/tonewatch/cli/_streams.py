"""``tonewatch worker`` (stream consumer), ``tonewatch publish`` (file -> stream), ``tonewatch backfill``.

Exit status: 0 when the work is done (the worker stopped by a signal or idle timeout),
1 when a backfill left partitions failed, 2 for bad input or configuration, 3 when a
worker stopped on a fatal error (nothing was acknowledged that was not committed).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._store_cli import DB_OPTION, fail, open_store, settings_for

if TYPE_CHECKING:
    from tonewatch.settings import Settings

__all__ = ["register"]


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _analyzer(settings: Settings, store: Any) -> Any:
    """The registry's active version (followed without a restart), loaded and tried once before any message."""
    from tonewatch._errors import ModelError, NotFoundError, StoreError
    from tonewatch.learn._serving import serving_analyzer

    try:
        analyzer = serving_analyzer(settings, store)
        analyzer.analyze("warm-up")
    except (ModelError, NotFoundError, StoreError) as exc:
        fail(exc.message)
    return analyzer


def worker(
    source: Annotated[str, typer.Option("--source", help="redis://HOST:PORT/DB or nats://HOST:PORT")],
    stream: Annotated[str, typer.Option("--stream", help="Stream to consume (Redis key / JetStream stream)")],
    group: Annotated[str, typer.Option("--group", help="Consumer group (JetStream durable) shared by workers")],
    db: Annotated[str | None, DB_OPTION] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Batches processed at once")] = 1,
    exit_when_idle: Annotated[
        float | None, typer.Option("--exit-when-idle", help="Stop after this many seconds without messages")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Most messages per batch (one transaction)")] = 64,
    linger_ms: Annotated[float, typer.Option(min=0, help="How long a batch waits to fill")] = 5.0,
    output: Annotated[
        str | None, typer.Option(help="Output stream/subject (default STREAM:results / STREAM.results)")
    ] = None,
    results: Annotated[bool, typer.Option(help="Publish a result per scored message (flags always)")] = True,
    dead_letter: Annotated[
        str | None, typer.Option(help="Dead-letter stream/subject (default STREAM:dead / STREAM.dead)")
    ] = None,
    max_deliveries: Annotated[int, typer.Option(min=1, help="Attempts before a message is dead-lettered")] = 5,
    claim_idle: Annotated[
        float, typer.Option(min=0.1, help="Seconds before an unacknowledged message is redelivered")
    ] = 30.0,
    consumer: Annotated[str | None, typer.Option(help="Consumer name (default host-pid-random)")] = None,
    grace: Annotated[float, typer.Option(min=0, help="Seconds to finish in-flight work on SIGTERM")] = 30.0,
    triggers: Annotated[bool, typer.Option(help="Run the playbook (proactive support) on every update")] = False,
    stats: Annotated[Path | None, typer.Option(help="Write the run's counts as JSON here on exit")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Consume a stream into the store: score, apply idempotently, ack after commit."""
    import asyncio

    from tonewatch._errors import ConfigurationError, TonewatchError
    from tonewatch.streams import (
        Worker,
        WorkerConfig,
        open_output,
        open_source,
        pipeline_factory,
        run_until_signal,
        webhook_enqueuer,
    )

    _configure_logging(log_level)
    settings = settings_for(db)
    try:
        src = open_source(
            source,
            stream,
            group,
            consumer=consumer,
            dead_letter=dead_letter,
            max_deliveries=max_deliveries,
            claim_idle=claim_idle,
        )
        sink = open_output(source, stream, output, consumer=getattr(src, "consumer", None))
        config = WorkerConfig(
            batch_size=batch_size,
            linger=linger_ms / 1000,
            concurrency=concurrency,
            exit_when_idle=exit_when_idle,
            grace=grace,
            output_results=results,
        )
    except ConfigurationError as exc:
        fail(exc.message)
    store = open_store(db, settings)
    analyzer = _analyzer(settings, store)
    make_triggers = None
    if triggers:
        from tonewatch.triggers import TriggerHook

        def make_triggers() -> Any:
            return TriggerHook(settings=settings)

    w = Worker(
        src,
        pipeline_factory(store, analyzer, settings, batch_size=batch_size),
        sink=sink,
        config=config,
        enqueue_webhook=webhook_enqueuer(store),
        make_triggers=make_triggers,
    )
    code = 0
    try:
        result = asyncio.run(run_until_signal(w))
    except TonewatchError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        result, code = w.stats, 3
    finally:
        store.dispose()
    summary = result.to_dict() | {"consumer": getattr(src, "consumer", None)}
    if stats is not None:
        stats.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    typer.echo(json.dumps(summary), err=True)
    if code:
        raise typer.Exit(code)


def publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON-lines file of v1 events")],
    to: Annotated[str, typer.Option("--to", help="redis://HOST:PORT/DB or nats://HOST:PORT")],
    stream: Annotated[str, typer.Option("--stream", help="Stream to append to")],
    batch: Annotated[int, typer.Option(min=1, help="Messages per round trip")] = 500,
    rate: Annotated[float | None, typer.Option(help="Pace to this many messages per second")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Replay a JSON-lines file into a stream, in order (lines are sent as they are)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tonewatch._errors import ConfigurationError
    from tonewatch.streams import broker_of, publish_file

    try:
        broker_of(to)
    except ConfigurationError as exc:
        fail(exc.message)
    with file.open("rb") as fh:
        total = sum(1 for line in fh if line.strip())
    columns = (TextColumn("publishing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress, transient=True) as bar:
        task = bar.add_task("publish", total=total)
        report = publish_file(file, to, stream, batch=batch, rate=rate, on_progress=lambda n: bar.advance(task, n))
    typer.echo(json.dumps(report.to_dict()))


def backfill(
    source: Annotated[str, typer.Argument(help="JSON-lines/CSV file of events, or a database URL to rescore")],
    engine: Annotated[str, typer.Option(help="local (process pool) or dask")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler tcp://HOST:PORT (default: local cluster)")
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: one per core)")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
    out: Annotated[Path | None, typer.Option(help="Write results to this JSON-lines file instead of the store")] = None,
    checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint folder (default: under TONEWATCH_HOME/backfill)")
    ] = None,
    partition_size: Annotated[int, typer.Option(min=1, help="Events (or messages) per partition")] = 2000,
    restart: Annotated[bool, typer.Option(help="Forget earlier progress and start over")] = False,
    all_messages: Annotated[
        bool, typer.Option("--all", help="Rescore every stored message, not only stale ones")
    ] = False,
    threads: Annotated[int, typer.Option(min=1, help="Model threads per worker")] = 1,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Score historical messages in partitions; resumable (re-run the same command after a stop)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tonewatch._errors import TonewatchError
    from tonewatch.backfill import run_backfill

    settings = settings_for(db)
    columns = (TextColumn("backfill"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress, transient=True) as bar:
        task = bar.add_task("backfill", total=None)

        def on_plan(plan: Any, done: int) -> None:
            bar.update(task, total=plan.total, completed=done)

        try:
            report = run_backfill(
                source,
                engine=engine,
                workers=workers,
                scheduler=scheduler,
                db=db,
                out=out,
                checkpoint=checkpoint,
                partition_size=partition_size,
                restart=restart,
                all_messages=all_messages,
                threads_per_worker=threads,
                settings=settings,
                on_plan=on_plan,
                on_progress=lambda n: bar.advance(task, n),
            )
        except TonewatchError as exc:
            fail(exc.message)
    typer.echo(json.dumps(report.to_dict()))
    if not report.complete:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("publish")(publish)
    app.command("backfill")(backfill)
