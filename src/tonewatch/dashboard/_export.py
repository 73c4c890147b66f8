"""The monthly report as files: a self-contained HTML page, a CSV table and PNG charts.

The HTML embeds its charts as PNG data URIs and its styles inline, so it can be mailed or
archived and opened anywhere, with no server and no network.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ._monthly import MonthlyReport, build_monthly_report, latest_month
from ._raster import render_chart_png
from ._render import render

if TYPE_CHECKING:
    from tonewatch.settings import Settings
    from tonewatch.store import Store

__all__ = ["chart_pngs", "monthly_html", "write_monthly_report"]


def chart_pngs(report: MonthlyReport) -> dict[str, bytes]:
    """Chart id -> PNG bytes."""
    return {spec.id: render_chart_png(spec) for spec in report.charts()}


def monthly_html(report: MonthlyReport, pngs: dict[str, bytes] | None = None) -> str:
    images = {k: base64.b64encode(v).decode("ascii") for k, v in (pngs or chart_pngs(report)).items()}
    return render("monthly_export.html.j2", report=report, images=images)


def _write(path: Path, data: bytes) -> None:
    """Atomically: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_monthly_report(
    store: Store,
    settings: Settings,
    out: Path,
    *,
    month: str | None = None,
    features: Sequence[str] | None = None,
    now: datetime | None = None,
) -> list[Path]:
    """Write ``tonewatch-report-<month>.html``/``.csv`` and one PNG per chart under ``out``; returns the paths.

    ``month`` defaults to the last complete month with customer messages. A malformed month is a ValueError.
    """
    when = now or datetime.now(UTC)
    with store.session(readonly=True) as session:
        chosen = month or latest_month(session, when)
        report = build_monthly_report(
            session, chosen, min_group=settings.aggregate_min_group, features=features, now=when
        )
    out.mkdir(parents=True, exist_ok=True)
    pngs = chart_pngs(report)
    stem = f"tonewatch-report-{report.month}"
    written: list[Path] = []
    for name, data in (
        (f"{stem}.html", monthly_html(report, pngs).encode("utf-8")),
        (f"{stem}.csv", report.to_csv().encode("utf-8")),
        *((f"{stem}-{chart}.png", png) for chart, png in pngs.items()),
    ):
        path = out / name
        _write(path, data)
        written.append(path)
    return written
