"""The public face of the generator: v1 event dicts in time order, the ground truth, JSONL files.

Everything is derived from ``random.Random`` instances seeded with strings (hashed with
SHA-512 by the standard library, independent of ``PYTHONHASHSEED``), so the same arguments
give byte-identical output on any machine and any day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tonewatch._errors import InputError

from ._company import COMPANY, DEFAULT_START
from ._plan import Window, add_months, plan_customers
from ._timeline import customer_timeline
from ._truth import GroundTruth

__all__ = ["dumps_event", "generate", "ground_truth", "write_jsonl"]

_MAX_CUSTOMERS = 100_000
_MAX_MONTHS = 36


def _check(customers: int, months: int) -> None:
    if not 1 <= customers <= _MAX_CUSTOMERS:
        raise InputError(
            f"customers must be between 1 and {_MAX_CUSTOMERS}", code="invalid_demo_size", field="customers"
        )
    if not 1 <= months <= _MAX_MONTHS:
        raise InputError(f"months must be between 1 and {_MAX_MONTHS}", code="invalid_demo_size", field="months")


def _stamp(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(
    customers: int = 300, months: int = 6, seed: int = 7, start: date = DEFAULT_START
) -> Iterator[dict[str, Any]]:
    """Yield the support history of Northwind Cloud as v1 event dicts, in timestamp order.

    ``event_id`` values are unique and stable for the same arguments, so ingesting the same
    history twice is a no-op. Raises :class:`InputError` for sizes outside the supported range.
    """
    _check(customers, months)
    window = Window(start, add_months(start, months))
    profiles = plan_customers(customers, window, seed)
    timed: list[tuple[datetime, int, int, dict[str, Any]]] = []
    for profile in profiles:
        timed.extend((ts, profile.index, seq, ev) for ts, seq, ev in customer_timeline(profile, window, customers))
    timed.sort(key=lambda item: item[:3])
    return _emit(timed, seed)


def _emit(timed: list[tuple[datetime, int, int, dict[str, Any]]], seed: int) -> Iterator[dict[str, Any]]:
    for n, (ts, _, _, ev) in enumerate(timed, 1):
        out: dict[str, Any] = {
            "kind": ev["kind"],
            "event_id": f"nw{seed}-{n:07d}",
            "customer_id": ev["customer_id"],
            "timestamp": _stamp(ts),
        }
        out.update((k, v) for k, v in ev.items() if k not in out)
        yield out


def ground_truth(customers: int = 300, months: int = 6, seed: int = 7, start: date = DEFAULT_START) -> GroundTruth:
    """Each customer's archetype and outcome for the history :func:`generate` makes with the same arguments."""
    _check(customers, months)
    window = Window(start, add_months(start, months))
    profiles = plan_customers(customers, window, seed)
    return GroundTruth(COMPANY, seed, window.start, window.end, tuple(p.truth() for p in profiles))


def dumps_event(event: dict[str, Any]) -> str:
    """One JSONL line (compact, UTF-8 characters kept as they are)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(events: Iterable[dict[str, Any]], path: Path) -> int:
    """Write events one per line (atomically: a partial file never replaces a good one); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for event in events:
            fh.write(dumps_event(event))
            fh.write("\n")
            n += 1
    tmp.replace(path)
    return n
