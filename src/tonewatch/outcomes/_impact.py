"""Does the program work? Treated versus holdout retention and CSAT, with confidence intervals.

Customers are compared by the group they were *assigned* to (intention to treat): a treated
customer whose check-in a reviewer rejected still counts as treated, because that is how the
program runs. A customer's unit of analysis is their first outcome after their first firing
(retained = anything but churned) and the mean of their CSAT answers after a firing. Retention
intervals are Wilson (per group) and Newcombe (difference), cross-checked by a bootstrap; CSAT
uses a seeded bootstrap.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch.triggers._models import FiringRow

from ._models import OutcomeLinkRow
from ._stats import (
    bootstrap_mean,
    bootstrap_mean_difference,
    bootstrap_proportion_difference,
    newcombe_difference,
    wilson,
)

__all__ = ["GroupStats", "ImpactReport", "impact_reports"]


def _r(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 4)


@dataclass(frozen=True)
class GroupStats:
    flagged: int
    with_outcome: int
    retained: int
    churned: int
    csat: tuple[float, ...]
    csat_mean: tuple[float, float, float]

    @property
    def retention(self) -> float | None:
        return None if self.with_outcome == 0 else self.retained / self.with_outcome

    def to_dict(self) -> dict[str, Any]:
        low, high = wilson(self.retained, self.with_outcome)
        return {
            "flagged": self.flagged,
            "with_outcome": self.with_outcome,
            "retained": self.retained,
            "churned": self.churned,
            "retention": None if self.retention is None else round(self.retention, 4),
            "retention_ci": [round(low, 4), round(high, 4)] if self.with_outcome else None,
            "csat_n": len(self.csat),
            "csat_mean": _r(self.csat_mean[0]),
            "csat_ci": [_r(self.csat_mean[1]), _r(self.csat_mean[2])] if self.csat else None,
        }


@dataclass(frozen=True)
class ImpactReport:
    """One comparison: all rules together (``rule`` is ``None``) or one rule."""

    rule: str | None
    treated: GroupStats
    holdout: GroupStats
    retention_difference: tuple[float, float, float]
    retention_bootstrap: tuple[float, float, float]
    csat_difference: tuple[float, float, float]

    @property
    def retention_significant(self) -> bool:
        """The 95% interval of the difference excludes zero."""
        _, low, high = self.retention_difference
        enough = self.treated.with_outcome > 0 and self.holdout.with_outcome > 0
        return enough and (low > 0 or high < 0)

    @property
    def csat_significant(self) -> bool:
        _, low, high = self.csat_difference
        return not math.isnan(low) and (low > 0 or high < 0)

    def to_dict(self) -> dict[str, Any]:
        d, lo, hi = self.retention_difference
        _bd, blo, bhi = self.retention_bootstrap
        cd, clo, chi = self.csat_difference
        enough = self.treated.with_outcome > 0 and self.holdout.with_outcome > 0
        return {
            "rule": self.rule or "all",
            "treated": self.treated.to_dict(),
            "holdout": self.holdout.to_dict(),
            "retention_difference": {
                "estimate": round(d, 4) if enough else None,
                "ci": [round(lo, 4), round(hi, 4)] if enough else None,
                "bootstrap_ci": [_r(blo), _r(bhi)] if enough else None,
                "significant": self.retention_significant,
            },
            "csat_difference": {
                "estimate": _r(cd),
                "ci": None if math.isnan(clo) else [_r(clo), _r(chi)],
                "significant": self.csat_significant,
            },
            "method": "intention to treat; Wilson/Newcombe 95% for retention, seeded bootstrap for CSAT",
        }


@dataclass
class _Customer:
    holdout: bool = True
    first_fired: datetime | None = None
    outcome: tuple[datetime, str] | None = None
    csat: list[float] | None = None


def _collect(firings: Iterable[FiringRow], links: Iterable[OutcomeLinkRow]) -> dict[str, _Customer]:
    customers: dict[str, _Customer] = defaultdict(_Customer)
    for f in firings:
        c = customers[f.customer_id]
        c.holdout = c.holdout and f.holdout
        if c.first_fired is None or f.fired_at < c.first_fired:
            c.first_fired = f.fired_at
    seen: set[tuple[str, str]] = set()
    for link in links:
        linked = customers.get(link.customer_id)
        if linked is None or linked.first_fired is None or link.occurred_at < linked.first_fired:
            continue
        if link.kind == "outcome":
            if linked.outcome is None or link.occurred_at < linked.outcome[0]:
                linked.outcome = (link.occurred_at, link.outcome)
        elif link.kind == "csat" and link.value is not None and (link.customer_id, link.event_id) not in seen:
            seen.add((link.customer_id, link.event_id))
            linked.csat = [*(linked.csat or []), float(link.value)]
    return customers


def _group(customers: list[_Customer], *, iterations: int, seed: int) -> GroupStats:
    outcomes = [c.outcome[1] for c in customers if c.outcome is not None]
    retained = sum(1 for o in outcomes if o != "churned")
    csat = tuple(sum(c.csat) / len(c.csat) for c in customers if c.csat)
    return GroupStats(
        flagged=len(customers),
        with_outcome=len(outcomes),
        retained=retained,
        churned=len(outcomes) - retained,
        csat=csat,
        csat_mean=bootstrap_mean(list(csat), iterations=iterations, seed=seed),
    )


def _report(rule: str | None, customers: dict[str, _Customer], *, iterations: int, seed: int) -> ImpactReport:
    treated = _group([c for c in customers.values() if not c.holdout], iterations=iterations, seed=seed)
    holdout = _group([c for c in customers.values() if c.holdout], iterations=iterations, seed=seed)
    return ImpactReport(
        rule=rule,
        treated=treated,
        holdout=holdout,
        retention_difference=newcombe_difference(
            treated.retained, treated.with_outcome, holdout.retained, holdout.with_outcome
        ),
        retention_bootstrap=bootstrap_proportion_difference(
            treated.retained,
            treated.with_outcome,
            holdout.retained,
            holdout.with_outcome,
            iterations=iterations,
            seed=seed,
        ),
        csat_difference=bootstrap_mean_difference(
            list(treated.csat), list(holdout.csat), iterations=iterations, seed=seed
        ),
    )


def impact_reports(
    session: Session,
    *,
    rule_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    per_rule: bool = True,
    iterations: int = 2000,
    seed: int = 0,
) -> list[ImpactReport]:
    """The overall comparison (first) and one per rule, over firings in ``[since, until]``."""
    query = select(FiringRow)
    if rule_id is not None:
        query = query.where(FiringRow.rule_id == rule_id)
    if since is not None:
        query = query.where(FiringRow.fired_at >= since)
    if until is not None:
        query = query.where(FiringRow.fired_at <= until)
    firings = list(session.execute(query).scalars())
    link_query = select(OutcomeLinkRow)
    if rule_id is not None:
        link_query = link_query.where(OutcomeLinkRow.rule_id == rule_id)
    links = list(session.execute(link_query).scalars())
    reports = [_report(rule_id, _collect(firings, links), iterations=iterations, seed=seed)]
    if per_rule and rule_id is None:
        for rule in sorted({f.rule_id for f in firings}):
            reports.append(
                _report(
                    rule,
                    _collect(
                        [f for f in firings if f.rule_id == rule], [link for link in links if link.rule_id == rule]
                    ),
                    iterations=iterations,
                    seed=seed,
                )
            )
    return reports
