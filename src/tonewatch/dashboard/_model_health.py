"""The Model health page: is the model still reading this traffic the way it was validated?

- confidence distribution (the last 7 days of traffic against the 28-day reference window before
  them; windows end at the newest scored message, so a quiet spell is not mistaken for drift);
- label distribution per week;
- drift: population stability index (PSI) of labels and of confidence, change in mean score
  and in the low-confidence share; PSI < 0.1 is stable, 0.1-0.25 worth watching, > 0.25 drift;
- volume per language, and the languages below the validated-accuracy line: those the model
  has no validation figures for, or whose macro-F1 in the manifest is under :data:`ACCURACY_LINE`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tonewatch.api._visibility import Viewer
from tonewatch.learn._drift import psi
from tonewatch.score._analysis import LABELS

from ._charts import ChartSpec, Dataset
from ._common import mean, share, week_labels, week_of, week_starts

__all__ = ["ACCURACY_LINE", "ModelHealth", "build_model_health", "psi"]

ACCURACY_LINE = 0.60  # macro-F1 on the language's validation set
_ENGLISH_SET = "tweeteval_sentiment_val"  # the English sentiment validation figures in the manifest
_BINS = 10
_CURRENT_DAYS = 7
_REFERENCE_DAYS = 28


@dataclass
class ModelHealth:
    model_version: str
    validated: dict[str, float | None]
    charts: list[ChartSpec] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)
    languages: list[dict[str, Any]] = field(default_factory=list)
    versions: list[tuple[str, int]] = field(default_factory=list)
    current_n: int = 0
    reference_n: int = 0
    as_of: datetime | None = None
    accuracy_line: float = ACCURACY_LINE


def _bin(confidence: float) -> int:
    return min(int(confidence * _BINS), _BINS - 1)


def _verdict(value: float | None) -> str:
    if value is None:
        return "not enough data"
    return "stable" if value < 0.1 else ("watch" if value < 0.25 else "drift")


def _validated_languages(manifest: Mapping[str, Any]) -> dict[str, float | None]:
    """Language -> macro-F1 from the manifest; English's is the sentiment validation set's."""
    metrics = manifest.get("metrics")
    english = metrics.get(_ENGLISH_SET) if isinstance(metrics, Mapping) else None
    value = english.get("macro_f1") if isinstance(english, Mapping) else None
    out: dict[str, float | None] = {"en": float(value) if isinstance(value, int | float) else None}
    for lang, figures in (manifest.get("languages") or {}).items():
        value = figures.get("macro_f1") if isinstance(figures, Mapping) else None
        out[str(lang)] = float(value) if isinstance(value, int | float) else None
    return out


def build_model_health(
    session: Session, viewer: Viewer, manifest: Mapping[str, Any], *, now: datetime, weeks: int = 8
) -> ModelHealth:
    from tonewatch.store import Message

    newest = session.scalar(
        select(func.max(Message.timestamp)).where(Message.author == "customer", Message.score.is_not(None))
    )
    if isinstance(newest, datetime):
        newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
        now = min(now, newest)  # windows end at the newest traffic: a quiet week is not drift
    starts = week_starts(now, weeks)
    since = min(datetime.combine(starts[0], time(0), UTC), now - timedelta(days=_CURRENT_DAYS + _REFERENCE_DAYS))
    rows = session.execute(
        select(
            Message.timestamp,
            Message.label,
            Message.confidence,
            Message.score,
            Message.needs_review,
            Message.language,
            Message.model_version,
        ).where(
            Message.author == "customer",
            Message.score.is_not(None),
            Message.timestamp >= since,
            Message.timestamp <= now,
        )
    ).all()
    out = ModelHealth(str(manifest.get("version", "unknown")), _validated_languages(manifest))
    out.as_of = now
    cur_start = now - timedelta(days=_CURRENT_DAYS)
    ref_start = cur_start - timedelta(days=_REFERENCE_DAYS)
    current = [r for r in rows if r.timestamp > cur_start]
    reference = [r for r in rows if ref_start < r.timestamp <= cur_start]
    out.current_n, out.reference_n = len(current), len(reference)

    def bins(items: list[Any]) -> list[float]:
        counts = [0.0] * _BINS
        for r in items:
            if r.confidence is not None:
                counts[_bin(float(r.confidence))] += 1
        return counts

    def labels(items: list[Any]) -> list[float]:
        c = Counter(str(r.label) for r in items)
        return [float(c.get(lab, 0)) for lab in LABELS]

    enough = viewer.group_visible(len(current)) and viewer.group_visible(len(reference))
    cur_bins, ref_bins = bins(current), bins(reference)
    bin_labels = [f"{i / _BINS:.1f}-{(i + 1) / _BINS:.1f}" for i in range(_BINS)]
    out.charts.append(
        ChartSpec(
            "confidence",
            f"Confidence distribution: last {_CURRENT_DAYS} days against the {_REFERENCE_DAYS} days before",
            "bar",
            bin_labels,
            [
                Dataset(
                    f"last {_CURRENT_DAYS} days",
                    [share(int(c), len(current)) if enough else None for c in cur_bins],
                    kind="bar",
                    color=0,
                ),
                Dataset(
                    "reference",
                    [share(int(c), len(reference)) if enough else None for c in ref_bins],
                    kind="bar",
                    color=7,
                ),
            ],
            y_title="share of messages",
            y_min=0,
            percent=True,
        )
    )
    index = {w: i for i, w in enumerate(starts)}
    weekly: list[Counter[str]] = [Counter() for _ in starts]
    for r in rows:
        i = index.get(week_of(r.timestamp))
        if i is not None:
            weekly[i][str(r.label)] += 1
    totals = [sum(c.values()) for c in weekly]
    out.charts.append(
        ChartSpec(
            "labels-over-time",
            "Label distribution per week",
            "bar",
            week_labels(starts),
            [
                Dataset(
                    lab,
                    [
                        share(c.get(lab, 0), n) if viewer.group_visible(n) else None
                        for c, n in zip(weekly, totals, strict=True)
                    ],
                    kind="bar",
                    color=k,
                )
                for k, lab in enumerate(LABELS)
            ],
            y_title="share of messages",
            y_min=0,
            y_max=1,
            stacked=True,
            percent=True,
        )
    )
    label_psi = psi(labels(reference), labels(current)) if enough else None
    conf_psi = psi(ref_bins, cur_bins) if enough else None
    cur_mean = mean(float(r.score) for r in current) if enough else None
    ref_mean = mean(float(r.score) for r in reference) if enough else None
    cur_low = share(sum(1 for r in current if r.needs_review), len(current)) if enough else None
    ref_low = share(sum(1 for r in reference if r.needs_review), len(reference)) if enough else None
    out.drift = [
        {"measure": "label distribution (PSI)", "value": label_psi, "verdict": _verdict(label_psi), "format": "psi"},
        {"measure": "confidence distribution (PSI)", "value": conf_psi, "verdict": _verdict(conf_psi), "format": "psi"},
        {
            "measure": "mean score",
            "value": None if cur_mean is None or ref_mean is None else cur_mean - ref_mean,
            "current": cur_mean,
            "reference": ref_mean,
            "verdict": "not enough data" if cur_mean is None else "",
            "format": "signed",
        },
        {
            "measure": "low-confidence share",
            "value": None if cur_low is None or ref_low is None else cur_low - ref_low,
            "current": cur_low,
            "reference": ref_low,
            "verdict": "not enough data" if cur_low is None else "",
            "format": "percent",
        },
    ]
    langs = Counter(
        str(r.language or "und") for r in rows if r.timestamp > now - timedelta(days=_REFERENCE_DAYS + _CURRENT_DAYS)
    )
    for lang, n in langs.most_common():
        figure = out.validated.get(lang)
        validated = lang in out.validated
        below = not validated or (figure is not None and figure < ACCURACY_LINE)
        out.languages.append(
            {"language": lang, "messages": n, "validated": validated, "macro_f1": figure, "below": below}
        )
    out.charts.append(
        ChartSpec(
            "languages",
            f"Customer messages per language, last {_REFERENCE_DAYS + _CURRENT_DAYS} days",
            "bar",
            [x["language"] for x in out.languages],
            [
                Dataset(
                    "validated",
                    [float(x["messages"]) if not x["below"] else None for x in out.languages],
                    kind="bar",
                    color=2,
                ),
                Dataset(
                    "below the accuracy line",
                    [float(x["messages"]) if x["below"] else None for x in out.languages],
                    kind="bar",
                    color=5,
                ),
            ],
            y_title="messages",
            stacked=True,
        )
    )
    out.versions = Counter(str(r.model_version or "unknown") for r in current or rows).most_common()
    return out
