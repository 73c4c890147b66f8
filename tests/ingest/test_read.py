"""Reading event files: JSON lines and CSV, with a reason for every unreadable line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tonewatch import EventValidationError, InputError
from tonewatch.ingest import parse_event, read_events


def test_jsonl_lines_numbers_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = {
        "kind": "usage",
        "event_id": "u1",
        "customer_id": "c1",
        "timestamp": "2026-05-01",
        "metric": "x",
        "value": 1,
    }
    path.write_bytes(
        json.dumps(good).encode()
        + b"\n\n"
        + b"{not json\n"
        + b"[1, 2]\n"
        + b'{"kind": "outcome", "text": "caf\xe9"}\n'
        + json.dumps(good | {"event_id": "u2"}).encode()
    )
    items = list(read_events(path))
    assert [line for line, _ in items] == [1, 3, 4, 5, 6]
    assert items[0][1] == good
    assert isinstance(items[1][1], EventValidationError)
    assert items[1][1].code == "invalid_json"
    assert isinstance(items[2][1], EventValidationError)
    assert "JSON object" in items[2][1].message
    assert isinstance(items[3][1], EventValidationError)
    assert items[3][1].code == "invalid_utf8"
    assert items[4][1] == good | {"event_id": "u2"}


def test_csv_columns_attributes_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "kind,customer_id,event_id,timestamp,channel,author,text,attributes,attributes.plan,metric,value\n"
        'customer,c1,,,,,,"{""segment"": ""smb""}",pro,,\n'
        'message,c1,m1,2026-05-01T10:00:00Z,email,customer,"Hello,\nthe invoice is wrong",,,,\n'
        "usage,c1,u1,2026-05-02,,,,,,logins,12\n"
        'customer,c2,,,,,,"{bad json",,,\n',
        encoding="utf-8",
    )
    items = list(read_events(path))
    assert [line for line, _ in items] == [2, 3, 5, 6]
    first = items[0][1]
    assert first == {"kind": "customer", "customer_id": "c1", "attributes": {"segment": "smb", "plan": "pro"}}
    message = items[1][1]
    assert isinstance(message, dict)
    assert message["text"] == "Hello,\nthe invoice is wrong"
    usage = items[2][1]
    assert isinstance(usage, dict)
    assert parse_event(usage).value == 12.0  # type: ignore[union-attr]
    bad = items[3][1]
    assert isinstance(bad, EventValidationError)
    assert bad.field == "attributes"
    assert bad.line == 6


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        list(read_events(tmp_path / "nope.jsonl"))
