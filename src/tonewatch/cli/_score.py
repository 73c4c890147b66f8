"""``tonewatch score`` and ``tonewatch eval``: score message files, or measure the analyzer on labelled data.

``score`` streams JSON-lines (or CSV with a ``text`` column) in chunks, scores each chunk in
one batched pass and writes one JSON line per input, in input order. A bad line (invalid
UTF-8 or JSON, no text, text too long...) becomes an error line for its id and the run goes
on; the exit status is 1 when any line failed, 2 when nothing could run (missing file, bad
model). ``--sample`` scores the bundled sample messages and prints a table.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, Literal, TextIO

import typer

from ._display import confusion_table

if TYPE_CHECKING:
    from tonewatch.score import Analysis, Analyzer

__all__ = ["register"]

_LABEL_ALIASES = {
    "negative": "negative", "neg": "negative", "0": "negative",
    "neutral": "neutral", "neu": "neutral", "1": "neutral",
    "positive": "positive", "pos": "positive", "2": "positive",
}  # fmt: skip
_LABEL_STYLE = {"positive": "green", "negative": "red", "neutral": "white", "mixed": "magenta"}
_URGENCY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}


@dataclass(slots=True)
class _Record:
    """One input: where it came from, its id, and either a text to score or the error that stops it."""

    line: int
    id: Any
    text: str | None = None
    language: str | None = None
    label: str | None = None
    error: dict[str, Any] | None = None


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _error(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field}


def _open_input(path: str) -> tuple[BinaryIO, int | None]:
    if path == "-":
        return sys.stdin.buffer, None
    p = Path(path)
    if not p.is_file():
        raise _fail(f"input file {path} does not exist")
    return p.open("rb"), p.stat().st_size


def _from_object(obj: Any, line: int, need_label: bool) -> _Record:
    if not isinstance(obj, dict):
        return _Record(line, None, error=_error("invalid_json", f"line {line}: expected a JSON object"))
    rid = obj.get("id", str(line))
    rec = _Record(line, rid)
    text = obj.get("text")
    if text is None:
        rec.error = _error("missing_text", f"line {line}: no 'text' field", "text")
        return rec
    rec.text = text
    lang = obj.get("language")
    rec.language = lang if lang not in (None, "") else None
    if need_label:
        raw = obj.get("label")
        label = _LABEL_ALIASES.get(str(raw).strip().lower()) if raw is not None else None
        if label is None:
            rec.error = _error("invalid_label", f"line {line}: label must be negative, neutral or positive", "label")
        rec.label = label
    return rec


def _jsonl_records(fh: BinaryIO, need_label: bool, progress: Any = None) -> Iterator[_Record]:
    for n, raw in enumerate(fh, start=1):
        if progress is not None:
            progress(len(raw))
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            rid: Any = None
            try:  # salvage the id so the error line can be matched to its message
                salvaged = json.loads(raw.decode("utf-8", errors="replace"))
                rid = salvaged.get("id") if isinstance(salvaged, dict) else None
            except ValueError:
                pass
            message = f"line {n} is not valid UTF-8 (byte {exc.start})"
            yield _Record(n, rid, error=_error("invalid_text", message, "text"))
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield _Record(n, None, error=_error("invalid_json", f"line {n} is not valid JSON: {exc}"))
            continue
        yield _from_object(obj, n, need_label)


def _csv_records(fh: BinaryIO, need_label: bool, progress: Any = None) -> Iterator[_Record]:
    # surrogateescape keeps undecodable bytes as lone surrogates; check_text then refuses just that row
    text = io.TextIOWrapper(fh, encoding="utf-8", errors="surrogateescape", newline="")
    reader = csv.DictReader(text)
    if reader.fieldnames is None or "text" not in reader.fieldnames:
        raise _fail("CSV input needs a header row with a 'text' column")
    for n, row in enumerate(reader, start=2):
        if progress is not None:
            progress(sum(len(v or "") + 1 for v in row.values()))
        obj: dict[str, Any] = {k: v for k, v in row.items() if k is not None}
        if not obj.get("id"):
            obj["id"] = str(n)
        yield _from_object(obj, n, need_label)


def _records(
    path: str, input_format: str, need_label: bool, progress: Any = None
) -> tuple[Iterator[_Record], int | None]:
    fh, size = _open_input(path)
    fmt = input_format
    if fmt == "auto":
        fmt = "csv" if path.lower().endswith(".csv") else "jsonl"
    reader = _csv_records if fmt == "csv" else _jsonl_records
    return reader(fh, need_label, progress), size


def _chunks(records: Iterator[_Record], size: int) -> Iterator[list[_Record]]:
    chunk: list[_Record] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _score_chunk(analyzer: Analyzer, chunk: list[_Record], batch_size: int) -> list[Analysis | None]:
    """Analyses in chunk order (None where the record failed); bad texts get their error, the rest one batch."""
    from tonewatch._errors import InputError
    from tonewatch.score import check_language, check_text

    ok: list[int] = []
    for i, rec in enumerate(chunk):
        if rec.error is not None:
            continue
        try:
            rec.text = check_text(rec.text, max_chars=analyzer.max_text_chars)
            rec.language = check_language(rec.language)
        except InputError as exc:
            rec.error = exc.to_dict()
            continue
        ok.append(i)
    out: list[Analysis | None] = [None] * len(chunk)
    texts = [chunk[i].text or "" for i in ok]
    results = analyzer.analyze_batch(texts, batch_size=batch_size, languages=[chunk[i].language for i in ok])
    for i, res in zip(ok, results, strict=True):
        out[i] = res
    return out


def _analyzer(model_dir: Path | None, threads: int | None, max_text_chars: int | None, tonal: bool = True) -> Analyzer:
    """The shared analyzer for these settings (one model load per process), loaded now so errors show early."""
    from tonewatch._errors import TonewatchError
    from tonewatch.score import Analyzer, get_analyzer
    from tonewatch.settings import Settings

    try:
        overrides: dict[str, Any] = {}
        if model_dir is not None:
            overrides["model_dir"] = model_dir
        if threads is not None:
            overrides["threads"] = threads
        if max_text_chars is not None:
            overrides["max_text_chars"] = max_text_chars
        s = Settings(**overrides)
        if tonal:
            return get_analyzer(s).load()
        return Analyzer.from_settings(s, tonal=False).load()
    except TonewatchError as exc:
        raise _fail(f"cannot load the model: {exc}") from exc


def _progress_bar(total: int | None, enabled: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        return None
    return Progress(
        TextColumn("scoring"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _sample_table(rows: list[tuple[Any, str, Analysis]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from tonewatch.score import top_emotion

    table = Table(title="tonewatch: bundled sample messages", title_justify="left", show_lines=True)
    table.add_column("id", style="dim", no_wrap=True)
    table.add_column("message", ratio=4, overflow="fold")
    table.add_column("label", no_wrap=True)
    table.add_column("conf", justify="right")
    table.add_column("emotion", no_wrap=True)
    table.add_column("urgency", no_wrap=True)
    table.add_column("cues", ratio=3, overflow="fold")
    for rid, text, a in rows:
        shown = " ".join(text.split())
        shown = shown if len(shown) <= 140 else shown[:137] + "..."
        label = f"[{_LABEL_STYLE[a.label]}]{a.label}[/]" + (" [yellow]⚑[/]" if a.needs_review else "")
        cues = ", ".join(f"{c.kind}: “{c.span}”" for c in a.cues if c.weight > 0 or c.direction == "urgent")
        urgency = f"[{_URGENCY_STYLE[a.urgency.level]}]{a.urgency.level}[/] {a.urgency.score:.2f}"
        table.add_row(str(rid), shown, label, f"{a.confidence:.2f}", top_emotion(a.emotions), urgency, cues)
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped or captured: wide enough to read, not the 80-column default
    console.print(table)
    console.print("⚑ = needs human review (low confidence, mixed, sarcasm or unvalidated language)", style="dim")


def _score_stream(analyzer: Analyzer, records: Iterator[_Record], out: TextIO, batch_size: int) -> tuple[int, int]:
    """Score and write chunk by chunk, in input order; returns (scored, failed)."""
    scored = failed = 0
    for chunk in _chunks(records, max(256, batch_size * 8)):
        lines = []
        for rec, res in zip(chunk, _score_chunk(analyzer, chunk, batch_size), strict=True):
            if res is None:
                failed += 1
                lines.append({"id": rec.id, "line": rec.line, "error": rec.error})
            else:
                scored += 1
                lines.append({"id": rec.id, **res.to_dict()})
        out.write("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
        out.flush()
    return scored, failed


def score(
    input: Annotated[str | None, typer.Option("--input", "-i", help="JSON-lines or CSV file, or - for stdin")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="JSON-lines output file, or - for stdout")] = "-",
    sample: Annotated[bool, typer.Option("--sample", help="Score the bundled sample messages as a table")] = False,
    input_format: Annotated[
        Literal["auto", "jsonl", "csv"], typer.Option("--input-format", help="Default: from the file name")
    ] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Sequences per forward pass")] = 32,
    threads: Annotated[int | None, typer.Option(min=0, help="onnxruntime threads (0 = all cores)")] = None,
    max_text_chars: Annotated[int | None, typer.Option(min=1, help="Refuse longer texts (never truncated)")] = None,
    model_dir: Annotated[Path | None, typer.Option(help="A model folder instead of the bundled model")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on a terminal")] = True,
) -> None:
    """Score customer messages: one JSON line per input with label, probabilities, emotions, urgency and cues."""
    if sample and input is not None:
        raise _fail("give either --sample or --input, not both")
    if not sample and input is None:
        raise _fail("--input is required (a JSON-lines or CSV file, or - for stdin); try --sample")
    analyzer = _analyzer(model_dir, threads, max_text_chars)
    if sample:
        from tonewatch.score import load_samples

        samples = load_samples()
        results = analyzer.analyze_batch([s["text"] for s in samples], batch_size=batch_size)
        if output == "-":
            _sample_table([(s["id"], s["text"], a) for s, a in zip(samples, results, strict=True)])
            return
        with Path(output).open("w", encoding="utf-8") as fh:
            for s, a in zip(samples, results, strict=True):
                fh.write(json.dumps({"id": s["id"], **a.to_dict()}, ensure_ascii=False) + "\n")
        return

    assert input is not None
    bar = _progress_bar(None, progress)
    task: Any = None
    advance = None
    if bar is not None:
        bar.start()
        task = bar.add_task("score", total=None)

        def advance(n: int) -> None:
            bar.advance(task, n)

    records, size = _records(input, input_format, need_label=False, progress=advance)
    if bar is not None and size is not None:
        bar.update(task, total=size)
    started = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            out: TextIO = sys.stdout if output == "-" else stack.enter_context(Path(output).open("w", encoding="utf-8"))
            scored, failed = _score_stream(analyzer, records, out, batch_size)
    finally:
        if bar is not None:
            bar.stop()
    seconds = time.perf_counter() - started
    rate = f" ({scored / seconds:,.0f} messages/s)" if seconds > 0 and scored else ""
    typer.echo(f"scored {scored}, failed {failed} in {seconds:.1f}s{rate}", err=True)
    if failed:
        raise typer.Exit(1)


def evaluate(
    input: Annotated[str, typer.Option("--input", "-i", help="JSON-lines (id, text, label) or CSV; - for stdin")],
    output_format: Annotated[Literal["table", "json"], typer.Option("--format", help="Rich tables or JSON")] = "table",
    input_format: Annotated[Literal["auto", "jsonl", "csv"], typer.Option("--input-format")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Sequences per forward pass")] = 32,
    threads: Annotated[int | None, typer.Option(min=0, help="onnxruntime threads (0 = all cores)")] = None,
    tonal: Annotated[bool, typer.Option(help="Apply the tonal cue layer (--no-tonal: the model alone)")] = True,
    model_dir: Annotated[Path | None, typer.Option(help="A model folder instead of the bundled model")] = None,
) -> None:
    """Accuracy, macro recall, macro F1, confusion matrix and calibration (ECE) on labelled messages."""
    from tonewatch.score import evaluate_sentiment

    analyzer = _analyzer(model_dir, threads, None, tonal=tonal)
    records, _ = _records(input, input_format, need_label=True)
    gold: list[str] = []
    probs: list[dict[str, float]] = []
    labels: list[str] = []
    bad: list[_Record] = []
    for chunk in _chunks(records, 512):
        for rec, res in zip(chunk, _score_chunk(analyzer, chunk, batch_size), strict=True):
            if res is None or rec.label is None:
                bad.append(rec)
                continue
            gold.append(rec.label)
            probs.append(dict(res.probabilities))
            labels.append(res.label)
    for rec in bad[:20]:
        message = rec.error["message"] if rec.error else "unusable line"
        typer.echo(f"skipped line {rec.line} (id {rec.id}): {message}", err=True)
    if not gold:
        raise _fail("no usable labelled lines", 1)
    report = evaluate_sentiment(gold, probs, labels)
    result = {**report.to_dict(), "skipped": len(bad), "model_version": analyzer.model_version, "tonal": tonal}
    if output_format == "json":
        typer.echo(json.dumps(result, indent=2))
    else:
        _eval_tables(result)
    if bad:
        raise typer.Exit(1)


def _eval_tables(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = Table(title=f"tonewatch eval (model {r['model_version']})", title_justify="left")
    for col in ("messages", "accuracy", "macro recall", "macro F1", "ECE", "predicted mixed", "skipped"):
        summary.add_column(col, justify="right")
    summary.add_row(
        str(r["n"]),
        f"{r['accuracy']:.4f}",
        f"{r['macro_recall']:.4f}",
        f"{r['macro_f1']:.4f}",
        f"{r['ece']:.4f}",
        str(r["predicted_mixed"]),
        str(r["skipped"]),
    )
    console.print(summary)
    labels = r["confusion"]["labels"]
    per_class = Table(title="Per class", title_justify="left")
    for col in ("class", "precision", "recall", "F1", "support"):
        per_class.add_column(col, justify="left" if col == "class" else "right")
    for i, lab in enumerate(labels):
        support = sum(r["confusion"]["matrix"][i])
        scores = (f"{r[m][lab]:.4f}" for m in ("precision", "recall", "f1"))
        per_class.add_row(lab, *scores, str(support))
    console.print(per_class)
    console.print(confusion_table(labels, r["confusion"]["matrix"], "gold", "predicted"))


def register(app: typer.Typer) -> None:
    app.command("score")(score)
    app.command("eval")(evaluate)
