"""Which human judgment each kind of action needs: fixed here, by the engine, not by a rule author.

The cost of a wrong action sets its tier. A tag costs nothing to undo, so it runs at once; a
message to a customer is seen by them, so a person approves it; a discount or an executive call
commits the company, so a person decides it. A playbook may *raise* a tier (ask for approval of
a tag) but never lower one.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTION_TIERS",
    "OUTREACH_ACTIONS",
    "PRIORITIES",
    "Tier",
    "effective_tier",
    "priority_name",
    "priority_rank",
]


class Tier(StrEnum):
    AUTOMATIC = "automatic"
    APPROVE = "approve"
    HUMAN = "human"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Tier.AUTOMATIC: 0, Tier.APPROVE: 1, Tier.HUMAN: 2}

ACTION_TIERS: dict[str, Tier] = {
    "tag": Tier.AUTOMATIC,
    "set_priority": Tier.AUTOMATIC,
    "alert": Tier.AUTOMATIC,
    "acknowledge": Tier.AUTOMATIC,
    "check_in": Tier.APPROVE,
    "notify_account_manager": Tier.APPROVE,
    "retention_offer": Tier.HUMAN,
    "discount": Tier.HUMAN,
    "executive_escalation": Tier.HUMAN,
}
# Actions whose text reaches the customer: these go through the guardrail and the outbox.
OUTREACH_ACTIONS: frozenset[str] = frozenset({"acknowledge", "check_in", "retention_offer", "discount"})

# Queue priorities: 1 is the most urgent.
PRIORITIES: dict[str, int] = {"urgent": 1, "high": 2, "normal": 3, "low": 4}


def priority_rank(value: str | int) -> int:
    """``"high"`` or ``2`` -> 2; raises ``ValueError`` for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)} or 1-4, got {value!r}")
    if isinstance(value, int):
        if value in PRIORITIES.values():
            return value
    elif isinstance(value, str) and value.strip().lower() in PRIORITIES:
        return PRIORITIES[value.strip().lower()]
    raise ValueError(f"priority must be one of {', '.join(PRIORITIES)} or 1-4, got {value!r}")


def priority_name(rank: int) -> str:
    for name, value in PRIORITIES.items():
        if value == rank:
            return name
    return str(rank)


def effective_tier(action: str, *requested: Tier | str | None) -> Tier:
    """The strictest of the action's fixed tier and any requested ones (never lower than fixed)."""
    tier = ACTION_TIERS[action]
    for item in requested:
        if item is None:
            continue
        other = Tier(item)
        if other.rank > tier.rank:
            tier = other
    return tier
