"""act stage: what the engine may do on its own, what needs a person, and how messages leave.

Tiers are fixed per action type (:data:`ACTION_TIERS`); the emotional-outreach guardrail and the
outbox make sure nothing about a customer's feelings, and no concession, is ever sent without a
person's approval.
"""

from ._business_time import business_deadline, next_business_time
from ._drafts import CHECK_IN_TEMPLATES, DEFAULT_RECOMMENDATIONS, GENERIC_PHRASES, Draft, DraftWriter, format_day
from ._effects import EFFECTS, apply_effect
from ._facts import DraftFacts, HistoryLike, Issue, SurveyDrop, UsageDrop, build_facts
from ._guardrail import FEELING_WORDS, PROMISE_WORDS, mentions_feelings, promises_compensation
from ._llm import LLMRewriter, Rewrite
from ._models import AlertRow, OutboxRow, QueuePriorityRow, TagRow
from ._outbox import JsonlSender, OutboundMessage, Outbox, Sender, TableSender
from ._specs import ACTION_PARAMS, SCALAR_PARAM, ActionSpec
from ._tiers import ACTION_TIERS, OUTREACH_ACTIONS, PRIORITIES, Tier, effective_tier, priority_name, priority_rank

__all__ = [
    "ACTION_PARAMS",
    "ACTION_TIERS",
    "CHECK_IN_TEMPLATES",
    "DEFAULT_RECOMMENDATIONS",
    "EFFECTS",
    "FEELING_WORDS",
    "GENERIC_PHRASES",
    "OUTREACH_ACTIONS",
    "PRIORITIES",
    "PROMISE_WORDS",
    "SCALAR_PARAM",
    "ActionSpec",
    "AlertRow",
    "Draft",
    "DraftFacts",
    "DraftWriter",
    "HistoryLike",
    "Issue",
    "JsonlSender",
    "LLMRewriter",
    "OutboundMessage",
    "Outbox",
    "OutboxRow",
    "QueuePriorityRow",
    "Rewrite",
    "Sender",
    "SurveyDrop",
    "TableSender",
    "TagRow",
    "Tier",
    "UsageDrop",
    "apply_effect",
    "build_facts",
    "business_deadline",
    "effective_tier",
    "format_day",
    "mentions_feelings",
    "next_business_time",
    "priority_name",
    "priority_rank",
    "promises_compensation",
]
