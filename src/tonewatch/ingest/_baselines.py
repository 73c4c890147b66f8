"""Segment baselines: the typical sentiment level of customers in the same segment.

A customer's decline is judged against their own history and against their segment's
(``segment_baseline`` of ``CustomerState.report``). The baseline of a segment is the mean
trajectory level of its customers' latest reports, used only once a segment has enough
customers for the mean to mean something.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch.store._models import Customer

__all__ = ["segment_baselines"]


def segment_baselines(session: Session, *, min_customers: int = 5) -> dict[str, float]:
    """``{segment: mean sentiment level}`` over customers with a stored report."""
    levels: dict[str, list[float]] = defaultdict(list)
    q = select(Customer.attributes, Customer.report).where(Customer.report.is_not(None))
    for attributes, report in session.execute(q.execution_options(yield_per=2000)):
        segment = (attributes or {}).get("segment")
        level = ((report or {}).get("trend") or {}).get("level")
        if segment is None or level is None:
            continue
        levels[str(segment)].append(float(level))
    return {seg: round(sum(v) / len(v), 4) for seg, v in levels.items() if len(v) >= min_customers}
