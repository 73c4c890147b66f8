"""The Rules page: each rule's hits over time, its precision against outcomes, and a backtest.

Hits come from the firing ledger. Precision is the share of flagged customers whose first
outcome after the first flag was churn, among those with a known outcome; it is shown only
over at least ``aggregate_min_group`` customers. The backtest replays stored history through
the same engine and health model the pipeline uses (``tonewatch rules backtest``), on demand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch._errors import InputError
from tonewatch.api._visibility import Viewer

from ._charts import ChartSpec, Dataset
from ._common import week_labels, week_of, week_starts

if TYPE_CHECKING:
    from tonewatch.api._services import Services

__all__ = ["MAX_BACKTEST_DAYS", "RulesPage", "build_rules", "run_backtest"]

MAX_BACKTEST_DAYS = 92


@dataclass
class RulesPage:
    playbook: str
    source: str
    rules: list[dict[str, Any]] = field(default_factory=list)
    charts: list[ChartSpec] = field(default_factory=list)
    backtest: dict[str, Any] | None = None
    backtest_from: date | None = None
    backtest_to: date | None = None
    backtest_error: str | None = None


def _precision(session: Session, viewer: Viewer) -> dict[str, dict[str, Any]]:
    from tonewatch.store import Outcome
    from tonewatch.triggers import FiringRow

    first: dict[str, dict[str, tuple[datetime, bool]]] = defaultdict(dict)
    for rule_id, cid, fired_at, holdout in session.execute(
        select(FiringRow.rule_id, FiringRow.customer_id, FiringRow.fired_at, FiringRow.holdout).order_by(
            FiringRow.fired_at
        )
    ):
        first[rule_id].setdefault(cid, (fired_at, bool(holdout)))
    outcomes: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for cid, ts, outcome in session.execute(
        select(Outcome.customer_id, Outcome.timestamp, Outcome.outcome).order_by(Outcome.timestamp)
    ):
        outcomes[cid].append((ts, outcome))
    out: dict[str, dict[str, Any]] = {}
    for rule_id, flagged in first.items():
        known = churned = 0
        for cid, (fired_at, _) in flagged.items():
            later = next((o for ts, o in outcomes.get(cid, []) if ts >= fired_at), None)
            if later is not None:
                known += 1
                churned += int(later == "churned")
        visible = viewer.group_visible(known)
        out[rule_id] = {
            "flagged": len(flagged),
            "holdout": sum(1 for _, h in flagged.values() if h),
            "with_outcome": known,
            "churned": churned if visible else None,
            "precision": (churned / known) if visible and known else None,
            "suppressed": not visible and known > 0,
        }
    return out


def _color(rule_id: str, order: list[str]) -> int:
    """The same colour for a rule in every chart: its place in the playbook."""
    return order.index(rule_id) if rule_id in order else len(order) + sum(map(ord, rule_id)) % 3


def _hits(session: Session, now: datetime, weeks: int, order: list[str]) -> tuple[ChartSpec, dict[str, int]]:
    from tonewatch.triggers import FiringRow

    starts = week_starts(now, weeks)
    index = {w: i for i, w in enumerate(starts)}
    since = datetime.combine(starts[0], time(0), UTC)

    def order_key(rule: str) -> tuple[int, str]:
        return (order.index(rule) if rule in order else len(order), rule)

    counts: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(starts))
    totals: dict[str, int] = defaultdict(int)
    for rule_id, fired_at in session.execute(
        select(FiringRow.rule_id, FiringRow.fired_at).where(FiringRow.fired_at >= since)
    ):
        i = index.get(week_of(fired_at))
        if i is not None:
            counts[rule_id][i] += 1
            totals[rule_id] += 1
    chart = ChartSpec(
        "rule-hits",
        f"Rule hits per week (last {weeks} weeks)",
        "bar",
        week_labels(starts),
        [Dataset(rule, counts[rule], kind="bar", color=_color(rule, order)) for rule in sorted(counts, key=order_key)],
        y_title="firings",
        stacked=True,
    )
    return chart, dict(totals)


def build_rules(services: Services, viewer: Viewer, *, now: datetime, weeks: int = 12) -> RulesPage:
    from tonewatch.triggers import load_playbook

    path = services.rules_file()
    playbook = load_playbook(path)
    page = RulesPage(playbook.name, "file" if path is not None else "starter playbook")
    with services.store.session(readonly=True) as session:
        chart, recent = _hits(session, now, weeks, [r.id for r in playbook])
        precision = _precision(session, viewer)
    page.charts.append(chart)
    for rule in playbook:
        summary = rule.summary()
        stats = precision.get(rule.id, {"flagged": 0, "holdout": 0, "with_outcome": 0, "precision": None})
        page.rules.append({**summary, **stats, "recent_hits": recent.get(rule.id, 0)})
    known = {r.id for r in playbook}
    for rule_id, stats in sorted(precision.items()):
        if rule_id not in known:  # fired under an earlier playbook
            page.rules.append(
                {
                    "id": rule_id,
                    "description": "(no longer in the playbook)",
                    "when": "",
                    **stats,
                    "recent_hits": recent.get(rule_id, 0),
                    "enabled": False,
                    "then": [],
                    "cooldown": "",
                }
            )
    return page


def run_backtest(services: Services, viewer: Viewer, page: RulesPage, start: date, end: date) -> None:
    """Replay ``[start, end]`` through the playbook in force; fills ``page.backtest`` (or an error)."""
    from tonewatch.ingest import iter_histories
    from tonewatch.ingest._baselines import segment_baselines
    from tonewatch.ingest._state import HealthModel
    from tonewatch.ingest._weights import load_weights
    from tonewatch.store import Customer
    from tonewatch.triggers import backtest, load_playbook

    page.backtest_from, page.backtest_to = start, end
    if end < start:
        page.backtest_error = "the end date is before the start date"
        return
    if (end - start).days > MAX_BACKTEST_DAYS:
        page.backtest_error = (
            f"backtest at most {MAX_BACKTEST_DAYS} days here (use `tonewatch rules backtest` for more)"
        )
        return
    settings = services.settings
    playbook = load_playbook(services.rules_file())
    since = datetime.combine(start, time(0), UTC)
    until = datetime.combine(end, time(0), UTC) + timedelta(days=1) - timedelta(microseconds=1)
    try:
        with services.store.session(readonly=True) as session:
            model = HealthModel(load_weights(settings), segment_baselines(session))
            attributes = {cid: dict(a or {}) for cid, a in session.execute(select(Customer.id, Customer.attributes))}
            histories = ((cid, attributes.get(cid, {}), h) for cid, h in iter_histories(session))
            result = backtest(playbook, histories, start=since, end=until, model=model, settings=settings)
    except InputError as exc:
        page.backtest_error = exc.message
        return
    data = result.to_dict()
    rules = []
    for r in data["rules"]:
        visible = viewer.group_visible(int(r["with_outcome"]))
        rules.append(
            {
                **{k: r[k] for k in ("rule", "flagged", "firings", "holdout_firings", "with_outcome")},
                "churned": r["churned"] if visible else None,
                "precision": r["precision"] if visible else None,
                "median_lead_days": r["median_lead_days"] if visible else None,
            }
        )
    days = sorted({d for r in data["rules"] for d in r["flags_by_day"]})
    page.charts.append(
        ChartSpec(
            "backtest",
            f"Backtest: customers first flagged per day, {start.isoformat()} to {end.isoformat()}",
            "bar",
            days,
            [
                Dataset(
                    r["rule"],
                    [float(r["flags_by_day"].get(d, 0)) for d in days],
                    kind="bar",
                    color=_color(r["rule"], [x.id for x in playbook]),
                )
                for r in data["rules"]
            ],
            y_title="customers first flagged",
            stacked=True,
        )
    )
    page.backtest = {"customers": data["customers"], "events": data["events"], "rules": rules}
