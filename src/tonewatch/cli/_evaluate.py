"""``tonewatch evaluate --data LABELLED.jsonl``: an evaluation report for a model version.

Writes ``report.html`` (self-contained), ``report.json`` and ``reliability.png`` into
``--out``. The model is ``--model VERSION`` from the registry, else ``TONEWATCH_MODEL_DIR``
when set, else the active version. Unusable input (a missing file, a bad line, an unknown
label or model version) exits 2 before anything is scored. ``tonewatch eval`` (the quick
three-way check) is unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._store_cli import DB_OPTION, fail, open_store, settings_for

if TYPE_CHECKING:
    from tonewatch.score import Analyzer
    from tonewatch.settings import Settings

__all__ = ["register"]


def _model(settings: Settings, version: str | None, db: str | None) -> tuple[Analyzer, dict[str, Any]]:
    """The analyzer to evaluate and how the report names it."""
    from tonewatch.learn._registry import Registry
    from tonewatch.learn._serving import analyzer_for_version

    registry = Registry.from_settings(settings)
    if version is None and settings.model_dir is not None:
        from tonewatch.score import get_analyzer

        analyzer = get_analyzer(settings)
        return analyzer, {"version": str(settings.model_dir), "source": "model_dir"}
    source = "registry"
    if version is None:
        from tonewatch.learn._catalogue import active_version

        store = open_store(db, settings)
        try:
            with store.session(readonly=True) as session:
                version = active_version(session, registry).name
        finally:
            store.dispose()
        source = "registry (active)"
    return analyzer_for_version(registry, version, settings), {"version": version, "source": source}


def evaluate(
    data: Annotated[
        Path, typer.Option("--data", help="Labelled JSON lines: id, text, label (+ segment, channel, language)")
    ],
    model: Annotated[str | None, typer.Option("--model", help="A registry version (default: the active one)")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Report folder (default: home/reports/evaluate-...)")
    ] = None,
    gap_threshold: Annotated[
        float, typer.Option(min=0, max=1, help="Flag a group whose figure is this far below the overall one")
    ] = 0.05,
    min_group: Annotated[int, typer.Option(min=1, help="Groups smaller than this are too small to judge")] = 30,
    batch_size: Annotated[int, typer.Option(min=1, help="Sequences per forward pass")] = 32,
    progress: Annotated[bool, typer.Option(help="Show a progress bar while scoring")] = True,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Accuracy, macro-recall/F1, per-class figures, confusion, calibration, error analysis and a bias check."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tonewatch._errors import TonewatchError
    from tonewatch.learn._evaluate import build_evaluation, read_labelled, score_labelled
    from tonewatch.learn._report_html import write_evaluation

    settings = settings_for(db)
    try:
        examples = read_labelled(data, max_chars=settings.max_text_chars)
        analyzer, model_info = _model(settings, model, db)
        analyzer.load()
        model_info["model_version"] = analyzer.model_version
        with Progress(
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=not progress,
            transient=True,
        ) as bar:
            task = bar.add_task("scoring", total=len(examples))
            predictions = score_labelled(
                analyzer, examples, batch_size=batch_size, on_progress=lambda n: bar.advance(task, n)
            )
        report = build_evaluation(
            predictions, model=model_info, data=str(data), gap_threshold=gap_threshold, min_group=min_group
        )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = out or Path(settings.home) / "reports" / f"evaluate-{model_info['model_version']}-{stamp}"
        paths = write_evaluation(report, folder)
    except TonewatchError as exc:
        fail(exc.message)
    except OSError as exc:
        fail(f"cannot write the report: {exc}")
    o = report.overall
    console = Console()
    console.print(
        f"model [bold]{model_info['version']}[/] ({model_info['model_version']}) on {o['n']} messages: "
        f"accuracy {o['accuracy']:.3f}, macro-recall {o['macro_recall']:.3f}, macro-F1 {o['macro_f1']:.3f}, "
        f"ECE {o['ece']:.3f}"
    )
    if report.flagged:
        console.print(f"[yellow]bias check: {report.flagged} group(s) more than {gap_threshold:.0%} below overall[/]")
    typer.echo(f"wrote {paths['html']}, {paths['json']} and {paths['png']}")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
