"""``tonewatch train``: adapt the model to a team's own labelled messages (needs the ``[train]`` extra).

The labelled file is validated before anything heavy is imported, so a wrong file fails in
a second with its line number; a missing ``[train]`` extra fails with the install command.
Exit status 2 for bad input or a missing extra, 0 when a model folder was written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from ._display import stage_progress

if TYPE_CHECKING:
    from rich.console import Console

    from tonewatch.learn._train import TrainReport

__all__ = ["register"]

_STAGES = {
    "teacher": "Base model outputs (for distillation)",
    "train": "Fine-tuning",
    "export": "Export, quantise, measure",
}


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _print_report(console: Console, report: TrainReport) -> None:
    from rich.table import Table

    base, adapted = report.base_heldout, report.adapted_heldout
    m = report.manifest
    weighted = ", weighted to the --prior class shares" if adapted.get("weighted_to_prior") else ""
    table = Table(title=f"Held-out split of your data (n={adapted['n']}{weighted})", title_justify="left")
    table.add_column("figure")
    table.add_column(f"base {m['base_version']}", justify="right")
    table.add_column(f"adapted {report.version}", justify="right")
    rows: list[tuple[str, Any, Any]] = [
        ("macro-F1", base["macro_f1"], adapted["macro_f1"]),
        ("accuracy", base["accuracy"], adapted["accuracy"]),
    ]
    for label in ("negative", "neutral", "positive"):
        rows.append((f"precision {label}", base["precision"][label], adapted["precision"][label]))
    for label in ("negative", "neutral", "positive"):
        rows.append((f"recall {label}", base["recall"][label], adapted["recall"][label]))
    rows.append(("ECE", base["ece"], adapted["ece"]))
    for name, b, a in rows:
        table.add_row(name, f"{b:.3f}", f"{a:.3f}")
    console.print(table)
    cal = m["calibration"]
    console.print(
        f"precision {m['precision']}, temperature {cal['temperature']} (ECE cross-fitted {cal['ece_crossfit']}); "
        f"model folder: [bold]{report.out}[/]"
    )
    console.print(
        f"Next: [bold]tonewatch model import {report.out}[/], then shadow it against live traffic "
        "(tonewatch model shadow) before promoting it.",
        highlight=False,
    )
    if adapted["macro_f1"] <= base["macro_f1"]:
        console.print(
            "[yellow]The adapted model is not better than the base on your held-out split: "
            "keep the base, or label more examples.[/]"
        )


def train(
    data: Annotated[
        Path, typer.Option("--data", help="Labelled JSONL (id, text, label), as `tonewatch label export` writes it")
    ],
    base: Annotated[
        str | None,
        typer.Option("--base", help="Model to start from: a registered version or a model folder (default: bundled)"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the adapted model (default: <home>/trained/<version>)")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="Version of the adapted model (default: <base>+adapt.<date>)")
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", help="Older labelled JSONL mixed into training (never held out), against forgetting"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split, the batches and the initialisation")] = 13,
    epochs: Annotated[int, typer.Option(min=1, max=20, help="Most epochs (training stops early)")] = 4,
    heldout: Annotated[
        float, typer.Option(min=0.05, max=0.5, help="Share of every class held out for stopping and calibration")
    ] = 0.2,
    prior: Annotated[
        str | None,
        typer.Option(
            "--prior",
            help="Class shares of the traffic to score when --data was not sampled at random from it, "
            "e.g. negative=0.6,neutral=0.25,positive=0.15 (default: the shares in --data)",
        ),
    ] = None,
    threads: Annotated[int, typer.Option(min=1, max=64, help="CPU threads for training")] = 2,
    output: Annotated[Literal["table", "json"], typer.Option("--format", help="Summary as a table or JSON")] = "table",
) -> None:
    """Fine-tune the sentiment model on your labelled messages; writes a model folder with its manifest."""
    from rich.console import Console

    from tonewatch._errors import MissingExtraError, TonewatchError
    from tonewatch.learn._train_data import parse_prior, read_labelled

    console = Console(stderr=output == "json")
    try:
        shares = parse_prior(prior) if prior is not None else None
        labelled = read_labelled(data, field="data")
        older = read_labelled(replay, field="replay", min_per_class=0) if replay is not None else None
    except TonewatchError as exc:
        raise _fail(exc.message) from None
    counts = ", ".join(f"{n} {label}" for label, n in labelled.counts().items())
    skipped = f"; skipped {labelled.skipped_mixed} mixed" if labelled.skipped_mixed else ""
    dupes = f"; dropped {labelled.duplicates} duplicate texts" if labelled.duplicates else ""
    console.print(f"{data}: {len(labelled)} examples ({counts}){skipped}{dupes}", highlight=False)

    from tonewatch.learn._train import require_train_extra, resolve_base, train_model

    try:
        require_train_extra()
        base_dir = resolve_base(base)
    except MissingExtraError as exc:
        raise _fail(exc.message) from None
    except TonewatchError as exc:
        raise _fail(exc.message) from None

    from tonewatch.learn._adapt_settings import AdaptSettings

    settings = AdaptSettings(epochs=epochs, seed=seed, threads=threads)
    with stage_progress(console, _STAGES, disable=output == "json") as stages:

        def log(message: str) -> None:
            stages.bar.console.print(message, highlight=False)

        try:
            report = train_model(
                labelled,
                base_dir=base_dir,
                out=out,
                version=version,
                replay=older,
                settings=settings,
                heldout=heldout,
                prior=shares,
                progress=stages.set,
                log=log,
            )
        except TonewatchError as exc:
            raise _fail(exc.message) from None
    if output == "json":
        typer.echo(json.dumps({"out": str(report.out), "version": report.version, "manifest": report.manifest}))
    else:
        _print_report(console, report)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
