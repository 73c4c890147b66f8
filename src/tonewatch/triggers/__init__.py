"""triggers stage: the playbook of rules that turns signals into proactive support.

``load_playbook(path)`` validates a YAML playbook (errors name the line and field);
``TriggerHook(playbook, settings)`` runs it inside the ingest pipeline and on sweeps, firing each
rule at most once per customer per cooldown; ``backtest`` replays stored history to show what a
playbook would have flagged and how early.
"""

from ._backtest import BacktestResult, RuleBacktest, StateModel, backtest
from ._conditions import All, AnyOf, Compare, Condition, Count, CountFilter, HealthDrop, Not, SentimentDrop
from ._context import MISSING, HistoryItem, RuleContext
from ._dispatch import ActionOutcome, Dispatcher, review_evidence
from ._duration import format_duration, parse_duration
from ._engine import FiringLedger, Match, MemoryLedger, RuleEngine, SqlLedger
from ._history import health_points, history_item, load_rule_history
from ._holdout import HOLDOUT_SALT, holdout_unit, in_holdout
from ._hook import Firing, TriggerHook, active_playbook, audit_safe, context_from_update, lookback
from ._models import FiringRow
from ._playbook import STARTER_PLAYBOOK, Playbook, Rule, load_playbook, parse_playbook, starter_playbook_text

__all__ = [
    "HOLDOUT_SALT",
    "MISSING",
    "STARTER_PLAYBOOK",
    "ActionOutcome",
    "All",
    "AnyOf",
    "BacktestResult",
    "Compare",
    "Condition",
    "Count",
    "CountFilter",
    "Dispatcher",
    "Firing",
    "FiringLedger",
    "FiringRow",
    "HealthDrop",
    "HistoryItem",
    "Match",
    "MemoryLedger",
    "Not",
    "Playbook",
    "Rule",
    "RuleBacktest",
    "RuleContext",
    "RuleEngine",
    "SentimentDrop",
    "SqlLedger",
    "StateModel",
    "TriggerHook",
    "active_playbook",
    "audit_safe",
    "backtest",
    "context_from_update",
    "format_duration",
    "health_points",
    "history_item",
    "holdout_unit",
    "in_holdout",
    "load_playbook",
    "load_rule_history",
    "lookback",
    "parse_duration",
    "parse_playbook",
    "review_evidence",
    "starter_playbook_text",
]
