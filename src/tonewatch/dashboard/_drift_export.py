"""A drift report as files: ``drift.json`` for machines and a self-contained ``drift.html`` for people.

The HTML embeds its two charts as PNG data URIs (the same rasteriser as the monthly report)
and its styles inline, so it can be attached to a ticket or mailed and opened anywhere.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ._learning import drift_charts
from ._raster import render_chart_png
from ._render import render

if TYPE_CHECKING:
    from tonewatch.learn import DriftReport

__all__ = ["drift_html", "write_drift_files"]


def drift_html(report: DriftReport) -> str:
    charts = drift_charts(report)
    images = {spec.id: base64.b64encode(render_chart_png(spec)).decode("ascii") for spec in charts}
    return render("drift_export.html.j2", report=report, rows=report.rows(), charts=charts, images=images)


def _write(path: Path, data: bytes) -> None:
    """Atomically: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_drift_files(report: DriftReport, out: Path) -> list[Path]:
    """Write ``drift.json`` and ``drift.html`` into ``out`` (created if missing); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "drift.json", out / "drift.html"
    _write(json_path, (json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    _write(html_path, drift_html(report).encode("utf-8"))
    return [json_path, html_path]
