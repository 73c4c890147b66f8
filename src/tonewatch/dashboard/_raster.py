"""Server-side PNG charts: bars and lines with axes, ticks, a title and a legend.

Draws a :class:`~tonewatch.dashboard._charts.ChartSpec` (the same spec the browser draws
with Chart.js) onto a numpy canvas and encodes it with :func:`encode_png`. Enough for the
report's category, trend and feature charts; not a general plotting library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ._charts import ChartSpec
from ._font import GLYPH_HEIGHT, GLYPH_WIDTH, glyph_columns, to_ascii
from ._png import encode_png

__all__ = ["PALETTE", "Canvas", "render_chart_png"]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies; the browser uses the same.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
    (240, 228, 66),
    (110, 110, 110),
)
_INK = (33, 37, 41)
_GRID = (222, 226, 230)
_AXIS = (108, 117, 125)


class Canvas:
    """An RGB image with the few drawing operations the charts need."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels: npt.NDArray[np.uint8] = np.full((height, width, 3), 255, dtype=np.uint8)

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: tuple[int, int, int]) -> None:
        xa, xb = sorted((round(x0), round(x1)))
        ya, yb = sorted((round(y0), round(y1)))
        xa, ya = max(xa, 0), max(ya, 0)
        xb, yb = min(xb, self.width), min(yb, self.height)
        if xa < xb and ya < yb:
            self.pixels[ya:yb, xa:xb] = color

    def line(self, x0: float, y0: float, x1: float, y1: float, color: tuple[int, int, int], width: int = 1) -> None:
        steps = max(int(math.hypot(x1 - x0, y1 - y0) * 2), 1)
        half = width / 2
        for i in range(steps + 1):
            t = i / steps
            x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            self.rect(x - half, y - half, x + half, y + half, color)

    def dot(self, x: float, y: float, color: tuple[int, int, int], radius: int = 3) -> None:
        for dy in range(-radius, radius + 1):
            span = int(math.sqrt(radius * radius - dy * dy))
            self.rect(x - span, y + dy, x + span + 1, y + dy + 1, color)

    def text(self, x: float, y: float, text: str, color: tuple[int, int, int] = _INK, scale: int = 1) -> None:
        """Draw ``text`` with its top-left corner at (x, y)."""
        cx = round(x)
        for char in to_ascii(text):
            for col, bits in enumerate(glyph_columns(char)):
                for row in range(GLYPH_HEIGHT):
                    if bits >> row & 1:
                        px, py = cx + col * scale, round(y) + row * scale
                        self.rect(px, py, px + scale, py + scale, color)
            cx += (GLYPH_WIDTH + 1) * scale

    @staticmethod
    def text_width(text: str, scale: int = 1) -> int:
        return len(to_ascii(text)) * (GLYPH_WIDTH + 1) * scale

    def png(self) -> bytes:
        return encode_png(self.pixels)


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def _fmt(v: float, percent: bool) -> str:
    if percent:
        return f"{v:.0%}"
    return f"{v:g}" if abs(v) >= 0.01 or v == 0 else f"{v:.2g}"


def _fit(text: str, pixels: int) -> str:
    chars = max(pixels // (GLYPH_WIDTH + 1), 1)
    return text if len(text) <= chars else text[: max(chars - 1, 1)] + "."


def _range(spec: ChartSpec, values: Sequence[float]) -> tuple[float, float]:
    lo = min([*values, 0.0]) if spec.type == "bar" else min(values, default=0.0)
    hi = max([*values, 0.0]) if spec.type == "bar" else max(values, default=1.0)
    if spec.stacked and spec.type == "bar":
        sums = [sum(v or 0.0 for v in col) for col in zip(*[d.values for d in spec.datasets], strict=False)]
        hi = max([hi, *sums])
    lo = spec.y_min if spec.y_min is not None else lo
    hi = spec.y_max if spec.y_max is not None else hi
    if hi <= lo:
        hi = lo + 1.0
    return lo, hi


def render_chart_png(spec: ChartSpec, *, width: int = 880, height: int = 420) -> bytes:
    """The chart as PNG bytes (category charts: ``bar`` and ``line``)."""
    c = Canvas(width, height)
    c.text(16, 12, _fit(spec.title, width - 32), scale=2)
    values = [v for d in spec.datasets for v in d.values if v is not None]
    left, right, top, bottom = 64, width - 16, 48, height - 72
    lo, hi = _range(spec, values)
    step = _nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step

    def y_of(v: float) -> float:
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    tick = lo
    while tick <= hi + step / 1000:
        y = y_of(tick)
        c.rect(left, y, right, y + 1, _GRID)
        label = _fmt(tick, spec.percent)
        c.text(left - 6 - c.text_width(label), y - GLYPH_HEIGHT / 2, label, _AXIS)
        tick += step
    c.rect(left, top, left + 1, bottom + 1, _AXIS)
    c.rect(left, y_of(max(lo, min(0.0, hi))), right, y_of(max(lo, min(0.0, hi))) + 1, _AXIS)
    n = len(spec.labels)
    if n == 0 or not values:
        c.text(left + 16, (top + bottom) / 2, "no data for this period", _AXIS, scale=2)
        return c.png()
    slot = (right - left) / n
    every = max(1, math.ceil(n * 8 * (GLYPH_WIDTH + 1) / (right - left) / 2))
    for i, label in enumerate(spec.labels):
        if i % every == 0:
            text = _fit(label, int(slot * every) - 4)
            c.text(left + slot * (i + 0.5) - c.text_width(text) / 2, bottom + 8, text, _AXIS)
    if spec.type == "bar":
        _bars(c, spec, left, slot, y_of, lo)
    else:
        _lines(c, spec, left, slot, y_of)
    _legend(c, spec, left, height - 36)
    return c.png()


def _color(spec: ChartSpec, k: int) -> tuple[int, int, int]:
    d = spec.datasets[k]
    return PALETTE[(d.color if d.color is not None else k) % len(PALETTE)]


def _bars(c: Canvas, spec: ChartSpec, left: float, slot: float, y_of: object, lo: float) -> None:
    assert callable(y_of)
    groups = 1 if spec.stacked else len(spec.datasets)
    width = slot * 0.8 / groups
    base = max(lo, 0.0)
    for i in range(len(spec.labels)):
        stack = base
        for k, d in enumerate(spec.datasets):
            v = d.values[i] if i < len(d.values) else None
            if v is None:
                continue
            x0 = left + slot * i + slot * 0.1 + (0 if spec.stacked else k * width)
            if spec.stacked:
                c.rect(x0, y_of(stack), x0 + width, y_of(stack + v), _color(spec, k))
                stack += v
            else:
                c.rect(x0 + 1, y_of(base), x0 + width - 1, y_of(v), _color(spec, k))


def _lines(c: Canvas, spec: ChartSpec, left: float, slot: float, y_of: object) -> None:
    assert callable(y_of)
    for k, d in enumerate(spec.datasets):
        color = _color(spec, k)
        previous: tuple[float, float] | None = None
        for i, v in enumerate(d.values):
            if v is None:
                previous = None
                continue
            point = (left + slot * (i + 0.5), float(y_of(v)))
            if previous is not None:
                c.line(*previous, *point, color, width=2)
            c.dot(*point, color, radius=3)
            previous = point


def _legend(c: Canvas, spec: ChartSpec, x: float, y: float) -> None:
    for k, d in enumerate(spec.datasets):
        label = to_ascii(d.label)
        c.rect(x, y, x + 12, y + 8, _color(spec, k))
        c.text(x + 16, y, label, _INK)
        x += 16 + c.text_width(label) + 20
        if x > c.width - 80:
            break
