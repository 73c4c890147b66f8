"""``tonewatch model list|show|import|promote|rollback|shadow|compare``: the model registry.

Model folders live under ``TONEWATCH_MODEL_REGISTRY`` (default ``home/models``); which
version is active or shadowing lives in the database, so every worker and API process
sharing it follows a promotion within ``TONEWATCH_MODEL_REFRESH_SECONDS``. Every change is
recorded with ``--actor`` and ``--why`` in the audit log. Unknown versions, tampered folders
and refused promotions exit 2; ``list`` exits 1 when a folder does not verify.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer

from ._display import confusion_table
from ._store_cli import DB_OPTION, fail, open_store, settings_for

if TYPE_CHECKING:
    from tonewatch.learn._registry import Registry
    from tonewatch.score import Analyzer
    from tonewatch.settings import Settings
    from tonewatch.store import Store

__all__ = ["register"]

model_app = typer.Typer(
    help="The model registry: versions, promotion, rollback and shadow scoring.", no_args_is_help=True
)

_FORMAT = typer.Option("--format", help="table or json")
_ACTOR = typer.Option("--actor", help="Who is doing this (recorded in the audit log; default cli:<user>)")
_WHY = typer.Option("--why", help="Why (recorded in the audit log)")


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (some containers)
        return "cli"


def _refuse(exc: Exception) -> NoReturn:
    fail(str(getattr(exc, "message", exc)))


@contextmanager
def _registry(db: str | None) -> Iterator[tuple[Settings, Store, Registry]]:
    """Settings, store and registry for one command; a tonewatch error becomes a CLI refusal; the store is closed."""
    from tonewatch._errors import TonewatchError
    from tonewatch.learn._registry import Registry

    settings = settings_for(db)
    store = open_store(db, settings)
    try:
        yield settings, store, Registry.from_settings(settings)
    except TonewatchError as exc:
        _refuse(exc)
    finally:
        store.dispose()


def _f(v: Any, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _languages(metrics: dict[str, Any] | None) -> str:
    if not metrics or not metrics.get("languages"):
        return "-"
    parts = [f"{lang[:2]} {_f(fig['value'], 2)}" for lang, fig in metrics["languages"].items()]
    return ", ".join(parts)


@model_app.command("list")
def list_models(
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: Annotated[Literal["table", "json"], _FORMAT] = "table",
    verify: Annotated[bool, typer.Option(help="Check every version's files against their sha256")] = True,
) -> None:
    """Every version with its marks (active, shadow, candidate, retired) and key figures from its manifest."""
    from tonewatch.learn._catalogue import list_versions

    with _registry(db) as (settings, store, registry), store.session(readonly=True) as session:
        items = list_versions(session, registry, verify=verify)
    broken = [i for i in items if i["error"] or (verify and i.get("integrity") != "ok")]
    if fmt == "json":
        typer.echo(json.dumps({"registry": str(registry.root), "models": items}, indent=2))
    else:
        _list_table(items, settings, str(registry.root), verify)
    if broken:
        raise typer.Exit(1)


def _list_table(items: list[dict[str, Any]], settings: Settings, root: str, verify: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Model versions ({root})", title_justify="left")
    columns = ["version", "created", "marks", "shadow cmp", "TweetEval macro-R", "airline macro-F1", "ECE"]
    columns += ["languages (validated)", *(["files"] if verify else [])]
    for col in columns:
        table.add_column(col, justify="right" if col in {"shadow cmp", "ECE"} or "macro" in col else "left")
    for i in items:
        m = i["metrics"] or {}
        name = i["version"] + (f" ({i['model_version']})" if i["builtin"] else "")
        marks = ", ".join(i["marks"])
        style = "bold green" if "active" in i["marks"] else "yellow" if "shadow" in i["marks"] else ""
        row = [
            name,
            (i["created"] or "-")[:19],
            f"[{style}]{marks}[/]" if style else marks,
            "-" if i["comparisons"] is None else str(i["comparisons"]),
            _f(m.get("tweeteval_macro_recall")),
            _f(m.get("airline_macro_f1")),
            _f(m.get("ece")),
            _languages(m),
        ]
        if verify:
            ok = i.get("integrity") == "ok" and not i["error"]
            row.append("ok" if ok else f"[bold red]{i['error'] or i.get('integrity')}[/]")
        table.add_row(*row)
    Console().print(table)
    typer.echo(f"promotion needs {settings.shadow_min_comparisons} shadow comparisons against the active version")


@model_app.command("show")
def show(
    version: Annotated[str, typer.Argument(help="A version name (builtin for the bundled model)")],
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: Annotated[Literal["table", "json"], _FORMAT] = "table",
) -> None:
    """One version: manifest summary, per-language validated figures, integrity and its history."""
    from tonewatch.learn._catalogue import describe_version
    from tonewatch.score import Analyzer

    with _registry(db) as (settings, store, registry):
        with store.session(readonly=True) as session:
            item = describe_version(session, registry, version)
        routing: list[dict[str, Any]] = []
        reading = None
        if not item["error"]:  # an analyzer reads manifests only; the model is not loaded
            analyzer = Analyzer.from_settings(settings, registry.get(version).path)
            routing = _language_routing(item, analyzer)
            reading = analyzer.sentence_reading
        item["language_routing"] = routing
        item["sentence_reading"] = reading
    if fmt == "json":
        typer.echo(json.dumps(item, indent=2))
    else:
        _show_tables(item)
    if item["integrity"] != "ok":
        fail(f"model version {item['version']!r} does not verify: {item['integrity']}")


def _language_routing(item: dict[str, Any], analyzer: Analyzer) -> list[dict[str, Any]]:
    """Per validated language: this version's own figure, what actually scores it, and whether results are acted on.

    Non-English texts in the languages the bundled multilingual layer covers are scored by that layer whatever
    version is active, so its figure, not the version's, is the one the review line applies to (the analyzer
    decides, exactly as when it scores).
    """
    from tonewatch.score._language import UMSAB_LANGUAGES

    rows = []
    for name, fig in ((item["metrics"] or {}).get("languages") or {}).items():
        code = UMSAB_LANGUAGES.get(name, name)
        reason = analyzer.language_review(code)
        rows.append(
            {
                "language": code,
                "this_version": fig["value"],
                "metric": fig["metric"],
                "n": fig.get("n"),
                "scored_by": f"multilingual layer {analyzer.multilingual_version}"
                if analyzer.reads_with_multilingual(code)
                else "this version",
                "validated_macro_f1": analyzer.language_macro_f1(code),
                "routing": "acted on" if reason is None else f"review ({reason})",
            }
        )
    return rows


_READINGS = {
    "in_context": "pooled from their message's forward pass (validated in context)",
    "checked": "pooled from their message's forward pass, read again alone where the message could be mixed",
    "alone": "each read again on its own",
}


def _show_tables(item: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    m = item["metrics"] or {}
    head = Table(title=f"Model {item['version']}", title_justify="left", show_header=False)
    head.add_column("field")
    head.add_column("value", overflow="fold")
    for key, value in [
        ("model version", item["model_version"]),
        ("marks", ", ".join(item.get("marks", []))),
        ("created", item["created"]),
        ("imported", item["imported_at"] or ("bundled" if item["builtin"] else "-")),
        ("source", item["source"] or "-"),
        *[(k, v) for k, v in item["manifest"].items() if k != "version"],
        ("labels", ", ".join(item["labels"] or [])),
        ("TweetEval accuracy", _f(m.get("tweeteval_accuracy"))),
        ("TweetEval macro-recall", _f(m.get("tweeteval_macro_recall"))),
        ("airline macro-F1", _f(m.get("airline_macro_f1"))),
        ("ECE", _f(m.get("ece"))),
        ("sentences", _READINGS.get(str(item.get("sentence_reading")), "-")),
        ("shadow comparisons", "-" if item.get("comparisons") is None else str(item["comparisons"])),
        ("files", "ok" if item["integrity"] == "ok" else item["integrity"]),
    ]:
        head.add_row(key, str(value))
    console.print(head)
    langs = Table(title="Validated per language", title_justify="left")
    for col in ("language", "this version", "messages", "scored by", "validated", "results"):
        langs.add_column(col, justify="right" if col in {"this version", "messages", "validated"} else "left")
    for r in item["language_routing"]:
        langs.add_row(
            r["language"],
            _f(r["this_version"]),
            str(r["n"] or "-"),
            r["scored_by"],
            _f(r["validated_macro_f1"]),
            r["routing"],
        )
    values = [r["validated_macro_f1"] for r in item["language_routing"] if r["validated_macro_f1"] is not None]
    if values:
        langs.caption = f"average over {len(values)} languages, as scored: {sum(values) / len(values):.3f}"
    console.print(langs)
    if item["history"]:
        hist = Table(title="History", title_justify="left")
        for col in ("at", "action", "version", "previous", "actor", "why"):
            hist.add_column(col, overflow="fold")
        for e in item["history"]:
            hist.add_row(
                e["at"][:19], e["action"], e["version"] or "-", e["previous"] or "-", e["actor"], e["why"] or ""
            )
        console.print(hist)


@model_app.command("import")
def import_model(
    path: Annotated[Path, typer.Argument(help="A model folder: model.onnx, tokenizer.json, manifest.json")],
    version: Annotated[str | None, typer.Option("--version", help="Name it (default: the manifest's version)")] = None,
    actor: Annotated[str | None, _ACTOR] = None,
    why: Annotated[str | None, _WHY] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Copy a model folder into the registry after checking every file against its manifest's sha256."""
    from tonewatch.learn._promotion import import_model as do_import

    with _registry(db) as (_, store, registry):
        imported = do_import(store, registry, path, version=version, actor=_actor(actor), why=why)
    typer.echo(f"imported model version {imported.name} into {imported.path} (files verified)")


@model_app.command("promote")
def promote(
    version: Annotated[str, typer.Argument(help="The version to make active (builtin for the bundled model)")],
    actor: Annotated[str | None, _ACTOR] = None,
    why: Annotated[str | None, _WHY] = None,
    force: Annotated[bool, typer.Option("--force", help="Promote without the minimum shadow comparisons")] = False,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Make a version active everywhere; it needs enough shadow comparisons unless --force."""
    from tonewatch.learn._promotion import promote as do_promote

    with _registry(db) as (settings, store, registry):
        entry = do_promote(
            store,
            registry,
            version,
            actor=_actor(actor),
            why=why,
            force=force,
            min_comparisons=settings.shadow_min_comparisons,
        )
    forced = " (forced)" if entry.forced else ""
    typer.echo(
        f"model version {entry.version or 'builtin'} is now active{forced} (was {entry.previous or 'builtin'}); "
        f"running processes switch within {settings.model_refresh_seconds:g}s"
    )


@model_app.command("rollback")
def rollback(
    actor: Annotated[str | None, _ACTOR] = None,
    why: Annotated[str | None, _WHY] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Go back to the version that was active before the last promotion."""
    from tonewatch.learn._promotion import rollback as do_rollback

    with _registry(db) as (settings, store, registry):
        entry = do_rollback(store, registry, actor=_actor(actor), why=why)
    typer.echo(
        f"rolled back to model version {entry.version or 'builtin'} (was {entry.previous or 'builtin'}); "
        f"running processes switch within {settings.model_refresh_seconds:g}s"
    )


@model_app.command("shadow")
def shadow(
    version: Annotated[str | None, typer.Argument(help="The version to run in shadow")] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop shadow scoring")] = False,
    actor: Annotated[str | None, _ACTOR] = None,
    why: Annotated[str | None, _WHY] = None,
    db: Annotated[str | None, DB_OPTION] = None,
) -> None:
    """Score live messages with a second version too (logged and compared, never acted on)."""
    from tonewatch.learn._promotion import set_shadow

    if (version is None) == (not off):
        fail("name a VERSION to run in shadow, or --off to stop (not both)")
    with _registry(db) as (_, store, registry):
        entry = set_shadow(store, registry, None if off else version, actor=_actor(actor), why=why)
    if off:
        typer.echo(f"shadow scoring with {entry.previous} stopped")
    else:
        typer.echo(
            f"model version {entry.version} now scores live messages in shadow (compare: tonewatch model compare)"
        )


@model_app.command("compare")
def compare(
    version: Annotated[str | None, typer.Argument(help="A version (default: the current shadow)")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: Annotated[Literal["table", "json"], _FORMAT] = "table",
) -> None:
    """How a shadow version read the live messages compared with the active version."""
    from tonewatch.learn._catalogue import shadow_comparison

    with _registry(db) as (settings, store, registry), store.session(readonly=True) as session:
        comparison = shadow_comparison(session, registry, version)
    data = {**comparison.to_dict(), "min_comparisons": settings.shadow_min_comparisons}
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2))
        return
    _compare_tables(data)


def _compare_tables(d: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = Table(title=f"Shadow {d['version']} against active {d['active_version']}", title_justify="left")
    for col in ("comparisons", "needed to promote", "agreement", "mean |score diff|", "first", "last"):
        summary.add_column(col, justify="right")
    summary.add_row(
        str(d["n"]),
        str(d["min_comparisons"]),
        "-" if d["agreement"] is None else f"{d['agreement']:.1%}",
        _f(d["mean_abs_score_diff"]),
        (d["first_at"] or "-")[:19],
        (d["last_at"] or "-")[:19],
    )
    console.print(summary)
    labels = d["confusion"]["labels"]
    dist = Table(title="Label distribution", title_justify="left")
    dist.add_column("label")
    dist.add_column("active", justify="right")
    dist.add_column("shadow", justify="right")
    for lab in labels:
        dist.add_row(lab, str(d["label_distribution"]["active"][lab]), str(d["label_distribution"]["shadow"][lab]))
    console.print(dist)
    console.print(confusion_table(labels, d["confusion"]["matrix"], "active", "shadow"))
    if d["against_other_active_versions"]:
        others = ", ".join(f"{v}: {n}" for v, n in d["against_other_active_versions"].items())
        typer.echo(f"also compared against earlier active versions ({others}); not counted above")


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
