"""The hash of an audit entry: sha256 over a canonical JSON form plus the previous hash.

Canonical means the same bytes on every backend and Python version: keys sorted, no
whitespace, UTF-8, timestamps as ISO-8601 UTC with microseconds. ``details`` is reduced to
plain JSON before hashing and before storing (``normalize_details``), so what comes back
from JSON/JSONB hashes exactly like what went in.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tonewatch._errors import InputError

__all__ = ["canonical_json", "entry_hash", "format_ts", "normalize_details"]


def format_ts(ts: datetime) -> str:
    """The one textual form of an entry time (UTC, microseconds, ``Z``)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"audit details must be finite numbers ({path} is {value})", field=path)
        return value
    if isinstance(value, Decimal):
        return _plain(float(value), path)
    if isinstance(value, datetime):
        return format_ts(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(items)]
    raise InputError(f"audit details must be JSON data; {path} is a {type(value).__name__}", field=path)


def normalize_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Plain-JSON copy of ``details`` (datetimes as text, tuples as lists), or an InputError."""
    plain = _plain(dict(details or {}), "details")
    # Round-trip through JSON so float/int forms are the ones every backend gives back.
    result: dict[str, Any] = json.loads(json.dumps(plain, allow_nan=False))
    return result


def canonical_json(seq: int, ts: datetime, actor: str, action: str, subject: str, details: Mapping[str, Any]) -> str:
    return json.dumps(
        {"seq": seq, "ts": format_ts(ts), "actor": actor, "action": action, "subject": subject, "details": details},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def entry_hash(
    seq: int, ts: datetime, actor: str, action: str, subject: str, details: Mapping[str, Any], prev_hash: str
) -> str:
    """sha256 hex of the canonical entry followed by the previous entry's hash."""
    body = canonical_json(seq, ts, actor, action, subject, details) + "\n" + prev_hash
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
