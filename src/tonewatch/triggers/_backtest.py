"""Backtest a playbook over stored history: what it would have flagged, when, and how early.

Each customer's events are replayed through the customer-state library (the same
``HealthModel`` the pipeline uses) in timestamp order. Every event in the window is evaluated
as the pipeline hook would see it, and a sweep runs at the end of every day for the clock rules.
Cooldowns are applied in memory; nothing is written. Where outcome events exist (before or after
the window's end) the result says how many flagged customers later churned (precision among
those with a known outcome) and how many days ahead of the churn the first flag came.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol

from tonewatch.settings import Settings

from ._context import HistoryItem, RuleContext
from ._engine import Match, MemoryLedger, RuleEngine
from ._history import history_item
from ._playbook import Playbook

__all__ = ["BacktestResult", "RuleBacktest", "StateModel", "backtest"]


class StateModel(Protocol):
    """What the backtest needs from ``tonewatch.ingest.HealthModel``."""

    def new(self, customer_id: str, attributes: Mapping[str, Any]) -> Any: ...

    def fold(self, state: Any, event: Any, analysis: Any, category: str | None) -> Any: ...

    def report(self, state: Any, as_of: datetime, attributes: Mapping[str, Any] | None = None) -> Any: ...


class _StoredLike(Protocol):
    @property
    def event(self) -> Any: ...

    @property
    def analysis(self) -> Any: ...

    @property
    def category(self) -> str | None: ...


@dataclass
class RuleBacktest:
    """One rule's replay: who it flagged, when, and what happened to them."""

    rule_id: str
    firings: int = 0
    holdout_firings: int = 0
    first_flag: dict[str, datetime] = field(default_factory=dict)
    outcome: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    churn_at: dict[str, datetime] = field(default_factory=dict)

    @property
    def flagged(self) -> int:
        return len(self.first_flag)

    @property
    def with_outcome(self) -> int:
        return len(self.outcome)

    @property
    def churned(self) -> int:
        return len(self.churn_at)

    @property
    def precision(self) -> float | None:
        """Of the flagged customers whose outcome is known, the share that churned."""
        return None if not self.outcome else self.churned / self.with_outcome

    @property
    def lead_days(self) -> list[float]:
        return sorted((self.churn_at[c] - self.first_flag[c]).total_seconds() / 86400.0 for c in self.churn_at)

    @property
    def median_lead_days(self) -> float | None:
        leads = self.lead_days
        return None if not leads else round(statistics.median(leads), 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "flagged": self.flagged,
            "firings": self.firings,
            "holdout_firings": self.holdout_firings,
            "with_outcome": self.with_outcome,
            "churned": self.churned,
            "precision": None if self.precision is None else round(self.precision, 4),
            "median_lead_days": self.median_lead_days,
            "first_flags": {c: t.isoformat() for c, t in sorted(self.first_flag.items(), key=lambda kv: kv[1])},
            "flags_by_day": self.flags_by_day(),
        }

    def flags_by_day(self) -> dict[str, int]:
        """How many customers were first flagged on each day (the "when")."""
        out: dict[str, int] = defaultdict(int)
        for t in self.first_flag.values():
            out[t.date().isoformat()] += 1
        return dict(sorted(out.items()))


@dataclass
class BacktestResult:
    start: datetime
    end: datetime
    customers: int
    events: int
    rules: list[RuleBacktest]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "customers": self.customers,
            "events": self.events,
            "rules": [r.to_dict() for r in self.rules],
        }


def _day_ends(start: datetime, end: datetime) -> list[datetime]:
    """End of each day (next midnight UTC) from ``start`` up to ``end``."""
    first = datetime.combine(start.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)
    out: list[datetime] = []
    t = first
    while t <= end:
        out.append(t)
        t += timedelta(days=1)
    return out


def _event_dict(event: Any, category: str | None) -> dict[str, Any]:
    data: dict[str, Any] = event.model_dump(mode="json", exclude_none=True)
    data.pop("text", None)
    if category is not None:
        data["category"] = category
    return data


def _item(stored: _StoredLike) -> HistoryItem:
    ev = stored.event
    payload = ev.model_dump(mode="json", exclude_none=True)
    analysis = None if stored.analysis is None else stored.analysis.to_dict()
    text = getattr(ev, "text", None) if ev.kind == "message" else None
    return history_item(
        ev.kind, ev.timestamp, str(ev.event_id), payload, text=text, analysis=analysis, category=stored.category
    )


class _Replay:
    """One customer's replay through the state model and the engine."""

    def __init__(
        self,
        engine: RuleEngine,
        ledger: MemoryLedger,
        model: StateModel,
        customer_id: str,
        attributes: Mapping[str, Any],
        window: timedelta,
    ) -> None:
        self.engine, self.ledger, self.model = engine, ledger, model
        self.customer_id, self.attributes, self.window = customer_id, dict(attributes), window
        self.state = model.new(customer_id, self.attributes)
        self.history: list[HistoryItem] = []
        self.health: list[tuple[datetime, float]] = []
        self.matches: list[Match] = []
        self.started = False

    def _report(self, as_of: datetime) -> dict[str, Any]:
        report = self.model.report(self.state, as_of, self.attributes)
        data: dict[str, Any] = report.to_dict() if hasattr(report, "to_dict") else dict(report)
        if isinstance(data.get("health"), int | float):
            self.health.append((as_of, float(data["health"])))
        return data

    def _evaluate(self, ctx: RuleContext) -> None:
        for match in self.engine.evaluate(ctx):
            if self.ledger.claim(match) is not None:
                self.matches.append(match)

    def _context(self, as_of: datetime, trigger: str, report: dict[str, Any], **extra: Any) -> RuleContext:
        since = as_of - self.window
        self.history = [h for h in self.history if h.timestamp > since]
        self.health = [p for p in self.health if p[0] >= since]
        return RuleContext(
            customer_id=self.customer_id,
            as_of=as_of,
            trigger=trigger,
            attributes=self.attributes,
            report=report,
            history=list(self.history),
            health_history=list(self.health),
            **extra,
        )

    def sweep(self, as_of: datetime) -> None:
        report = self._report(as_of)
        self._evaluate(self._context(as_of, "sweep", report))

    def event(self, stored: _StoredLike, *, evaluate: bool) -> None:
        ev = stored.event
        self.started = True
        self.state = self.model.fold(self.state, ev, stored.analysis, stored.category)
        self.history.append(_item(stored))
        if not evaluate:
            return
        report = self._report(ev.timestamp)
        analysis = stored.analysis.to_dict() if (stored.analysis is not None and ev.kind == "message") else None
        self._evaluate(
            self._context(ev.timestamp, ev.kind, report, analysis=analysis, event=_event_dict(ev, stored.category))
        )


def backtest(
    playbook: Playbook,
    histories: Iterable[tuple[str, Mapping[str, Any], Sequence[_StoredLike]]],
    *,
    start: datetime,
    end: datetime,
    model: StateModel | None = None,
    settings: Settings | None = None,
    window: timedelta | None = None,
) -> BacktestResult:
    """Replay ``(customer_id, attributes, history)`` triples and report per rule.

    ``history`` is the customer's whole stored history in timestamp order (``StoredEvent``s from
    ``tonewatch.ingest.iter_histories``); events before ``start`` only build up state, events in
    ``[start, end]`` are evaluated, outcomes at any time count for precision and lead time.
    """
    from ._hook import lookback

    if model is None:
        from tonewatch.ingest import HealthModel

        model = HealthModel()
    settings = settings or Settings()
    engine = RuleEngine.from_settings(playbook, settings)
    span = window or lookback(playbook)
    results = {rule.id: RuleBacktest(rule.id) for rule in playbook}
    customers = events = 0
    for customer_id, attributes, history in histories:
        customers += 1
        ledger = MemoryLedger()
        replay = _Replay(engine, ledger, model, customer_id, attributes, span)
        sweeps = _day_ends(start, end)
        outcomes: list[tuple[datetime, str]] = []
        for stored in history:
            ts = stored.event.timestamp
            if stored.event.kind == "outcome":
                outcomes.append((ts, str(stored.event.outcome)))
            if ts > end:
                continue
            while sweeps and sweeps[0] <= ts:
                moment = sweeps.pop(0)
                if replay.started:  # nothing to sweep before the customer's first event
                    replay.sweep(moment)
            replay.event(stored, evaluate=ts >= start)
            events += 1
        if replay.started:
            for moment in sweeps:
                replay.sweep(moment)
        for match in replay.matches:
            r = results[match.rule.id]
            r.firings += 1
            r.holdout_firings += int(match.holdout)
            r.first_flag.setdefault(customer_id, match.as_of)
        for r in results.values():
            first = r.first_flag.get(customer_id)
            if first is None:
                continue
            later = [(t, o) for t, o in outcomes if t >= first]
            if later:
                r.outcome[customer_id] = later[0]
                churn = next((t for t, o in later if o == "churned"), None)
                if churn is not None:
                    r.churn_at[customer_id] = churn
    return BacktestResult(start, end, customers, events, list(results.values()))
