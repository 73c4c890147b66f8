"""``tonewatch evaluate``: measure a model version on your own labelled messages, overall and per group.

The labelled file is JSON lines with ``id``, ``text`` and ``label`` (negative, neutral,
positive or mixed; the aliases ``tonewatch eval`` takes work too) and optional ``segment``,
``channel`` and ``language``. Every line is checked before anything is scored: a report on
silently skipped lines would be a report on different data, so one bad line stops the run
with every bad line named.

How ``mixed`` is counted. The model scores three classes; ``mixed`` is the analyzer's verdict
when a text holds both polarities strongly (see ``score/_analyzer.py``).

* No line labelled ``mixed``: three-way evaluation exactly as ``tonewatch eval`` does it
  (``score/_metrics.evaluate_sentiment``): the prediction is the most probable of the three
  classes, the confidence that class's probability, and how many results the analyzer called
  ``mixed`` is reported beside.
* Some lines labelled ``mixed``: four-way evaluation. The prediction is the analyzer's own
  label (``mixed`` included) and its confidence the analyzer's ``confidence``, so a ``mixed``
  verdict counts as right only against a ``mixed`` label.

Group figures (per segment, channel, language) average recall and F1 over the classes that
occur in the group's labels, so a group without positive messages is not penalised for a
class it does not have. Calibration (ECE) uses the same 15 equal-width bins as the manifest.
The language of a line without one is the analyzer's detection.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tonewatch._errors import InputError

if TYPE_CHECKING:
    from tonewatch.ingest import AnalyzerLike
    from tonewatch.score import Analysis

__all__ = [
    "CLASSES",
    "EXTRA_CLASS",
    "EvaluationReport",
    "LabelledExample",
    "Prediction",
    "build_evaluation",
    "classification_metrics",
    "read_labelled",
    "score_labelled",
]

CLASSES: tuple[str, str, str] = ("negative", "neutral", "positive")
EXTRA_CLASS = "mixed"
_ALIASES = {
    "negative": "negative", "neg": "negative", "0": "negative",
    "neutral": "neutral", "neu": "neutral", "1": "neutral",
    "positive": "positive", "pos": "positive", "2": "positive",
    "mixed": "mixed", "mix": "mixed",
}  # fmt: skip
_OPTIONAL = ("segment", "channel", "language")
_SHOWN_ERRORS = 20
_BINS = 15
_NONE = "(none)"
EXAMPLES_PER_GROUP = 3


@dataclass(frozen=True, slots=True)
class LabelledExample:
    line: int
    id: str
    text: str
    label: str
    segment: str | None = None
    channel: str | None = None
    language: str | None = None


def _bad(errors: list[str], line: int, message: str) -> None:
    errors.append(f"line {line}: {message}")


def _parse_line(n: int, raw: str, errors: list[str], max_chars: int) -> LabelledExample | None:
    from tonewatch.score import check_language, check_text

    try:
        obj = json.loads(raw)
    except ValueError as exc:
        _bad(errors, n, f"not valid JSON ({exc})")
        return None
    if not isinstance(obj, dict):
        _bad(errors, n, "expected a JSON object with id, text and label")
        return None
    rid = obj.get("id")
    if rid is None or isinstance(rid, bool) or not isinstance(rid, str | int) or str(rid).strip() == "":
        _bad(errors, n, "no 'id' (a string or an integer)")
        return None
    try:
        text = check_text(obj.get("text"), max_chars=max_chars)
    except InputError as exc:
        _bad(errors, n, f"text: {exc.message}")
        return None
    raw_label = obj.get("label")
    label = _ALIASES.get(str(raw_label).strip().lower()) if isinstance(raw_label, str | int) else None
    if label is None:
        _bad(errors, n, f"unknown label {raw_label!r}: use negative, neutral, positive or mixed")
        return None
    extras: dict[str, str | None] = {}
    for key in _OPTIONAL:
        value = obj.get(key)
        if value is None or value == "":
            extras[key] = None
        elif not isinstance(value, str):
            _bad(errors, n, f"{key} must be a string")
            return None
        else:
            extras[key] = value.strip()
    if extras["language"] is not None:
        try:
            extras["language"] = check_language(extras["language"])
        except InputError as exc:
            _bad(errors, n, exc.message)
            return None
    return LabelledExample(n, str(rid), text, label, extras["segment"], extras["channel"], extras["language"])


def read_labelled(path: Path, *, max_chars: int = 200_000) -> list[LabelledExample]:
    """Every line of a labelled JSON-lines file, or one :class:`InputError` naming every bad line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"labelled data file {path} does not exist", code="missing_file", field="data")
    examples: list[LabelledExample] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    with path.open("rb") as fh:
        for n, raw_bytes in enumerate(fh, start=1):
            if not raw_bytes.strip():
                continue
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                _bad(errors, n, f"not valid UTF-8 (byte {exc.start})")
                continue
            example = _parse_line(n, raw, errors, max_chars)
            if example is None:
                continue
            if example.id in seen:
                _bad(errors, n, f"id {example.id!r} already used on line {seen[example.id]}")
                continue
            seen[example.id] = n
            examples.append(example)
    if errors:
        shown = "\n  ".join(errors[:_SHOWN_ERRORS])
        more = f"\n  ... and {len(errors) - _SHOWN_ERRORS} more" if len(errors) > _SHOWN_ERRORS else ""
        raise InputError(
            f"{path}: {len(errors)} unusable line(s), nothing was scored:\n  {shown}{more}",
            code="invalid_labelled_data",
            field="data",
        )
    if not examples:
        raise InputError(f"{path} holds no labelled lines", code="invalid_labelled_data", field="data")
    return examples


@dataclass(frozen=True, slots=True)
class Prediction:
    """One line's gold label and what the model said, as counted by the evaluation."""

    id: str
    text: str
    gold: str
    predicted: str  # the label the evaluation counts (see the module docstring)
    label: str  # the analyzer's own label (may be mixed)
    confidence: float
    probabilities: Mapping[str, float]
    language: str
    language_source: str  # "given" or "detected"
    segment: str | None
    channel: str | None

    @property
    def correct(self) -> bool:
        return self.gold == self.predicted

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "gold": self.gold,
            "predicted": self.predicted,
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "probabilities": {k: round(float(v), 6) for k, v in self.probabilities.items()},
            "language": self.language,
            "language_source": self.language_source,
            "segment": self.segment,
            "channel": self.channel,
        }


def _argmax(probabilities: Mapping[str, float]) -> str:
    # the same rule (and tie order) as score/_metrics.evaluate_sentiment
    return max(CLASSES, key=lambda c: probabilities.get(c, 0.0))


def _prediction(example: LabelledExample, analysis: Analysis, four_way: bool) -> Prediction:
    probabilities = {c: float(analysis.probabilities.get(c, 0.0)) for c in CLASSES}
    if four_way:
        predicted, confidence = str(analysis.label), float(analysis.confidence)
    else:
        predicted = _argmax(probabilities)
        confidence = probabilities[predicted]
    return Prediction(
        id=example.id,
        text=example.text,
        gold=example.label,
        predicted=predicted,
        label=str(analysis.label),
        confidence=confidence,
        probabilities=probabilities,
        language=example.language or str(analysis.language),
        language_source="given" if example.language else "detected",
        segment=example.segment,
        channel=example.channel,
    )


def score_labelled(
    analyzer: AnalyzerLike,
    examples: Sequence[LabelledExample],
    *,
    batch_size: int = 32,
    chunk: int = 64,
    on_progress: Callable[[int], None] | None = None,
) -> list[Prediction]:
    """Score every example in batched chunks (``on_progress`` gets each chunk's size)."""
    four_way = any(e.label == EXTRA_CLASS for e in examples)
    out: list[Prediction] = []
    for start in range(0, len(examples), chunk):
        part = examples[start : start + chunk]
        analyses = analyzer.analyze_batch(
            [e.text for e in part], batch_size=batch_size, languages=[e.language for e in part]
        )
        out.extend(_prediction(e, a, four_way) for e, a in zip(part, analyses, strict=True))
        if on_progress is not None:
            on_progress(len(part))
    return out


def classification_metrics(
    gold: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    classes: Sequence[str],
    *,
    macro_over: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1, macro recall/F1 (over ``macro_over``, default all
    ``classes``), confusion (rows gold, columns predicted) and ECE (``score/_metrics``' definition)."""
    from tonewatch.score._metrics import expected_calibration_error, per_class_scores

    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    cm = [[0] * k for _ in range(k)]
    for g, p in zip(gold, predicted, strict=True):
        cm[index[g]][index[p]] += 1
    precision, recall, f1 = per_class_scores(cm, classes)
    support = {c: sum(cm[i]) for i, c in enumerate(classes)}
    over = list(macro_over) if macro_over is not None else list(classes)
    n = len(gold)
    correct = [g == p for g, p in zip(gold, predicted, strict=True)]
    return {
        "n": n,
        "accuracy": sum(correct) / n if n else 0.0,
        "macro_recall": sum(recall[c] for c in over) / len(over) if over else 0.0,
        "macro_f1": sum(f1[c] for c in over) / len(over) if over else 0.0,
        "macro_over": over,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support,
        "confusion": {"labels": list(classes), "matrix": cm},
        "ece": expected_calibration_error(list(confidence), correct),
    }


def _overall(predictions: Sequence[Prediction], classes: Sequence[str]) -> dict[str, Any]:
    gold = [p.gold for p in predictions]
    if tuple(classes) == CLASSES:
        from tonewatch.score import evaluate_sentiment

        report = evaluate_sentiment(gold, [p.probabilities for p in predictions], [p.label for p in predictions])
        support = {c: sum(report.confusion[i]) for i, c in enumerate(CLASSES)}
        return {
            "n": report.n,
            "accuracy": report.accuracy,
            "macro_recall": report.macro_recall,
            "macro_f1": report.macro_f1,
            "macro_over": list(CLASSES),
            "precision": dict(report.precision),
            "recall": dict(report.recall),
            "f1": dict(report.f1),
            "support": support,
            "confusion": {"labels": list(CLASSES), "matrix": [list(r) for r in report.confusion]},
            "ece": report.ece,
            "predicted_mixed": report.mixed,
        }
    metrics = classification_metrics(
        gold, [p.predicted for p in predictions], [p.confidence for p in predictions], classes
    )
    metrics["predicted_mixed"] = sum(1 for p in predictions if p.label == EXTRA_CLASS)
    return metrics


def _group_metrics(predictions: Sequence[Prediction], classes: Sequence[str]) -> dict[str, Any]:
    present = [c for c in classes if any(p.gold == c for p in predictions)]
    return classification_metrics(
        [p.gold for p in predictions],
        [p.predicted for p in predictions],
        [p.confidence for p in predictions],
        classes,
        macro_over=present,
    )


def _calibration(predictions: Sequence[Prediction]) -> list[dict[str, Any]]:
    """The 15 bins behind ECE: (lo, hi], count, mean confidence, accuracy (the first bin includes 0)."""
    bins: list[dict[str, Any]] = []
    for b in range(_BINS):
        lo, hi = b / _BINS, (b + 1) / _BINS
        inside = [p for p in predictions if lo < p.confidence <= hi or (b == 0 and p.confidence == 0.0)]
        n = len(inside)
        bins.append(
            {
                "lo": round(lo, 6),
                "hi": round(hi, 6),
                "n": n,
                "mean_confidence": sum(p.confidence for p in inside) / n if n else None,
                "accuracy": sum(1 for p in inside if p.correct) / n if n else None,
            }
        )
    return bins


def _example(p: Prediction, mask: Callable[[str], str], limit: int = 300) -> dict[str, Any]:
    text = mask(p.text)
    return {
        "id": p.id,
        "text": text if len(text) <= limit else text[: limit - 1] + "…",
        "gold": p.gold,
        "predicted": p.predicted,
        "confidence": round(p.confidence, 4),
        "language": p.language,
    }


def _key(p: Prediction, dimension: str) -> str:
    value: str | None = getattr(p, dimension)
    return value if value else _NONE


def _groups(predictions: Sequence[Prediction], dimension: str) -> dict[str, list[Prediction]]:
    groups: dict[str, list[Prediction]] = {}
    for p in predictions:
        groups.setdefault(_key(p, dimension), []).append(p)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def _error_analysis(
    predictions: Sequence[Prediction], dimension: str, mask: Callable[[str], str]
) -> list[dict[str, Any]]:
    out = []
    for name, members in _groups(predictions, dimension).items():
        wrong = sorted((p for p in members if not p.correct), key=lambda p: -p.confidence)
        confusions = Counter(f"{p.gold} -> {p.predicted}" for p in wrong)
        out.append(
            {
                "group": name,
                "n": len(members),
                "errors": len(wrong),
                "error_rate": len(wrong) / len(members),
                "top_confusions": [{"pair": k, "n": v} for k, v in confusions.most_common(3)],
                "examples": [_example(p, mask) for p in wrong[:EXAMPLES_PER_GROUP]],
            }
        )
    return out


_GAP_METRICS = ("accuracy", "macro_recall", "macro_f1")


def _bias(
    predictions: Sequence[Prediction],
    dimension: str,
    overall: Mapping[str, Any],
    classes: Sequence[str],
    *,
    gap_threshold: float,
    min_group: int,
) -> list[dict[str, Any]]:
    rows = []
    for name, members in _groups(predictions, dimension).items():
        m = _group_metrics(members, classes)
        gaps = {k: m[k] - float(overall[k]) for k in _GAP_METRICS}
        judged = len(members) >= min_group
        flagged = [k for k in _GAP_METRICS if judged and gaps[k] < -gap_threshold]
        rows.append(
            {
                "group": name,
                "n": len(members),
                "accuracy": m["accuracy"],
                "macro_recall": m["macro_recall"],
                "macro_f1": m["macro_f1"],
                "ece": m["ece"],
                "classes": m["macro_over"],
                "gaps": gaps,
                "too_small": not judged,
                "flagged": flagged,
            }
        )
    return rows


@dataclass
class EvaluationReport:
    """Everything ``report.json`` holds (see :meth:`to_dict`) plus the predictions it came from."""

    model: dict[str, Any]
    data: str
    classes: list[str]
    four_way: bool
    overall: dict[str, Any]
    calibration: list[dict[str, Any]]
    by: dict[str, list[dict[str, Any]]]
    bias: dict[str, list[dict[str, Any]]]
    gap_threshold: float
    min_group: int
    most_confident_errors: list[dict[str, Any]]
    predictions: list[Prediction]
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def flagged(self) -> int:
        return sum(1 for rows in self.bias.values() for r in rows if r["flagged"])

    @property
    def mixed_policy(self) -> str:
        if self.four_way:
            return (
                "the data has mixed labels: four classes, predicted label = the analyzer's label (mixed included), "
                "confidence = the analyzer's confidence"
            )
        return (
            "no mixed labels in the data: three classes, predicted label = the most probable of "
            "negative/neutral/positive (a result the analyzer called mixed counts as its most probable class)"
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _rounded(
            {
                "tool": "tonewatch evaluate",
                "created": self.created.isoformat(),
                "data": self.data,
                "model": self.model,
                "n": self.overall["n"],
                "classes": self.classes,
                "mixed": {"in_data": self.four_way, "policy": self.mixed_policy},
                "overall": self.overall,
                "calibration": {"ece": self.overall["ece"], "bins": self.calibration},
                "by": self.by,
                "bias": {
                    "gap_threshold": self.gap_threshold,
                    "min_group": self.min_group,
                    "metrics": list(_GAP_METRICS),
                    "flagged_groups": self.flagged,
                    **self.bias,
                },
                "errors": {
                    "count": sum(1 for p in self.predictions if not p.correct),
                    "most_confident": self.most_confident_errors,
                },
                "predictions": [p.to_dict() for p in self.predictions],
            }
        )
        return data


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def _masker() -> Callable[[str], str]:
    from tonewatch.mask import mask_pii

    def mask(text: str) -> str:
        return mask_pii(text).text

    return mask


def build_evaluation(
    predictions: Sequence[Prediction],
    *,
    model: Mapping[str, Any],
    data: str,
    gap_threshold: float = 0.05,
    min_group: int = 30,
    mask: Callable[[str], str] | None = None,
) -> EvaluationReport:
    """Overall and per-group figures, calibration bins, error analysis and the bias check.

    Example texts in the report are PII-masked (``mask``, default ``tonewatch.mask.mask_pii``):
    reports get shared further than the labelled file.
    """
    if not predictions:
        raise InputError("nothing to evaluate", code="invalid_labelled_data", field="data")
    if gap_threshold < 0:
        raise InputError("the gap threshold must be >= 0", field="gap_threshold")
    if min_group < 1:
        raise InputError("the minimum group size must be >= 1", field="min_group")
    mask = mask or _masker()
    four_way = any(p.gold == EXTRA_CLASS for p in predictions)
    classes = [*CLASSES, EXTRA_CLASS] if four_way else list(CLASSES)
    overall = _overall(predictions, classes)
    wrong = sorted((p for p in predictions if not p.correct), key=lambda p: -p.confidence)
    return EvaluationReport(
        model=dict(model),
        data=data,
        classes=classes,
        four_way=four_way,
        overall=overall,
        calibration=_calibration(predictions),
        by={dim: _error_analysis(predictions, dim, mask) for dim in ("segment", "channel", "language")},
        bias={
            dim: _bias(predictions, dim, overall, classes, gap_threshold=gap_threshold, min_group=min_group)
            for dim in ("segment", "language")
        },
        gap_threshold=gap_threshold,
        min_group=min_group,
        most_confident_errors=[_example(p, mask) for p in wrong[:10]],
        predictions=list(predictions),
    )
