"""The condition tree of a rule's ``when`` and how each node reads a :class:`RuleContext`.

A comparison over a field the context does not have is false (``not`` of it is true), so a rule
about renewal dates never fires for a customer without one. Every node can report the values it
looked at (``evidence``), which is what a firing records in the audit log and shows reviewers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol

from ._context import MISSING, HistoryItem, RuleContext
from ._duration import format_duration

__all__ = [
    "COMPARISON_OPS",
    "All",
    "AnyOf",
    "Compare",
    "Condition",
    "Count",
    "CountFilter",
    "HealthDrop",
    "Not",
    "SentimentDrop",
    "compare_values",
]

# Operator names usable as mapping keys (``gte: 3``); the string form uses the symbols.
COMPARISON_OPS: dict[str, str] = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "in": "in",
    "not_in": "not in",
    "contains": "contains",
    "not_contains": "not contains",
    "between": "between",
    "exists": "exists",
    "truthy": "",
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _equal(a: Any, b: Any) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return bool(a == b)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def compare_values(actual: Any, op: str, expected: Any) -> bool:
    """``actual <op> expected`` with the rule language's semantics (missing -> false)."""
    if op == "exists":
        return (actual is not MISSING) == bool(expected)
    if actual is MISSING:
        return False
    if op == "truthy":
        return bool(actual)
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    if op in ("lt", "lte", "gt", "gte"):
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            return False
        return {"lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[op]
    if op == "between":
        a = _number(actual)
        lo, hi = _number(expected[0]), _number(expected[1])
        return a is not None and lo is not None and hi is not None and lo <= a <= hi
    if op in ("in", "not_in"):
        found = any(_equal(actual, item) for item in expected)
        return found if op == "in" else not found
    if op in ("contains", "not_contains"):
        if _is_list(actual):
            found = any(_equal(item, expected) for item in actual)
        elif isinstance(actual, str) and isinstance(expected, str):
            found = expected.casefold() in actual.casefold()
        else:
            return False
        return found if op == "contains" else not found
    raise ValueError(f"unknown operator {op!r}")  # pragma: no cover - guarded by the parser


def _show(value: Any) -> Any:
    return None if value is MISSING else value


class Condition(Protocol):
    """A node of ``when``."""

    def evaluate(self, ctx: RuleContext) -> bool: ...

    def evidence(self, ctx: RuleContext) -> dict[str, Any]: ...

    def describe(self) -> str: ...

    def needs_analysis(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Compare:
    """``<field> <op> <value>``; ``field`` is a dotted path such as ``analysis.emotions.frustration``."""

    path: tuple[str, ...]
    op: str
    value: Any = None

    @property
    def field(self) -> str:
        return ".".join(self.path)

    def evaluate(self, ctx: RuleContext) -> bool:
        return compare_values(ctx.resolve(self.path), self.op, self.value)

    def evidence(self, ctx: RuleContext) -> dict[str, Any]:
        return {self.field: _show(ctx.resolve(self.path))}

    def describe(self) -> str:
        if self.op == "truthy":
            return self.field
        if self.op == "exists":
            return f"{self.field} {'exists' if self.value else 'is missing'}"
        return f"{self.field} {COMPARISON_OPS[self.op]} {self.value!r}"

    def needs_analysis(self) -> bool:
        return self.path[0] == "analysis"


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Condition, ...]

    def evaluate(self, ctx: RuleContext) -> bool:
        return all(item.evaluate(ctx) for item in self.items)

    def evidence(self, ctx: RuleContext) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in self.items:
            out.update(item.evidence(ctx))
        return out

    def describe(self) -> str:
        return "(" + " and ".join(item.describe() for item in self.items) + ")"

    def needs_analysis(self) -> bool:
        return any(item.needs_analysis() for item in self.items)


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]

    def evaluate(self, ctx: RuleContext) -> bool:
        return any(item.evaluate(ctx) for item in self.items)

    def evidence(self, ctx: RuleContext) -> dict[str, Any]:
        """Values of the branches that held (all branches when none did)."""
        held = [item for item in self.items if item.evaluate(ctx)] or list(self.items)
        out: dict[str, Any] = {}
        for item in held:
            out.update(item.evidence(ctx))
        return out

    def describe(self) -> str:
        return "(" + " or ".join(item.describe() for item in self.items) + ")"

    def needs_analysis(self) -> bool:
        return any(item.needs_analysis() for item in self.items)


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition

    def evaluate(self, ctx: RuleContext) -> bool:
        return not self.item.evaluate(ctx)

    def evidence(self, ctx: RuleContext) -> dict[str, Any]:
        return self.item.evidence(ctx)

    def describe(self) -> str:
        return f"not {self.item.describe()}"

    def needs_analysis(self) -> bool:
        return self.item.needs_analysis()


@dataclass(frozen=True, slots=True)
class CountFilter:
    """One ``where`` entry of a count: ``field <op> value``; ``same`` compares with the current event."""

    field: str
    op: str
    value: Any
    same: bool = False


CountKind = Literal["messages", "contacts", "tickets", "surveys", "usage", "outcomes"]
_KIND_OF: dict[str, str] = {
    "messages": "message",
    "contacts": "message",
    "tickets": "ticket",
    "surveys": "survey",
    "usage": "usage",
    "outcomes": "outcome",
}


def _same_value(ctx: RuleContext, name: str) -> Any:
    """The current event's value of ``name`` (category falls back to the last contact's)."""
    if name == "category":
        return ctx.current_category
    if ctx.event is not None and ctx.event.get(name) is not None:
        return ctx.event[name]
    last = ctx.last_contact
    return MISSING if last is None else last.data.get(name, MISSING)


@dataclass(frozen=True, slots=True)
class Count:
    """How many events of a kind matching ``where`` fell in the last ``within`` (up to ``as_of``).

    ``messages`` counts customer-authored messages unless ``where`` names an ``author``;
    ``contacts`` counts distinct tickets/conversations those messages belong to, which is what
    "the third contact about the same issue" means.
    """

    of: CountKind
    within: timedelta
    where: tuple[CountFilter, ...]
    op: str
    value: Any

    def _matching(self, ctx: RuleContext) -> list[HistoryItem]:
        start = ctx.as_of - self.within
        kind = _KIND_OF[self.of]
        default_author = self.of in ("messages", "contacts") and not any(f.field == "author" for f in self.where)
        out: list[HistoryItem] = []
        for item in ctx.history:
            if item.kind != kind or not (start < item.timestamp <= ctx.as_of):
                continue
            if default_author and not item.is_customer_message:
                continue
            if all(self._keep(ctx, item, f) for f in self.where):
                out.append(item)
        return out

    @staticmethod
    def _keep(ctx: RuleContext, item: HistoryItem, f: CountFilter) -> bool:
        expected = _same_value(ctx, f.field) if f.same else f.value
        if expected is MISSING:
            return False
        return compare_values(item.get(f.field), f.op, expected)

    def count(self, ctx: RuleContext) -> int:
        items = self._matching(ctx)
        if self.of == "contacts":
            return len({item.contact_key for item in items})
        return len(items)

    def evaluate(self, ctx: RuleContext) -> bool:
        return compare_values(self.count(ctx), self.op, self.value)

    def evidence(self, ctx: RuleContext) -> dict[str, Any]:
        items = self._matching(ctx)
        key = f"count.{self.of}.{format_duration(self.within)}"
        return {key: self.count(ctx), key + ".dates": [i.timestamp.date().isoformat() for i in items]}

    def describe(self) -> str:
        where = ", ".join(f"{f.field}={'same' if f.same else f.value!r}" for f in self.where)
        scope = f" where {where}" if where else ""
        return f"count of {self.of}{scope} in {format_duration(self.within)} {COMPARISON_OPS[self.op]} {self.value!r}"

    def needs_analysis(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class HealthDrop:
    """The health score fell by at least ``points`` from its highest value within ``within``."""

    points: float
    within: timedelta

    def drop(self, ctx: RuleContext) -> float | None:
        current = _number(ctx.resolve(("health",)))
        if current is None:
            return None
        start = ctx.as_of - self.within
        past = [h for t, h in ctx.health_history if start <= t <= ctx.as_of]
        if not past:
            return None
        return max(past) - current

    def evaluate(self, ctx: RuleContext) -> bool:
        drop = self.drop(ctx)
        return drop is not None and drop >= self.points

    def evidence(self, ctx: RuleContext) -> dict[str, Any]:
        drop = self.drop(ctx)
        return {f"health_drop.{format_duration(self.within)}": None if drop is None else round(drop, 2)}

    def describe(self) -> str:
        return f"health dropped by >= {self.points:g} points in {format_duration(self.within)}"

    def needs_analysis(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class SentimentDrop:
    """The current message's score is ``by`` below the best earlier customer message in the window.

    ``same: ticket`` (or ``conversation``) limits the comparison to the same thread: the
    "sharp drop mid-conversation" of the starter playbook.
    """

    by: float
    within: timedelta
    same: Literal["ticket", "conversation", "any"] = "ticket"

    def _thread(self, data: Mapping[str, Any]) -> Any:
        if self.same == "ticket":
            return data.get("ticket_id") or data.get("conversation_id")
        return data.get("conversation_id") or data.get("ticket_id")

    def scores(self, ctx: RuleContext) -> tuple[float, float] | None:
        """(best earlier score, current score), or ``None`` when there is nothing to compare."""
        if ctx.analysis is None or ctx.event is None:
            return None
        current = _number(ctx.analysis.get("score"))
        if current is None:
            return None
        start = ctx.as_of - self.within
        thread = self._thread(ctx.event)
        if self.same != "any" and not thread:
            return None
        earlier: list[float] = []
        for item in ctx.history:
            if not item.is_customer_message or item.event_id == ctx.event.get("event_id"):
                continue
            if not (start <= item.timestamp <= ctx.as_of):
                continue
            if self.same != "any" and self._thread(item.data) != thread:
                continue
            score = _number(item.data.get("score"))
            if score is not None:
                earlier.append(score)
        if not earlier:
            return None
        return max(earlier), current

    def evaluate(self, ctx: RuleContext) -> bool:
        pair = self.scores(ctx)
        return pair is not None and pair[0] - pair[1] >= self.by

    def evidence(self, ctx: RuleContext) -> dict[str, Any]:
        pair = self.scores(ctx)
        if pair is None:
            return {"sentiment_drop": None}
        return {"sentiment_drop": {"from": round(pair[0], 3), "to": round(pair[1], 3)}}

    def describe(self) -> str:
        return f"sentiment dropped by >= {self.by:g} within {format_duration(self.within)} (same {self.same})"

    def needs_analysis(self) -> bool:
        return True
