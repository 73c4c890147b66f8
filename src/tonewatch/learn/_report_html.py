"""Writing an evaluation: ``report.json``, ``reliability.png`` and a self-contained ``report.html``.

The HTML has its CSS inline and the reliability diagram embedded as a ``data:`` URI, so it
can be mailed or attached to a ticket as one file and opened anywhere, offline.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

    from ._evaluate import EvaluationReport

__all__ = ["render_html", "write_evaluation"]

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation of model {{ r.model.version }} on {{ r.data_name }}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #212529; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; margin-top: 2rem;
     border-bottom: 1px solid #dee2e6; padding-bottom: .25rem; } h3 { font-size: 1rem; }
.meta { color: #6c757d; }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
.card { border: 1px solid #dee2e6; border-radius: 6px; padding: .5rem .9rem; min-width: 7.5rem; }
.card b { display: block; font-size: 1.35rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #dee2e6; padding: .25rem .55rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text { text-align: left; }
thead th { background: #f1f3f5; }
td.text { max-width: 520px; }
tr.flag td { background: #fff0f0; } td.bad { color: #b02a37; font-weight: 600; }
tr.small td { color: #868e96; font-style: italic; }
.diag { background: #e7f5ff; font-weight: 600; }
.note { color: #495057; font-size: .92rem; }
img { max-width: 100%; border: 1px solid #dee2e6; }
</style>
</head>
<body>
<h1>Evaluation of model <code>{{ r.model.version }}</code></h1>
<p class="meta">Model version {{ r.model.model_version }} ({{ r.model.source }}) · data {{ r.data_name }}
 · {{ o.n }} labelled messages · {{ r.created }}</p>

<div class="cards">
 <div class="card">accuracy<b>{{ pct(o.accuracy) }}</b></div>
 <div class="card">macro recall<b>{{ pct(o.macro_recall) }}</b></div>
 <div class="card">macro F1<b>{{ pct(o.macro_f1) }}</b></div>
 <div class="card">ECE<b>{{ num(o.ece) }}</b></div>
 <div class="card">errors<b>{{ errors }}</b></div>
 <div class="card">bias flags<b>{{ r.flagged }}</b></div>
</div>
<p class="note">How <code>mixed</code> is counted: {{ r.mixed_policy }}.
{% if not r.four_way %}The analyzer called {{ o.predicted_mixed }} of these messages mixed.{% endif %}</p>

<h2>Per class</h2>
<table>
<thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead>
<tbody>
{% for c in r.classes %}<tr><td>{{ c }}</td><td>{{ pct(o.precision[c]) }}</td><td>{{ pct(o.recall[c]) }}</td>
<td>{{ pct(o.f1[c]) }}</td><td>{{ o.support[c] }}</td></tr>
{% endfor %}</tbody>
</table>

<h2>Confusion matrix</h2>
<p class="note">Rows: the label in the data; columns: the model's prediction.</p>
<table>
<thead><tr><th>gold \\ predicted</th>{% for c in o.confusion.labels %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in o.confusion.matrix %}{% set i = loop.index0 %}<tr><td>{{ o.confusion.labels[i] }}</td>
{% for v in row %}<td{% if loop.index0 == i %} class="diag"{% endif %}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>

<h2>Calibration</h2>
<p>Expected calibration error <b>{{ num(o.ece) }}</b> (15 equal-width bins of the predicted label's confidence).</p>
<img src="data:image/png;base64,{{ png }}" width="720" height="600"
 alt="Reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration">
<table>
<thead><tr><th>confidence bin</th><th>messages</th><th>mean confidence</th><th>accuracy</th></tr></thead>
<tbody>
{% for b in r.calibration if b.n %}<tr><td>{{ num(b.lo, 2) }}–{{ num(b.hi, 2) }}</td><td>{{ b.n }}</td>
<td>{{ num(b.mean_confidence) }}</td><td>{{ num(b.accuracy) }}</td></tr>
{% endfor %}</tbody>
</table>

<h2 id="bias">Bias check</h2>
<p class="note">The same figures per segment and per language, with the gap to the overall figure. A group is
flagged when a figure is more than {{ pct(r.gap_threshold) }} below the overall one; groups with fewer than
{{ r.min_group }} messages are too small to judge and are never flagged. Group macro figures average over the
classes present in the group.</p>
{% for dim in ["segment", "language"] %}
<h3>By {{ dim }}</h3>
<table class="bias">
<thead><tr><th>{{ dim }}</th><th>messages</th><th>accuracy</th><th>gap</th><th>macro recall</th><th>gap</th>
<th>macro F1</th><th>gap</th><th>ECE</th><th>verdict</th></tr></thead>
<tbody>
{% for g in r.bias[dim] %}<tr class="{{ 'flag' if g.flagged else ('small' if g.too_small else '') }}">
<td>{{ g.group }}</td><td>{{ g.n }}</td>
{% for m in ["accuracy", "macro_recall", "macro_f1"] %}<td>{{ pct(g[m]) }}</td>
<td{% if m in g.flagged %} class="bad"{% endif %}>{{ signed(g.gaps[m]) }}</td>{% endfor %}
<td>{{ num(g.ece) }}</td>
<td>{% if g.flagged %}flagged: {{ g.flagged|join(", ") }}{% elif g.too_small %}too small to judge
{%- else %}ok{% endif %}</td></tr>
{% endfor %}</tbody>
</table>
{% endfor %}

<h2>Error analysis</h2>
{% for dim in ["segment", "channel", "language"] %}
<h3>By {{ dim }}</h3>
<table>
<thead><tr><th>{{ dim }}</th><th>messages</th><th>errors</th><th>error rate</th><th>most frequent confusions</th>
<th>examples (most confident errors first)</th></tr></thead>
<tbody>
{% for g in r.by[dim] %}<tr><td>{{ g.group }}</td><td>{{ g.n }}</td><td>{{ g.errors }}</td>
<td>{{ pct(g.error_rate) }}</td>
<td class="text">{% for c in g.top_confusions %}{{ c.pair }} ({{ c.n }}){% if not loop.last %}<br>{% endif %}
{%- endfor %}</td>
<td class="text">{% for e in g.examples %}<div><code>{{ e.id }}</code> {{ e.gold }} → {{ e.predicted }}
({{ num(e.confidence, 2) }}): {{ e.text }}</div>{% endfor %}</td></tr>
{% endfor %}</tbody>
</table>
{% endfor %}

<h2>Most confident errors</h2>
<table>
<thead><tr><th>id</th><th>gold</th><th>predicted</th><th>confidence</th><th>language</th>
<th>text (PII masked)</th></tr></thead>
<tbody>
{% for e in r.most_confident_errors %}<tr><td>{{ e.id }}</td><td>{{ e.gold }}</td><td>{{ e.predicted }}</td>
<td>{{ num(e.confidence) }}</td><td>{{ e.language }}</td><td class="text">{{ e.text }}</td></tr>
{% endfor %}</tbody>
</table>
<p class="note">Produced by <code>tonewatch evaluate</code>. Example texts are PII-masked. Per-message predictions
are in report.json.</p>
</body>
</html>
"""


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.1%}"


def _num(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _signed(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:+.1f} pt"


@cache
def _template() -> jinja2.Template:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    env.globals.update(pct=_pct, num=_num, signed=_signed)
    return env.from_string(_TEMPLATE)


def render_html(report: EvaluationReport, png: bytes) -> str:
    """The report page with the PNG embedded."""
    data: dict[str, Any] = report.to_dict()
    view = {
        "r": _View(report, data),
        "o": data["overall"],
        "png": base64.b64encode(png).decode("ascii"),
        "errors": data["errors"]["count"],
    }
    return _template().render(**view)


class _View:
    """The report as the template reads it (rounded figures, plus the few derived values)."""

    def __init__(self, report: EvaluationReport, data: dict[str, Any]) -> None:
        self.model = data["model"]
        self.data_name = Path(report.data).name
        self.created = data["created"]
        self.classes = data["classes"]
        self.four_way = report.four_way
        self.mixed_policy = report.mixed_policy
        self.calibration = data["calibration"]["bins"]
        self.bias = {dim: data["bias"][dim] for dim in ("segment", "language")}
        self.by = data["by"]
        self.gap_threshold = report.gap_threshold
        self.min_group = report.min_group
        self.flagged = report.flagged
        self.most_confident_errors = data["errors"]["most_confident"]


def write_evaluation(report: EvaluationReport, out: Path) -> dict[str, Path]:
    """Write ``report.json``, ``reliability.png`` and ``report.html`` into ``out`` (created if needed)."""
    from ._reliability import reliability_png

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = report.to_dict()
    png = reliability_png(report.calibration, ece=float(report.overall["ece"]), n=int(report.overall["n"]))
    paths = {"json": out / "report.json", "png": out / "reliability.png", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["png"].write_bytes(png)
    paths["html"].write_text(render_html(report, png), encoding="utf-8")
    return paths
