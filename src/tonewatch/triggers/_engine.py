"""Evaluate a playbook against one customer's context, and the cooldown ledger that makes it idempotent.

``RuleEngine.evaluate`` is pure: which rules hold, with the evidence and the holdout group.
Whether a match *fires* is the ledger's call: a rule fires once per customer per cooldown,
however many messages arrive or however often an event is replayed. The in-memory ledger serves
backtests; :class:`SqlLedger` stores firings under a unique (rule, customer, cooldown bucket) key.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tonewatch.settings import Settings

from ._context import RuleContext
from ._holdout import in_holdout
from ._models import FiringRow
from ._playbook import Playbook, Rule

__all__ = ["FiringLedger", "Match", "MemoryLedger", "RuleEngine", "SqlLedger"]


@dataclass(frozen=True)
class Match:
    """A rule whose conditions hold for a customer at ``as_of``."""

    rule: Rule
    customer_id: str
    as_of: datetime
    trigger: str
    event_id: str | None
    holdout: bool
    low_confidence: bool
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def bucket(self) -> int:
        """The cooldown period ``as_of`` falls in (the idempotency key with rule and customer)."""
        return int(self.as_of.timestamp() // self.rule.cooldown.total_seconds())


def _low_confidence(analysis: Mapping[str, Any] | None, threshold: float) -> bool:
    if analysis is None:
        return False
    confidence = analysis.get("confidence")
    low = isinstance(confidence, int | float) and float(confidence) < threshold
    return bool(analysis.get("needs_review")) or low


class RuleEngine:
    """Which rules of a playbook hold for a context (no side effects)."""

    def __init__(self, playbook: Playbook, *, holdout_fraction: float = 0.1, review_threshold: float = 0.55) -> None:
        self.playbook = playbook
        self.holdout_fraction = holdout_fraction
        self.review_threshold = review_threshold

    @classmethod
    def from_settings(cls, playbook: Playbook, settings: Settings) -> RuleEngine:
        return cls(playbook, holdout_fraction=settings.holdout_fraction, review_threshold=settings.review_threshold)

    def evidence(self, rule: Rule, ctx: RuleContext) -> dict[str, Any]:
        out: dict[str, Any] = {"matched": rule.when.evidence(ctx)}
        for key in ("health", "band"):
            if key in ctx.report:
                out[key] = ctx.report[key]
        out["flags"] = list(ctx.report.get("flags") or [])
        if ctx.analysis is not None and rule.when.needs_analysis():
            out["analysis"] = {
                k: ctx.analysis.get(k) for k in ("label", "score", "confidence", "needs_review", "model_version")
            }
        # Stored as JSON (firing row, audit entry): dates and the like become strings.
        plain: dict[str, Any] = json.loads(json.dumps(out, default=str))
        return plain

    def evaluate(self, ctx: RuleContext) -> list[Match]:
        """Matches in priority order (most urgent first), then playbook order."""
        matches: list[Match] = []
        for rule in self.playbook:
            if not rule.runs_on(ctx.trigger) or not rule.when.evaluate(ctx):
                continue
            matches.append(
                Match(
                    rule=rule,
                    customer_id=ctx.customer_id,
                    as_of=ctx.as_of,
                    trigger=ctx.trigger,
                    event_id=None if ctx.event is None else ctx.event.get("event_id"),
                    holdout=in_holdout(ctx.customer_id, rule.holdout_fraction(self.holdout_fraction)),
                    low_confidence=rule.when.needs_analysis() and _low_confidence(ctx.analysis, self.review_threshold),
                    evidence=self.evidence(rule, ctx),
                )
            )
        matches.sort(key=lambda m: m.rule.priority)
        return matches


class FiringLedger(Protocol):
    """Decides whether a match fires: returns a firing id, or ``None`` inside the cooldown."""

    def claim(self, match: Match) -> int | None: ...


class MemoryLedger:
    """Cooldowns in memory (backtests, tests): the same semantics as :class:`SqlLedger`."""

    def __init__(self) -> None:
        self._fired: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        self._keys: set[tuple[str, str, int]] = set()
        self.firings: list[Match] = []

    def claim(self, match: Match) -> int | None:
        key = (match.rule.id, match.customer_id)
        if (*key, match.bucket) in self._keys:
            return None
        if any(abs(t - match.as_of) < match.rule.cooldown for t in self._fired[key]):
            return None
        self._fired[key].append(match.as_of)
        self._keys.add((*key, match.bucket))
        self.firings.append(match)
        return len(self.firings)


class SqlLedger:
    """Firings in ``trigger_firings``; the unique (rule, customer, bucket) key settles races.

    Within a cooldown of an earlier *or later* firing (events replayed out of order) nothing
    fires; a concurrent duplicate insert loses on the unique key inside a savepoint, so the
    surrounding ingest transaction carries on.
    """

    def __init__(self, session: Session, playbook: str = "") -> None:
        self._session = session
        self._playbook = playbook

    def recent(self, match: Match) -> FiringRow | None:
        cooldown: timedelta = match.rule.cooldown
        return self._session.execute(
            select(FiringRow)
            .where(
                FiringRow.rule_id == match.rule.id,
                FiringRow.customer_id == match.customer_id,
                FiringRow.fired_at > match.as_of - cooldown,
                FiringRow.fired_at < match.as_of + cooldown,
            )
            .limit(1)
        ).scalar_one_or_none()

    def claim(self, match: Match) -> int | None:
        if self.recent(match) is not None:
            return None
        row = FiringRow(
            rule_id=match.rule.id,
            customer_id=match.customer_id,
            bucket=match.bucket,
            fired_at=match.as_of,
            trigger=match.trigger,
            event_id=match.event_id,
            holdout=match.holdout,
            low_confidence=match.low_confidence,
            priority=match.rule.priority,
            playbook=self._playbook[:200],
            evidence=match.evidence,
        )
        try:
            with self._session.begin_nested():
                self._session.add(row)
                self._session.flush()
        except IntegrityError:
            return None
        return row.id

    def record_actions(self, firing_id: int, actions: list[dict[str, Any]]) -> None:
        row = self._session.get(FiringRow, firing_id)
        if row is not None:
            row.actions = actions
            self._session.flush()
