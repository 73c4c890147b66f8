"""The At-risk page: customers in the at-risk and critical bands, sortable by health and change.

It follows ``GET /v1/customers?band=...``: when the policy never lets this viewer read a
customer's health, there is no list at all (even its order would leak it); otherwise each
customer passes through :meth:`Viewer.health` and the hidden ones are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch.api._visibility import Viewer

from ._common import BAD_BANDS, customer_labels

__all__ = ["BAND_FILTERS", "SORTS", "AtRisk", "BandFilter", "Sort", "build_at_risk"]

Sort = Literal["health", "change"]
SORTS: tuple[Sort, ...] = ("health", "change")
BandFilter = Literal["at-risk", "critical", "watch", "healthy", "bad", "all"]
BAND_FILTERS: tuple[BandFilter, ...] = ("bad", "critical", "at-risk", "watch", "healthy", "all")
_CHANGE_DAYS = 7


@dataclass
class AtRisk:
    sort: Sort
    descending: bool
    band: BandFilter
    hidden_by: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    left_out: int = 0


def _health_before(session: Session, ids: list[str], day: str) -> dict[str, float]:
    """Each customer's health on the last snapshot at or before ``day``."""
    from tonewatch.store import HealthSnapshot

    out: dict[str, float] = {}
    for i in range(0, len(ids), 500):
        q = (
            select(HealthSnapshot.customer_id, HealthSnapshot.day, HealthSnapshot.health)
            .where(HealthSnapshot.customer_id.in_(ids[i : i + 500]), HealthSnapshot.day <= day)
            .order_by(HealthSnapshot.customer_id, HealthSnapshot.day)
        )
        for cid, _, health in session.execute(q):
            out[cid] = float(health)
    return out


def build_at_risk(
    session: Session,
    viewer: Viewer,
    *,
    now: datetime,
    sort: Sort = "health",
    descending: bool = False,
    band: BandFilter = "bad",
    limit: int = 300,
) -> AtRisk:
    from tonewatch.api._lookup import has_open_ticket
    from tonewatch.store import Customer

    out = AtRisk(sort, descending, band)
    never = viewer.hidden_reason(score=1.0, closed=True)
    if never is not None:
        out.hidden_by = never
        return out
    q = select(Customer).where(Customer.erased_at.is_(None), Customer.report.is_not(None))
    if band == "bad":
        q = q.where(Customer.band.in_(sorted(BAD_BANDS)))
    elif band != "all":
        q = q.where(Customer.band == band)
    customers = session.scalars(q.order_by(Customer.health, Customer.id).limit(limit)).all()
    ids = [c.id for c in customers]
    names = customer_labels(session, ids)
    before = _health_before(session, ids, (now - timedelta(days=_CHANGE_DAYS)).date().isoformat())
    for c in customers:
        closed = True if viewer.policy != "post_conversation" else not has_open_ticket(session, c.id)
        report = viewer.health({**(c.report or {}), "customer_id": c.id}, closed=closed)
        if report["redacted"] is not None:
            out.left_out += 1
            continue
        health = report.get("health")
        previous = before.get(c.id)
        factors = sorted(report.get("factors") or [], key=lambda f: float(f.get("points", 0.0)))
        label = names.get(c.id, {})
        out.rows.append(
            {
                "customer_id": c.id,
                "name": label.get("name"),
                "segment": label.get("segment"),
                "plan": label.get("plan"),
                "health": health,
                "band": report.get("band"),
                "change": None if previous is None or not isinstance(health, int | float) else health - previous,
                "declining": bool((report.get("trend") or {}).get("declining")),
                "flags": list(report.get("flags") or []),
                "factors": factors,
                "top_reason": next((f.get("reason") for f in factors if float(f.get("points", 0.0)) < 0), None),
                "as_of": c.as_of,
            }
        )

    def key(row: dict[str, Any]) -> tuple[bool, float, str]:
        value = row[sort]
        missing = not isinstance(value, int | float)
        number = 0.0 if missing else float(value)
        return (missing, -number if descending else number, row["customer_id"])

    out.rows.sort(key=key)
    return out
