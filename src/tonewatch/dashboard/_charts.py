"""Chart specifications: plain JSON the page's script hands to the vendored Chart.js.

A spec is built once on the server and rendered twice: as a ``<canvas>`` chart (through
``static/dashboard.js``) and as an HTML table under it, so every chart can be read with a
screen reader, copied, and checked by tests without reading pixels. Values hidden by the
visibility policy or suppressed as too small a group are ``None`` and show as gaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ChartSpec", "Dataset", "chart_has_data"]

ChartType = Literal["line", "bar", "time"]
DatasetKind = Literal["line", "bar", "points", "marker"]


@dataclass
class Dataset:
    """One series: ``values`` align with the chart's labels; ``points`` are ``(epoch_ms, y)`` for time charts."""

    label: str
    values: Sequence[float | None] = field(default_factory=list)
    points: list[tuple[int, float]] = field(default_factory=list)
    kind: DatasetKind = "line"
    color: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "kind": self.kind}
        if self.color is not None:
            out["color"] = self.color
        if self.points:
            out["points"] = [[x, round(y, 4)] for x, y in self.points]
        else:
            out["values"] = [None if v is None else round(v, 4) for v in self.values]
        return out


@dataclass
class ChartSpec:
    """A chart's data and the few display options the pages need."""

    id: str
    title: str
    type: ChartType
    labels: Sequence[str] = ()
    datasets: list[Dataset] = field(default_factory=list)
    y_title: str = ""
    y_min: float | None = None
    y_max: float | None = None
    stacked: bool = False
    percent: bool = False
    note: str = ""
    hidden_by: str | None = None  # the visibility policy that hides this chart's values from the viewer

    @property
    def has_data(self) -> bool:
        return chart_has_data(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "type": self.type,
            "labels": list(self.labels),
            "datasets": [d.to_dict() for d in self.datasets],
            "y": {"title": self.y_title, "min": self.y_min, "max": self.y_max},
            "stacked": self.stacked,
            "percent": self.percent,
        }

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows of the accessible table that mirrors the chart."""
        fmt = _pct if self.percent else _num
        if self.type == "time":
            header = ["Series", "Date", self.y_title or "Value"]
            rows = [[d.label, _date(x), fmt(y)] for d in self.datasets for x, y in sorted(d.points, key=lambda p: p[0])]
            return header, rows
        header = ["", *[d.label for d in self.datasets]]
        rows = [[label, *[fmt(_at(d.values, i)) for d in self.datasets]] for i, label in enumerate(self.labels)]
        return header, rows


def chart_has_data(spec: ChartSpec) -> bool:
    """At least one value to draw."""
    return any(d.points or any(v is not None for v in d.values) for d in spec.datasets)


def _at(values: Sequence[float | None], i: int) -> float | None:
    return values[i] if i < len(values) else None


def _num(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f}" if float(v).is_integer() and abs(v) >= 1 else f"{v:.2f}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def _date(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
