"""What the demo found, and how well it matches what the generator knows.

Read-only queries over the store after ingestion: the customers most at risk and why, the
review queue, rule hits and the audit log, plus a comparison with the ground truth (the share
of churners the health bands flagged before they left, how early, and how often customers who
stayed were flagged). The comparison is the honest headline of the demo: it measures the
product on customers whose fate is known.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import TYPE_CHECKING, Any

from ._truth import GroundTruth

if TYPE_CHECKING:
    from tonewatch.store import Store

__all__ = ["Accuracy", "ArchetypeRow", "AtRiskCustomer", "DemoSummary", "QueueEntry", "summarize"]

_FLAGGED = ("at-risk", "critical")
_BANDS = ("healthy", "watch", "at-risk", "critical")
# How far before an outcome a flag still counts as a warning about it.
_LOOKBACK = timedelta(days=120)


@dataclass(frozen=True, slots=True)
class AtRiskCustomer:
    customer_id: str
    name: str
    segment: str
    archetype: str
    health: float
    band: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueueEntry:
    id: int
    customer_id: str
    rule: str | None
    tier: str
    action: str
    priority: int
    due: str
    summary: str


@dataclass(frozen=True, slots=True)
class ArchetypeRow:
    """One archetype: how many, how many the bands ever flagged, the churners, and today's bands of the rest."""

    archetype: str
    customers: int
    flagged: int
    churned: int
    churned_flagged: int
    bands: dict[str, int]


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Health bands against the ground truth.

    ``churn_recall`` is the share of churners that were at-risk or critical before their churn
    date; ``rule_recall`` the share a rule fired on before it; ``false_alarm_rate`` the share of
    customers who renewed or expanded that were at-risk or critical in the window before renewal.
    """

    churners: int
    churners_flagged: int
    churners_rule_flagged: int
    median_lead_days: float | None
    retained: int
    retained_flagged: int
    archetypes: tuple[ArchetypeRow, ...]

    @property
    def churn_recall(self) -> float:
        return self.churners_flagged / self.churners if self.churners else 0.0

    @property
    def rule_recall(self) -> float:
        return self.churners_rule_flagged / self.churners if self.churners else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return self.retained_flagged / self.retained if self.retained else 0.0


@dataclass(frozen=True, slots=True)
class DemoSummary:
    as_of: datetime
    customers: int
    bands: dict[str, int]
    top_at_risk: tuple[AtRiskCustomer, ...]
    queue_open: int
    queue: tuple[QueueEntry, ...]
    rule_hits: dict[str, int]
    holdout_hits: int
    audit_entries: int
    audit_verified: bool
    accuracy: Accuracy
    missing: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        d["accuracy"]["churn_recall"] = round(self.accuracy.churn_recall, 3)
        d["accuracy"]["rule_recall"] = round(self.accuracy.rule_recall, 3)
        d["accuracy"]["false_alarm_rate"] = round(self.accuracy.false_alarm_rate, 3)
        return d


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), UTC)


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _accuracy(
    truth: GroundTruth,
    flagged_at: dict[str, list[datetime]],
    fired_at: dict[str, list[datetime]],
    final_band: dict[str, str],
) -> Accuracy:
    leads: list[float] = []
    churners = churners_flagged = churners_rule = retained = retained_flagged = 0
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"customers": 0, "flagged": 0, "churned": 0, "churned_flagged": 0, "bands": Counter()}
    )
    for c in truth.customers:
        row = rows[c.archetype]
        row["customers"] += 1
        flags = flagged_at.get(c.customer_id, [])
        row["flagged"] += bool(flags)
        if c.customer_id in final_band and c.outcome != "churned":
            row["bands"][final_band[c.customer_id]] += 1
        if c.outcome_date is None:
            continue
        until = _midnight(c.outcome_date)
        before = sorted(t for t in flags if until - _LOOKBACK <= t < until)
        if c.outcome == "churned":
            churners += 1
            row["churned"] += 1
            if before:
                churners_flagged += 1
                row["churned_flagged"] += 1
                leads.append((until - before[0]).total_seconds() / 86400)
            churners_rule += any(until - _LOOKBACK <= t < until for t in fired_at.get(c.customer_id, []))
        elif c.outcome in ("renewed", "expanded"):
            retained += 1
            retained_flagged += bool(before)
    return Accuracy(
        churners=churners,
        churners_flagged=churners_flagged,
        churners_rule_flagged=churners_rule,
        median_lead_days=round(median(leads), 1) if leads else None,
        retained=retained,
        retained_flagged=retained_flagged,
        archetypes=tuple(
            ArchetypeRow(
                archetype=name,
                customers=r["customers"],
                flagged=r["flagged"],
                churned=r["churned"],
                churned_flagged=r["churned_flagged"],
                bands={b: r["bands"][b] for b in _BANDS if r["bands"][b]},
            )
            for name, r in sorted(rows.items())
        ),
    )


def summarize(store: Store, truth: GroundTruth, as_of: datetime, *, top: int = 10) -> DemoSummary:
    """Everything ``tonewatch demo --no-serve`` prints, read from the store."""
    from sqlalchemy import func, select

    from tonewatch.store import Customer, HealthSnapshot

    missing: list[str] = []
    by_id = truth.by_id()
    with store.session(readonly=True) as session:
        customers = list(session.execute(select(Customer.id, Customer.health, Customer.band, Customer.report)))
        flagged_at: dict[str, list[datetime]] = defaultdict(list)
        for cid, ts in session.execute(
            select(HealthSnapshot.customer_id, HealthSnapshot.as_of).where(HealthSnapshot.band.in_(_FLAGGED))
        ):
            flagged_at[cid].append(_aware(ts))

        fired_at: dict[str, list[datetime]] = defaultdict(list)
        rule_hits: dict[str, int] = {}
        holdout_hits = 0
        try:
            from tonewatch.triggers import FiringRow

            for cid, ts in session.execute(select(FiringRow.customer_id, FiringRow.fired_at)):
                fired_at[cid].append(_aware(ts))
            for rule, n in session.execute(
                select(FiringRow.rule_id, func.count()).group_by(FiringRow.rule_id).order_by(func.count().desc())
            ):
                rule_hits[rule] = int(n)
            holdout_hits = int(session.scalar(select(func.count()).where(FiringRow.holdout.is_(True))) or 0)
        except ImportError:
            missing.append("tonewatch.triggers (rule firings)")

        queue: list[QueueEntry] = []
        queue_open = 0
        try:
            from tonewatch.review import ReviewQueue

            items = ReviewQueue(session).items(now=as_of)
            queue_open = len(items)
            queue = [
                QueueEntry(i.id, i.customer_id, i.rule, i.tier, i.action, i.priority, i.due.isoformat(), i.summary)
                for i in items[:top]
            ]
        except ImportError:
            missing.append("tonewatch.review (review queue)")

        audit_entries, audit_verified = 0, False
        try:
            from tonewatch._errors import AuditIntegrityError
            from tonewatch.audit import AuditLog

            log = AuditLog(session)
            audit_entries = log.count()
            try:
                log.verify()
                audit_verified = True
            except AuditIntegrityError:
                audit_verified = False
        except ImportError:
            missing.append("tonewatch.audit (audit log)")

    final_band = {cid: band for cid, _, band, _ in customers if band}
    at_risk: list[AtRiskCustomer] = []
    for cid, health, band, report in sorted(customers, key=lambda r: r[1] if r[1] is not None else 101.0):
        flags = (report or {}).get("flags") or []
        if band not in _FLAGGED or "churned" in flags:
            continue
        factors = [f for f in (report or {}).get("factors") or [] if f.get("points", 0) < 0]
        t = by_id.get(cid)
        at_risk.append(
            AtRiskCustomer(
                customer_id=cid,
                name=t.name if t else cid,
                segment=t.segment if t else "",
                archetype=t.archetype if t else "",
                health=float(health or 0.0),
                band=band,
                reasons=tuple(str(f.get("reason", f.get("name", ""))) for f in factors[:3]),
            )
        )
        if len(at_risk) >= top:
            break
    bands = Counter(final_band.values())
    return DemoSummary(
        as_of=as_of,
        customers=len(customers),
        bands={b: bands[b] for b in _BANDS},
        top_at_risk=tuple(at_risk),
        queue_open=queue_open,
        queue=tuple(queue),
        rule_hits=rule_hits,
        holdout_hits=holdout_hits,
        audit_entries=audit_entries,
        audit_verified=audit_verified,
        accuracy=_accuracy(truth, flagged_at, fired_at, final_band),
        missing=tuple(missing),
    )
