"""Rules inside the pipeline: the hook that evaluates the playbook on every customer update.

``TriggerHook`` runs in the ingest (or sweep) transaction, so a firing, its review items, its
outbox messages and their audit entries commit together with the event that caused them, or not
at all. ``TriggerHook.sweep(store, as_of)`` runs the clock rules (silence, renewal proximity)
through ``Pipeline.sweep``, which recomputes every customer's report as of that time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from tonewatch.act._llm import LLMRewriter
from tonewatch.act._outbox import Sender
from tonewatch.settings import Settings

from ._conditions import All, AnyOf, Condition, Count, HealthDrop, Not, SentimentDrop
from ._context import RuleContext
from ._dispatch import ActionOutcome, Dispatcher
from ._engine import Match, RuleEngine, SqlLedger
from ._history import health_points, load_rule_history
from ._playbook import Playbook, load_playbook

if TYPE_CHECKING:
    from tonewatch.ingest import CustomerUpdate, SweepReport
    from tonewatch.store import Store

__all__ = ["Firing", "TriggerHook", "active_playbook", "audit_safe", "context_from_update", "lookback"]

# Drafts quote the last 90 days of issues; rules may look further back.
_DRAFT_HISTORY = timedelta(days=90)


def active_playbook(settings: Settings | None = None, path: str | Path | None = None) -> Playbook:
    """``path``, else ``settings.rules_path``, else the bundled starter playbook."""
    if path is not None:
        return load_playbook(path)
    if settings is not None and settings.rules_path is not None:
        return load_playbook(settings.rules_path)
    return load_playbook(None)


def _windows(cond: Condition) -> list[timedelta]:
    if isinstance(cond, All | AnyOf):
        return [w for item in cond.items for w in _windows(item)]
    if isinstance(cond, Not):
        return _windows(cond.item)
    if isinstance(cond, Count | HealthDrop | SentimentDrop):
        return [cond.within]
    return []


def lookback(playbook: Playbook) -> timedelta:
    """How much history a context needs for this playbook's windows and drafts."""
    return max([_DRAFT_HISTORY, *(w for rule in playbook.rules for w in _windows(rule.when))])


_AUDIT_TEXT = 64


def audit_safe(value: Any) -> Any:
    """Evidence fit for the audit log, which can never be erased: long texts become a hash and a length.

    Numbers, flags, dates and short labels stay readable; a quote or a name-sized free text that a
    rule happened to read is replaced by ``{"sha256", "chars"}`` (the firing row, which erasure
    removes, keeps the value itself).
    """
    if isinstance(value, Mapping):
        return {str(k): audit_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [audit_safe(v) for v in value]
    if isinstance(value, str) and (len(value) > _AUDIT_TEXT or " " in value.strip()):
        return {"sha256": hashlib.sha256(value.encode("utf-8")).hexdigest(), "chars": len(value)}
    return value


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        out = to_dict()
        return dict(out) if isinstance(out, Mapping) else {}
    return {}


def _event_dict(event: Any, category: str | None) -> dict[str, Any] | None:
    if event is None:
        return None
    data: dict[str, Any] = event.model_dump(mode="json", exclude_none=True)
    data.pop("text", None)  # the masked text is in the history; nothing else should echo it
    if category is not None:
        data["category"] = category
    return data


def context_from_update(update: CustomerUpdate, window: timedelta) -> RuleContext:
    """The rule context for one pipeline update (history read from the update's session)."""
    session: Session = update.session
    as_of = update.as_of
    history = load_rule_history(session, update.customer_id, since=as_of - window, until=as_of)
    health = health_points(session, update.customer_id, since=as_of - window, until=as_of)
    previous = _as_dict(update.previous)
    if isinstance(previous.get("health"), int | float):
        health.append((as_of, float(previous["health"])))
    event = update.event
    return RuleContext(
        customer_id=update.customer_id,
        as_of=as_of,
        trigger="sweep" if event is None else str(event.kind),
        attributes=dict(update.attributes),
        report=_as_dict(update.report),
        analysis=None if update.analysis is None else update.analysis.to_dict(),
        event=_event_dict(event, update.category),
        history=history,
        health_history=health,
    )


@dataclass(frozen=True)
class Firing:
    """A rule that fired: its ledger id, the match and what became of each action."""

    id: int
    match: Match
    actions: list[ActionOutcome] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        m = self.match
        return {
            "firing": self.id,
            "rule": m.rule.id,
            "customer_id": m.customer_id,
            "as_of": m.as_of.isoformat(),
            "trigger": m.trigger,
            "holdout": m.holdout,
            "low_confidence": m.low_confidence,
            "actions": [a.to_dict() for a in self.actions],
        }


class TriggerHook:
    """A pipeline hook that fires the playbook's rules (once per customer per cooldown)."""

    def __init__(
        self,
        playbook: Playbook | None = None,
        settings: Settings | None = None,
        *,
        sender: Sender | None = None,
        rewriter: LLMRewriter | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.playbook = playbook or active_playbook(self.settings)
        self.engine = RuleEngine.from_settings(self.playbook, self.settings)
        self.window = lookback(self.playbook)
        self.sender = sender
        self.rewriter = rewriter if rewriter is not None else LLMRewriter.from_settings(self.settings)
        self.fired: list[Firing] = []

    def __call__(self, update: CustomerUpdate, /) -> None:
        trigger = "sweep" if update.event is None else str(update.event.kind)
        if not any(rule.runs_on(trigger) for rule in self.playbook.rules):
            return  # reading the history would be wasted: no rule listens to this kind of event
        self.fired.extend(self.run(update.session, context_from_update(update, self.window)))

    def run(self, session: Session, ctx: RuleContext) -> list[Firing]:
        """Evaluate every rule on ``ctx``; fire, record and act on the matches outside their cooldown."""
        from tonewatch.audit import AuditLog

        ledger = SqlLedger(session, self.playbook.name)
        dispatcher = Dispatcher(session, self.settings, rewriter=self.rewriter, sender=self.sender)
        audit = AuditLog(session)
        out: list[Firing] = []
        for match in self.engine.evaluate(ctx):
            firing_id = ledger.claim(match)
            if firing_id is None:
                continue
            audit.record(
                f"rule:{match.rule.id}",
                "rule.fired",
                f"customer:{match.customer_id}",
                {
                    "firing": firing_id,
                    "playbook": self.playbook.name,
                    "trigger": match.trigger,
                    "event": match.event_id,
                    "as_of": match.as_of.isoformat(),
                    "holdout": match.holdout,
                    "low_confidence": match.low_confidence,
                    "evidence": audit_safe(match.evidence),
                    "actions": [{"type": a.type, "tier": a.tier.value} for a in match.rule.then],
                },
            )
            outcomes = dispatcher.dispatch(match, ctx, firing_id)
            ledger.record_actions(firing_id, [o.to_dict() for o in outcomes])
            if match.holdout:
                audit.record(
                    f"rule:{match.rule.id}",
                    "rule.withheld",
                    f"customer:{match.customer_id}",
                    {"firing": firing_id, "reason": "holdout", "actions": [o.action for o in outcomes]},
                )
            out.append(Firing(firing_id, match, outcomes))
        return out

    def sweep(
        self,
        store: Store,
        as_of: datetime | None = None,
        *,
        weights: Any = None,
        segment_baselines: Mapping[str, Any] | None = None,
    ) -> SweepReport:
        """Recompute every customer as of ``as_of`` and run the rules on each (the clock rules).

        ``weights`` and ``segment_baselines`` should be the deployment's, so the bands the rules
        read are the bands ``tonewatch health`` shows.
        """
        from tonewatch.ingest import Pipeline

        pipeline = Pipeline(
            store, settings=self.settings, hooks=[self], weights=weights, segment_baselines=segment_baselines
        )
        return pipeline.sweep(as_of)
