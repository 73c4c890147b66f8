"""The reliability diagram of an evaluation, drawn with the dashboard's PNG rasteriser.

Bars are each confidence bin's accuracy, the orange tick in each bar its mean confidence,
and the grey diagonal perfect calibration: a bar below its tick is over-confident. Drawn
with ``dashboard/_raster.Canvas`` (numpy + zlib), so the report needs no plotting library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["reliability_png"]

_BAR = (0, 114, 178)
_TICK = (230, 159, 0)
_DIAGONAL = (150, 150, 150)
_GRID = (222, 226, 230)
_AXIS = (108, 117, 125)
_INK = (33, 37, 41)


def reliability_png(
    bins: Sequence[Mapping[str, Any]], *, ece: float, n: int, width: int = 720, height: int = 600
) -> bytes:
    """PNG bytes of the diagram for ``bins`` (``lo``, ``hi``, ``n``, ``mean_confidence``, ``accuracy``)."""
    from tonewatch.dashboard._font import GLYPH_HEIGHT
    from tonewatch.dashboard._raster import Canvas

    c = Canvas(width, height)
    c.text(16, 12, f"Reliability: ECE {ece:.3f} over {n} messages", scale=2)
    left, right, top, bottom = 72, width - 24, 48, height - 84
    span_x, span_y = right - left, bottom - top

    def x_of(v: float) -> float:
        return left + v * span_x

    def y_of(v: float) -> float:
        return bottom - v * span_y

    for i in range(6):
        v = i / 5
        c.rect(left, y_of(v), right, y_of(v) + 1, _GRID)
        label = f"{v:.1f}"
        c.text(left - 8 - c.text_width(label), y_of(v) - GLYPH_HEIGHT / 2, label, _AXIS)
        c.text(x_of(v) - c.text_width(label) / 2, bottom + 8, label, _AXIS)
    for b in bins:
        if not b.get("n") or b.get("accuracy") is None:
            continue
        x0, x1 = x_of(float(b["lo"])) + 2, x_of(float(b["hi"])) - 2
        c.rect(x0, y_of(float(b["accuracy"])), x1, y_of(0), _BAR)
        tick = y_of(float(b["mean_confidence"]))
        c.rect(x0, tick - 1, x1, tick + 2, _TICK)
        count = str(b["n"])
        if c.text_width(count) <= x1 - x0 + 4:
            c.text((x0 + x1) / 2 - c.text_width(count) / 2, min(y_of(float(b["accuracy"])), tick) - 12, count, _INK)
    c.line(x_of(0), y_of(0), x_of(1), y_of(1), _DIAGONAL, width=1)  # over the bars: the reference
    c.rect(left, top, left + 1, bottom + 1, _AXIS)
    c.rect(left, bottom, right, bottom + 1, _AXIS)
    xt = "confidence of the predicted label"
    c.text((left + right) / 2 - c.text_width(xt) / 2, bottom + 24, xt, _INK)
    c.text(8, top - 14, "accuracy", _INK)
    legend_y = height - 28
    x = float(left)
    for color, label in ((_BAR, "accuracy in bin (count above)"), (_TICK, "mean confidence"), (_DIAGONAL, "perfect")):
        c.rect(x, legend_y, x + 12, legend_y + 8, color)
        c.text(x + 16, legend_y, label, _INK)
        x += 16 + c.text_width(label) + 24
    return c.png()
