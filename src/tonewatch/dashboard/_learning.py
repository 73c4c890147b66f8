"""The Model health page's learning panels: reviewer agreement, disagreements and the latest drift report.

Who sees what follows the API: the agreement figures are aggregates (shown to every role that
opens the page, when enough messages are labelled), the disagreement list is labelled data
(masked text and people's labels), shown only to roles holding ``feedback.read`` like
``GET /v1/feedback/disagreements``; the model's own reading in it passes through the
visibility policy. The drift panel shows the latest *recorded* report (``tonewatch drift
report``), so opening the page never recomputes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ._charts import ChartSpec, Dataset

if TYPE_CHECKING:
    from tonewatch.api._visibility import Viewer
    from tonewatch.learn import AgreementStats, DriftReport

__all__ = ["LearningPanels", "build_learning_panels", "drift_charts"]

_SHOWN = 20


def drift_charts(report: DriftReport) -> list[ChartSpec]:
    """Score and label distributions of the two windows (shares), for the page and the HTML export."""
    from tonewatch.learn._drift import SCORE_EDGES

    edges = SCORE_EDGES
    bins = [f"{edges[i]:+.1f}..{edges[i + 1]:+.1f}" for i in range(len(edges) - 1)]
    enough = report.enough_data
    ref, cur = report.reference, report.current
    labels = list(ref.labels) or ["positive", "neutral", "negative", "mixed"]
    return [
        ChartSpec(
            "drift-scores",
            "Score distribution: current window against the reference",
            "bar",
            bins,
            [
                Dataset("current", cur.score_shares() if enough else [None] * len(bins), kind="bar", color=0),
                Dataset("reference", ref.score_shares() if enough else [None] * len(bins), kind="bar", color=7),
            ],
            y_title="share of messages",
            y_min=0,
            percent=True,
        ),
        ChartSpec(
            "drift-labels",
            "Label distribution: current window against the reference",
            "bar",
            labels,
            [
                Dataset("current", cur.label_shares() if enough else [None] * len(labels), kind="bar", color=0),
                Dataset("reference", ref.label_shares() if enough else [None] * len(labels), kind="bar", color=7),
            ],
            y_title="share of messages",
            y_min=0,
            percent=True,
        ),
    ]


@dataclass
class LearningPanels:
    agreement: AgreementStats
    agreement_visible: bool
    may_read_labels: bool
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    drift: DriftReport | None = None
    drift_id: int | None = None
    drift_charts: list[ChartSpec] = field(default_factory=list)
    drift_rows: list[dict[str, Any]] = field(default_factory=list)


def build_learning_panels(session: Session, viewer: Viewer, *, may_read_labels: bool) -> LearningPanels:
    from tonewatch.api._lookup import closed_tickets
    from tonewatch.learn import agreement_stats, labelled_items, latest_drift, pick_disagreements

    items = labelled_items(session)
    stats = agreement_stats(items)
    panels = LearningPanels(
        agreement=stats,
        agreement_visible=viewer.group_visible(stats.labelled),
        may_read_labels=may_read_labels,
    )
    if may_read_labels:
        shown = pick_disagreements(items, limit=_SHOWN)
        closed = (
            closed_tickets(session, (i.ticket_id for i in shown)) if viewer.policy == "post_conversation" else set()
        )
        panels.disagreements = [
            i.as_seen_by(viewer, closed=(i.ticket_id in closed) if i.ticket_id else None) for i in shown
        ]
    latest = latest_drift(session)
    if latest is not None:
        panels.drift_id, panels.drift = latest
        panels.drift_charts = drift_charts(panels.drift)
        panels.drift_rows = panels.drift.rows()
    return panels
