"""Playbooks: the YAML file a support team edits, validated into rules the engine can run.

Structure and scalar fields are validated with pydantic; conditions and actions with their own
parsers. Every error becomes a :class:`RuleValidationError` naming the YAML line and the dotted
field (``rules[2].when.all[1]``), because the person fixing it is looking at the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tonewatch._errors import RuleValidationError
from tonewatch.act._specs import ACTION_PARAMS, SCALAR_PARAM, ActionSpec
from tonewatch.act._tiers import ACTION_TIERS, Tier, effective_tier, priority_rank

from ._conditions import Condition
from ._duration import format_duration, parse_duration
from ._parse_when import parse_when
from ._vocabulary import TRIGGERS
from ._yaml import Located, dotted, load_located

__all__ = ["STARTER_PLAYBOOK", "Playbook", "Rule", "load_playbook", "parse_playbook", "starter_playbook_text"]

STARTER_PLAYBOOK = "starter.yaml"
_Trigger = Literal["message", "ticket", "survey", "usage", "outcome", "customer", "sweep"]


class _RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_default=True)

    id: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    description: str = ""
    when: Any
    then: list[Any] = Field(min_length=1)
    cooldown: str | None = None
    holdout: float | None = Field(default=None, ge=0, lt=1)
    priority: int | str = "normal"
    on: list[_Trigger] | _Trigger | None = None
    enabled: bool = True

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @field_validator("priority")
    @classmethod
    def _priority(cls, v: int | str) -> int:
        return priority_rank(v)


class _Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cooldown: str = "7d"
    holdout: float | None = Field(default=None, ge=0, lt=1)

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, v: str) -> str:
        parse_duration(v)
        return v


class _PlaybookSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    name: str = "playbook"
    description: str = ""
    defaults: _Defaults = Field(default_factory=_Defaults)
    tiers: dict[str, Tier] = Field(default_factory=dict)
    rules: list[Any] = Field(min_length=1)


@dataclass(frozen=True)
class Rule:
    """One validated rule. ``holdout`` is ``None`` when the deployment default applies."""

    id: str
    description: str
    when: Condition
    then: tuple[ActionSpec, ...]
    cooldown: timedelta
    holdout: float | None
    priority: int
    on: frozenset[str]
    enabled: bool = True
    line: int | None = None

    def runs_on(self, trigger: str) -> bool:
        return trigger in self.on

    def holdout_fraction(self, default: float) -> float:
        return default if self.holdout is None else self.holdout

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "when": self.when.describe(),
            "then": [a.to_dict() for a in self.then],
            "cooldown": format_duration(self.cooldown),
            "holdout": self.holdout,
            "priority": self.priority,
            "on": sorted(self.on),
            "enabled": self.enabled,
            "line": self.line,
        }


@dataclass(frozen=True)
class Playbook:
    name: str
    rules: tuple[Rule, ...]
    source: str = "<string>"
    description: str = ""
    tiers: dict[str, Tier] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Rule]:
        return iter(r for r in self.rules if r.enabled)

    def __len__(self) -> int:
        return sum(1 for r in self.rules if r.enabled)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _raise_pydantic(doc: Located, exc: ValidationError, base: Sequence[str | int]) -> RuleValidationError:
    """The first pydantic error as a :class:`RuleValidationError` at the right line."""
    err = exc.errors()[0]
    loc = [p for p in err.get("loc", ()) if isinstance(p, str | int)]
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if err.get("type") == "missing" and loc:
        where = doc.known_prefix(base, loc[:-1])
        name = dotted((*where, loc[-1]))
        return RuleValidationError(f"{name}: missing required field {loc[-1]!r}", field=name, line=doc.line(where))
    path = doc.known_prefix(base, loc)
    if err.get("type") == "extra_forbidden" and loc:
        message = f"unknown key {loc[-1]!r}"
    return doc.error(path, message)


def _parse_action(doc: Located, value: Any, path: tuple[str | int, ...], overrides: dict[str, Tier]) -> ActionSpec:
    if isinstance(value, str) and value in ACTION_TIERS:
        value = {value: {}}
    if not isinstance(value, dict) or len(value) != 1:
        raise doc.error(path, f"an action is a one-key mapping like '- tag: at-risk'; known: {', '.join(ACTION_TIERS)}")
    kind, raw = next(iter(value.items()))
    if kind not in ACTION_TIERS:
        raise doc.error((*path, kind), f"unknown action {kind!r}; known: {', '.join(ACTION_TIERS)}")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raw = {SCALAR_PARAM[kind]: raw}
    try:
        params = ACTION_PARAMS[kind].model_validate(raw)
    except ValidationError as exc:
        raise _raise_pydantic(doc, exc, (*path, kind)) from None
    fixed = ACTION_TIERS[kind]
    if params.tier is not None and params.tier.rank < fixed.rank:
        raise doc.error(
            (*path, kind, "tier"),
            f"action {kind!r} is tier {fixed.value!r}; "
            f"a rule may raise a tier but never lower it to {params.tier.value!r}",
        )
    tier = effective_tier(kind, overrides.get(kind), params.tier)
    return ActionSpec(kind, tier, params.model_dump(exclude={"tier"}, exclude_none=True))


def _parse_rule(doc: Located, value: Any, index: int, spec_defaults: _Defaults, tiers: dict[str, Tier]) -> Rule:
    path: tuple[str | int, ...] = ("rules", index)
    if not isinstance(value, dict):
        raise doc.error(path, "a rule is a mapping with id, when and then")
    try:
        spec = _RuleSpec.model_validate(value)
    except ValidationError as exc:
        raise _raise_pydantic(doc, exc, path) from None
    when = parse_when(doc, spec.when, (*path, "when"))
    then = tuple(_parse_action(doc, a, (*path, "then", i), tiers) for i, a in enumerate(spec.then))
    on = spec.on if isinstance(spec.on, list) else ([spec.on] if spec.on else list(TRIGGERS))
    holdout = spec.holdout if spec.holdout is not None else spec_defaults.holdout
    return Rule(
        id=spec.id,
        description=spec.description,
        when=when,
        then=then,
        cooldown=parse_duration(spec.cooldown or spec_defaults.cooldown),
        holdout=holdout,
        priority=int(spec.priority),
        on=frozenset(on),
        enabled=spec.enabled,
        line=doc.line(path),
    )


def parse_playbook(text: str, source: str = "<string>") -> Playbook:
    """Validate playbook YAML text; raise :class:`RuleValidationError` naming line and field."""
    doc = load_located(text, source)
    if not isinstance(doc.data, dict):
        raise doc.error((), "a playbook is a mapping with a 'rules' list")
    try:
        spec = _PlaybookSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise _raise_pydantic(doc, exc, ()) from None
    for kind, tier in spec.tiers.items():
        if kind not in ACTION_TIERS:
            raise doc.error(("tiers", kind), f"unknown action {kind!r}; known: {', '.join(ACTION_TIERS)}")
        if tier.rank < ACTION_TIERS[kind].rank:
            raise doc.error(
                ("tiers", kind),
                f"action {kind!r} is tier {ACTION_TIERS[kind].value!r}; the tier can be raised, never lowered",
            )
    rules = tuple(_parse_rule(doc, r, i, spec.defaults, spec.tiers) for i, r in enumerate(spec.rules))
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.id in seen:
            raise doc.error(("rules", i, "id"), f"duplicate rule id {rule.id!r} (first used by rules[{seen[rule.id]}])")
        seen[rule.id] = i
    return Playbook(spec.name, rules, source, spec.description, dict(spec.tiers))


def starter_playbook_text() -> str:
    """The bundled starter playbook, for ``rules run`` without a file and as a template to copy."""
    return resources.files(__package__).joinpath("playbooks", STARTER_PLAYBOOK).read_text(encoding="utf-8")


def load_playbook(path: str | Path | None = None) -> Playbook:
    """Load and validate a playbook file; ``None`` loads the bundled starter playbook.

    Errors carry the file name too: ``starter.yaml: line 12: rules[0].when: ...``.
    """
    if path is None:
        return parse_playbook(starter_playbook_text(), STARTER_PLAYBOOK)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleValidationError(f"playbook file not found: {file}", field="path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleValidationError(f"cannot read playbook {file}: {exc}", field="path") from None
    return parse_playbook(text, str(file))
