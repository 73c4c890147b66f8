"""What each action type accepts in a playbook (validated with pydantic, unknown keys refused).

An action is written ``- tag: at-risk`` (the main parameter as a scalar) or
``- check_in: {template: repeat_issue, next_step: "...", within: 1d}``. ``tier`` may appear in
any action to *raise* its tier; the engine refuses a lower one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._tiers import Tier, priority_rank

__all__ = ["ACTION_PARAMS", "SCALAR_PARAM", "ActionSpec"]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    tier: Tier | None = None


def _duration(value: Any) -> str:
    from tonewatch.triggers._duration import parse_duration

    parse_duration(value)
    return str(value)


class TagParams(_Params):
    tag: str = Field(min_length=1, max_length=60, pattern=r"^[\w\-:/. ]+$")


class PriorityParams(_Params):
    priority: int

    @field_validator("priority", mode="before")
    @classmethod
    def _rank(cls, v: Any) -> int:
        return priority_rank(v)


class AlertParams(_Params):
    message: str = Field(min_length=1, max_length=500)
    severity: Literal["info", "warning", "critical"] = "warning"


class AcknowledgeParams(_Params):
    """An automatic receipt to the customer; ``text`` replaces the bundled template."""

    text: str | None = Field(default=None, min_length=1, max_length=4000)
    channel: str = "email"


class CheckInParams(_Params):
    template: Literal["repeat_issue", "silence", "usage_decline", "renewal", "sentiment_drop", "general"] = "general"
    channel: str = "email"
    next_step: str = Field(default="a 20-minute call with the engineer who owns your case", min_length=3)
    within: str = "1d"
    owner: str | None = None

    @field_validator("within")
    @classmethod
    def _within(cls, v: str) -> str:
        return _duration(v)


class AccountManagerParams(_Params):
    note: str | None = None


class HumanParams(_Params):
    recommendation: str | None = Field(default=None, max_length=2000)


ACTION_PARAMS: dict[str, type[_Params]] = {
    "tag": TagParams,
    "set_priority": PriorityParams,
    "alert": AlertParams,
    "acknowledge": AcknowledgeParams,
    "check_in": CheckInParams,
    "notify_account_manager": AccountManagerParams,
    "retention_offer": HumanParams,
    "discount": HumanParams,
    "executive_escalation": HumanParams,
}
# The parameter a scalar value fills: ``- tag: at-risk`` means ``{tag: at-risk}``.
SCALAR_PARAM: dict[str, str] = {
    "tag": "tag",
    "set_priority": "priority",
    "alert": "message",
    "acknowledge": "text",
    "check_in": "template",
    "notify_account_manager": "note",
    "retention_offer": "recommendation",
    "discount": "recommendation",
    "executive_escalation": "recommendation",
}


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One validated action of a rule with the tier the engine will enforce."""

    type: str
    tier: Tier
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "tier": self.tier.value, "params": dict(self.params)}
