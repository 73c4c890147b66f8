"""Read event files: JSON lines or CSV, one event per line/row, with line numbers.

Decoding problems are yielded as :class:`EventValidationError` values rather than raised,
so one bad line is reported and the rest of the file is still ingested.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tonewatch._errors import EventValidationError, InputError

__all__ = ["NumberedEvent", "read_events", "read_events_from"]

NumberedEvent = tuple[int, dict[str, Any] | EventValidationError]

# CSV cells that are JSON rather than text.
_JSON_COLUMNS = frozenset({"attributes"})


def read_events(path: str | Path) -> Iterator[NumberedEvent]:
    """Yield ``(line_no, event dict or error)`` from a ``.jsonl`` or ``.csv`` file (``-`` = stdin, JSON lines)."""
    if str(path) == "-":
        yield from _jsonl(sys.stdin.buffer)
        return
    p = Path(path)
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}", field="path", code="unreadable_file") from None
    with fh:
        if p.suffix.lower() == ".csv":
            yield from _csv(fh)
        else:
            yield from _jsonl(fh)


def read_events_from(stream: IO[bytes] | IO[str], fmt: str = "jsonl") -> Iterator[NumberedEvent]:
    """Same as :func:`read_events` for an open stream (binary or text)."""
    if fmt == "csv":
        yield from _csv(stream)
    else:
        yield from _jsonl(stream)


def _jsonl(stream: IO[bytes] | IO[str]) -> Iterator[NumberedEvent]:
    """Each line is decoded on its own, so one line of bad UTF-8 rejects only that line."""
    for line_no, raw in enumerate(stream, start=1):
        line: str
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield (
                    line_no,
                    EventValidationError(f"not valid UTF-8 (byte {exc.start})", line=line_no, code="invalid_utf8"),
                )
                continue
        else:
            line = str(raw)
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield (
                line_no,
                EventValidationError(
                    f"invalid JSON: {exc.msg} at column {exc.colno}", line=line_no, code="invalid_json"
                ),
            )
            continue
        if not isinstance(obj, dict):
            yield line_no, EventValidationError("an event must be a JSON object", line=line_no)
            continue
        yield line_no, obj


def _csv_cell(column: str, value: str, line: int) -> Any:
    if column in _JSON_COLUMNS:
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise EventValidationError(
                f"{column}: invalid JSON: {exc.msg} at column {exc.colno}", field=column, line=line, code="invalid_json"
            ) from None
    return value


def _csv(stream: IO[bytes] | IO[str]) -> Iterator[NumberedEvent]:
    """Columns are event fields; ``attributes`` is a JSON object; ``attributes.X`` columns fill it too."""
    data = stream.read()
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        yield 1, EventValidationError(f"not valid UTF-8 (byte {exc.start})", line=1, code="invalid_utf8")
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, EventValidationError(f"invalid CSV header: {exc}", line=1, code="invalid_csv")
        return
    header = [h.strip() for h in header]
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, EventValidationError(f"invalid CSV: {exc}", line=start, code="invalid_csv")
            return
        line = start
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            yield (
                line,
                EventValidationError(
                    f"row has {len(row)} cells but the header has {len(header)} columns", line=line, code="invalid_csv"
                ),
            )
            continue
        obj: dict[str, Any] = {}
        attrs: dict[str, Any] = {}
        try:
            for column, value in zip(header, row, strict=False):
                if value == "" or not column:
                    continue
                if column.startswith("attributes."):
                    attrs[column.removeprefix("attributes.")] = value
                else:
                    obj[column] = _csv_cell(column, value, line)
        except EventValidationError as err:
            yield line, err
            continue
        if attrs:
            base = obj.get("attributes")
            obj["attributes"] = {**(base if isinstance(base, dict) else {}), **attrs}
        yield line, obj
