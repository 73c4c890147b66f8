"""int8 with as few fp32 matrix products as the accuracy rule needs, instead of all-or-nothing.

Dynamic int8 quantisation is what makes a model fast here (about 2.2x fp32 on the scoring benchmark).
A model ships int8 only if validation accuracy and macro-recall drop by at most 0.5 points; one that
lost 0.7 used to ship in fp32 entirely, although the loss usually sits in a few layers. So when the
whole-model int8 file breaks the rule, :func:`choose_precision` leaves matrix products in fp32 a
group at a time (a layer's attention projections, its feed-forward input or output; the heads),
the group whose fp32 copy helps most first, and stops at the first file inside the rule or after
``MAX_GROUPS`` groups (past that, fp32 costs little more). The caller's ``metrics`` decide on its
own validation data; the report says what was tried.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tonewatch._errors import require_extra

from ._export import quantize_int8

__all__ = ["MAX_GROUPS", "RULE", "Metrics", "choose_precision", "matmul_groups", "quantization_drop"]

RULE = 0.005  # largest allowed drop of validation accuracy or macro-recall, as a fraction
MAX_GROUPS = 3
_LAYER = re.compile(
    r"/layer\.(\d+)/(attention/self/(?:query|key|value)|attention/output/dense|intermediate/dense|output/dense)/"
)
_ROLE = {
    "attention/self/query": "attention",
    "attention/self/key": "attention",
    "attention/self/value": "attention",
    "attention/output/dense": "attention",
    "intermediate/dense": "ffn_in",
    "output/dense": "ffn_out",
}

Metrics = dict[str, dict[str, Any]]
R = TypeVar("R")  # what scoring one file on the validation data gives (logits)


def matmul_groups(fp32: Path) -> dict[str, list[str]]:
    """The graph's weight matrix products by group: ``layer3.ffn_out``, ``layer0.attention``, ``heads``."""
    onnx: Any = require_extra("onnx", "train", "Quantising an exported model")
    model = onnx.load(str(fp32), load_external_data=False)
    weights = {i.name for i in model.graph.initializer}
    groups: dict[str, list[str]] = {}
    for node in model.graph.node:
        if node.op_type != "MatMul" or not any(x in weights for x in node.input):
            continue  # attention scores multiply two activations: never quantised
        found = _LAYER.search(node.name)
        group = f"layer{found.group(1)}.{_ROLE[found.group(2)]}" if found else "heads"
        groups.setdefault(group, []).append(node.name)
    return groups


def quantization_drop(fp32: Metrics, int8: Metrics) -> float:
    """The largest loss, over sets, of accuracy or macro-recall (a fraction; negative: int8 is better)."""
    return max(float(fp32[s][m]) - float(int8[s][m]) for s in fp32 for m in ("accuracy", "macro_recall"))


def choose_precision(
    fp32: Path,
    work: Path,
    run: Callable[[Path], R],
    figures: Callable[[R], Metrics],
    *,
    log: Callable[[str], None] | None = None,
) -> tuple[Path, dict[str, Any], R]:
    """The file to ship (whole int8, int8 with a few fp32 groups, or fp32), the report for the manifest,
    and what ``run`` gave for that file (the caller calibrates on it instead of running the file again).

    ``run`` scores a file on the caller's validation data and ``figures`` turns that into accuracy and
    macro-recall per set. ``log`` gets one line per file measured (the search can take minutes).
    """
    say = log or (lambda _line: None)
    base_out = run(fp32)
    base = figures(base_out)
    whole = work / "model.int8.onnx"
    quantize_int8(fp32, whole)
    whole_out = run(whole)
    whole_metrics = figures(whole_out)
    drop = quantization_drop(base, whole_metrics)
    rule = f"int8 only if validation accuracy and macro-recall drop <= {RULE * 100:.1f} points"
    report: dict[str, Any] = {"rule": rule}
    report.update(fp32=base, int8=whole_metrics, int8_drop_points=round(drop * 100, 3))
    say(f"int8: largest drop {drop * 100:.2f} points")
    if drop <= RULE:
        report.update(chosen="int8", fp32_groups=[], largest_drop_points=round(drop * 100, 3))
        return whole, report, whole_out

    groups = matmul_groups(fp32)
    trial = work / "model.trial.onnx"
    single: dict[str, float] = {}
    for name, nodes in groups.items():
        quantize_int8(fp32, trial, nodes)
        single[name] = quantization_drop(base, figures(run(trial)))
        say(f"int8 but {name} in fp32: largest drop {single[name] * 100:.2f} points")
    report["drop_with_one_group_fp32"] = {k: round(v * 100, 3) for k, v in sorted(single.items(), key=lambda kv: kv[1])}
    kept: list[str] = []
    mixed = work / "model.int8-mixed.onnx"
    for name in sorted(single, key=lambda k: single[k])[:MAX_GROUPS]:
        kept.append(name)
        quantize_int8(fp32, mixed, [n for g in kept for n in groups[g]])
        mixed_out = run(mixed)
        mixed_metrics = figures(mixed_out)
        drop = quantization_drop(base, mixed_metrics)
        say(f"int8 but {', '.join(kept)} in fp32: largest drop {drop * 100:.2f} points")
        if drop <= RULE:
            report.update(chosen="int8-mixed", fp32_groups=kept, int8_mixed=mixed_metrics)
            report.update(largest_drop_points=round(drop * 100, 3))
            return mixed, report, mixed_out
    report.update(chosen="fp32", fp32_groups=kept, largest_drop_points=0.0)
    return fp32, report, base_out
