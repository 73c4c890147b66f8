"""Carry out a fired rule's actions at the tier the engine enforces.

* automatic: tags, queue priority and dashboard alerts are applied at once; an automatic
  acknowledgement is sent through the outbox only if its text passes the guardrail;
* approve: a drafted check-in or account-manager alert becomes a review item;
* human: a summary and a recommendation become a review item; a person decides.

Two things route an action to a person whatever its tier: an analysis the model was unsure of
(low confidence, ``needs_review``), and outreach text that mentions the customer's feelings or
offers compensation. A holdout firing is recorded and acts on nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from tonewatch.act._drafts import Draft, DraftWriter
from tonewatch.act._effects import EFFECTS, apply_effect
from tonewatch.act._facts import DraftFacts, build_facts
from tonewatch.act._guardrail import mentions_feelings, promises_compensation
from tonewatch.act._llm import LLMRewriter
from tonewatch.act._outbox import Outbox, Sender
from tonewatch.act._specs import ActionSpec
from tonewatch.act._tiers import Tier, priority_name
from tonewatch.review._queue import ReviewQueue
from tonewatch.settings import Settings

from ._context import RuleContext
from ._duration import parse_duration
from ._engine import Match

__all__ = ["ActionOutcome", "Dispatcher", "review_evidence"]

_QUOTES = 3
_QUOTE_CHARS = 280


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What happened to one action of a firing: executed, queued for review, or withheld."""

    action: str
    tier: str
    status: str
    route: str
    ref: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "tier": self.tier, "status": self.status, "route": self.route, "ref": self.ref}


def _quotes(ctx: RuleContext) -> list[dict[str, Any]]:
    """Recent negative customer messages (masked text), newest first: what a reviewer should read."""
    out: list[dict[str, Any]] = []
    for item in reversed(list(ctx.customer_messages)):
        text = item.data.get("text")
        score = item.data.get("score")
        negative = item.data.get("label") in ("negative", "mixed") or (isinstance(score, int | float) and score < -0.2)
        if not isinstance(text, str) or not text.strip() or not negative:
            continue
        clipped = text.strip() if len(text) <= _QUOTE_CHARS else text.strip()[: _QUOTE_CHARS - 3] + "..."
        out.append(
            {
                "event_id": item.event_id,
                "date": item.timestamp.date().isoformat(),
                "channel": item.data.get("channel"),
                "category": item.data.get("category"),
                "text": clipped,
            }
        )
        if len(out) >= _QUOTES:
            break
    return out


def review_evidence(match: Match, ctx: RuleContext) -> dict[str, Any]:
    """Everything a reviewer needs on one screen: flags, factors, the values that matched, quotes."""
    report = ctx.report
    factors = [
        {k: f.get(k) for k in ("name", "points", "reason", "evidence") if k in f}
        for f in report.get("factors") or []
        if isinstance(f, Mapping)
    ]
    return {
        "rule": match.rule.id,
        "description": match.rule.description,
        "condition": match.rule.when.describe(),
        "matched": match.evidence.get("matched", {}),
        "health": report.get("health"),
        "band": report.get("band"),
        "trend": report.get("trend"),
        "flags": list(report.get("flags") or []),
        "factors": factors[:6],
        "analysis": match.evidence.get("analysis"),
        "quotes": _quotes(ctx),
        "as_of": match.as_of.isoformat(),
        "low_confidence": match.low_confidence,
    }


class Dispatcher:
    """Runs one firing's actions inside the caller's transaction."""

    def __init__(
        self,
        session: Session,
        settings: Settings | None = None,
        *,
        writer: DraftWriter | None = None,
        rewriter: LLMRewriter | None = None,
        sender: Sender | None = None,
    ) -> None:
        self.session = session
        self.settings = settings or Settings()
        self.writer = writer or DraftWriter(self.settings)
        self.rewriter = rewriter
        self.sender = sender

    def _facts(self, ctx: RuleContext) -> DraftFacts:
        category = ctx.current_category
        ticket = None if ctx.event is None else ctx.event.get("ticket_id")
        return build_facts(
            ctx.customer_id,
            ctx.as_of,
            ctx.attributes,
            list(ctx.history),
            category=category if isinstance(category, str) else None,
            ticket_id=ticket if isinstance(ticket, str) else None,
        )

    def _check_in(self, spec: ActionSpec, facts: DraftFacts) -> Draft:
        params = spec.params
        draft = self.writer.check_in(
            facts,
            template=str(params.get("template", "general")),
            next_step=str(params.get("next_step", "a 20-minute call with the engineer who owns your case")),
            within=parse_duration(params.get("within", "1d")),
            owner=params.get("owner"),
        )
        if self.rewriter is not None:
            draft = self.rewriter.rewrite(draft, keep=facts.key_dates()).draft
        return draft

    def dispatch(self, match: Match, ctx: RuleContext, firing_id: int | None) -> list[ActionOutcome]:
        """Carry out (or queue, or withhold) every action of ``match``."""
        if match.holdout:
            return [ActionOutcome(a.type, a.tier.value, "withheld", "holdout") for a in match.rule.then]
        facts = self._facts(ctx)
        evidence = review_evidence(match, ctx)
        return [self._one(spec, match, ctx, facts, evidence, firing_id) for spec in match.rule.then]

    def _one(
        self,
        spec: ActionSpec,
        match: Match,
        ctx: RuleContext,
        facts: DraftFacts,
        evidence: dict[str, Any],
        firing_id: int | None,
    ) -> ActionOutcome:
        rule = match.rule
        tier, route = spec.tier, "tier"
        if match.low_confidence and tier is Tier.AUTOMATIC:
            tier, route = Tier.APPROVE, "low_confidence"
        draft: Draft | None = None
        if spec.type == "acknowledge":
            draft = self._acknowledge(spec, facts)
            if tier is Tier.AUTOMATIC and (mentions_feelings(draft.text) or promises_compensation(draft.text)):
                tier, route = Tier.APPROVE, "guardrail"
        if tier is Tier.AUTOMATIC:
            return self._automatic(spec, match, firing_id, draft)
        queue = ReviewQueue(self.session, self.settings, sender=self.sender)
        summary = f"{rule.description or rule.id} ({rule.when.describe()})"
        recommendation: str | None = None
        if spec.type == "check_in":
            draft = self._check_in(spec, facts)
        elif spec.type == "notify_account_manager":
            draft = self.writer.account_manager(
                facts, rule=rule.id, rule_description=rule.description, report=ctx.report, note=spec.params.get("note")
            )
        elif tier is Tier.HUMAN:
            summary, recommendation = self.writer.human_summary(
                facts,
                action=spec.type,
                rule=rule.id,
                rule_description=rule.description,
                report=ctx.report,
                recommendation=spec.params.get("recommendation"),
            )
        elif spec.type in EFFECTS:
            summary = f"{summary}: {spec.type} {self._describe_effect(spec)} (needs approval: {route})"
        item = queue.create(
            customer_id=match.customer_id,
            action=spec.type,
            tier=tier,
            priority=rule.priority,
            rule_id=rule.id,
            firing_id=firing_id,
            params=spec.params,
            evidence=evidence,
            summary=summary,
            recommendation=recommendation,
            draft=None if draft is None else draft.text,
            draft_source=None if draft is None else draft.source,
            route_reason=route,
            actor=f"rule:{rule.id}",
            now=match.as_of,
        )
        return ActionOutcome(spec.type, tier.value, "queued", route, item.id)

    @staticmethod
    def _describe_effect(spec: ActionSpec) -> str:
        if spec.type == "set_priority":
            return priority_name(int(spec.params["priority"]))
        return str(spec.params.get("tag") or spec.params.get("message") or "")

    def _acknowledge(self, spec: ActionSpec, facts: DraftFacts) -> Draft:
        text = spec.params.get("text")
        if isinstance(text, str) and text.strip():
            return Draft(None, text.strip() + "\n", "custom")
        return self.writer.acknowledge(facts, within=timedelta(hours=self.settings.sla_business_hours))

    def _automatic(self, spec: ActionSpec, match: Match, firing_id: int | None, draft: Draft | None) -> ActionOutcome:
        actor = f"rule:{match.rule.id}"
        if spec.type == "acknowledge" and draft is not None:
            row = Outbox(self.session, self.sender).send(
                customer_id=match.customer_id,
                body=draft.body,
                subject=draft.subject,
                approved_by=None,
                channel=str(spec.params.get("channel", "email")),
                rule_id=match.rule.id,
                now=match.as_of,
            )
            return ActionOutcome(spec.type, Tier.AUTOMATIC.value, "executed", "tier", row.id)
        result = apply_effect(
            self.session,
            customer_id=match.customer_id,
            action=spec.type,
            params=spec.params,
            actor=actor,
            rule_id=match.rule.id,
            firing_id=firing_id,
            now=match.as_of,
        )
        ref = result.get("alert_id")
        return ActionOutcome(spec.type, Tier.AUTOMATIC.value, "executed", "tier", ref if isinstance(ref, int) else None)
