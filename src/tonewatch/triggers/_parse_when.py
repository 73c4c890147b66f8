"""Parse a rule's ``when`` into the condition tree, naming the YAML line and field of any mistake.

Two spellings are accepted and may be mixed:

* a string comparison: ``tenure_days < 90``, ``band in [at-risk, critical]``,
  ``flags contains repeat_contact``, ``trend.declining`` (truthy), ``not trend.declining``;
* a mapping: ``{all: [...]}``, ``{any: [...]}``, ``{not: ...}``, ``{field: x, gte: 3}``,
  ``{count: contacts, within: 14d, where: {category: same}, gte: 3}``,
  ``{health_drop: {points: 15, within: 14d}}``, ``{sentiment_drop: {by: 0.6, within: 1d}}``.

A list is shorthand for ``all``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

from ._conditions import (
    COMPARISON_OPS,
    All,
    AnyOf,
    Compare,
    Condition,
    Count,
    CountFilter,
    HealthDrop,
    Not,
    SentimentDrop,
)
from ._context import ATTRIBUTE_SHORTCUTS, DERIVED_FIELDS, ROOTS
from ._duration import parse_duration
from ._vocabulary import (
    ANALYSIS_FIELDS,
    BANDS,
    COUNT_FIELDS,
    TREND_FIELDS,
    TRIGGERS,
    URGENCY_LEVELS,
    analysis_vocabulary,
    known_flags,
)
from ._yaml import Located, Path

__all__ = ["parse_when"]

_PATH = re.compile(r"^\s*(?P<path>[A-Za-z_][\w\-]*(?:\.[\w\-]+)*)\s*(?P<rest>.*?)\s*$")
_SYMBOL_OP = re.compile(r"^(==|!=|<=|>=|<|>|=)\s*(.+)$")
_WORD_OP = re.compile(r"^(not\s+in|in|not\s+contains|contains|between)\s+(.+)$")
_SYMBOLS = {"==": "eq", "=": "eq", "!=": "ne", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_OP_KEYS = frozenset(COMPARISON_OPS) - {"truthy"}
_NUMERIC_OPS = frozenset({"lt", "lte", "gt", "gte"})
_LOGIC_KEYS = ("all", "any", "not", "field", "count", "health_drop", "sentiment_drop")


def _known_values(path: tuple[str, ...]) -> tuple[str, ...] | frozenset[str] | None:
    """Closed vocabularies we can check a compared value against."""
    if path == ("band",):
        return BANDS
    if path == ("analysis", "label"):
        return analysis_vocabulary()[0]
    if path == ("analysis", "urgency"):
        return URGENCY_LEVELS
    if path == ("trigger",):
        return TRIGGERS
    if path == ("flags",):
        return known_flags()
    return None


class _Parser:
    def __init__(self, doc: Located) -> None:
        self.doc = doc

    def fail(self, path: Path, message: str) -> Exception:
        return self.doc.error(path, message)

    # -- fields ---------------------------------------------------------------------------------
    def check_path(self, parts: tuple[str, ...], where: Path) -> None:
        head = parts[0]
        if len(parts) == 1:
            if head in ATTRIBUTE_SHORTCUTS or head in DERIVED_FIELDS:
                return
            if head in ROOTS:
                if head == "factors":
                    return
                raise self.fail(where, f"field {head!r} needs a sub-field, e.g. {head}.<name>")
            known = sorted(ATTRIBUTE_SHORTCUTS | DERIVED_FIELDS | {r + ".*" for r in ROOTS})
            raise self.fail(where, f"unknown field {head!r}; known fields: {', '.join(known)}")
        if head not in ROOTS:
            raise self.fail(where, f"unknown field {'.'.join(parts)!r}: {head!r} has no sub-fields")
        sub = parts[1]
        if head == "analysis":
            if sub not in ANALYSIS_FIELDS:
                raise self.fail(where, f"unknown analysis field {sub!r}; known: {', '.join(sorted(ANALYSIS_FIELDS))}")
            _, sentiments, emotions = analysis_vocabulary()
            if sub == "emotions" and (len(parts) != 3 or parts[2] not in emotions):
                raise self.fail(where, f"use analysis.emotions.<emotion> with one of: {', '.join(emotions)}")
            if sub == "probabilities" and (len(parts) != 3 or parts[2] not in sentiments):
                raise self.fail(where, f"use analysis.probabilities.<p> with one of: {', '.join(sentiments)}")
        elif head == "trend" and (sub not in TREND_FIELDS or len(parts) != 2):
            raise self.fail(where, f"unknown trend field {sub!r}; known: {', '.join(sorted(TREND_FIELDS))}")

    def check_value(self, parts: tuple[str, ...], op: str, value: Any, where: Path) -> None:
        if op in _NUMERIC_OPS and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise self.fail(where, f"{'.'.join(parts)} {COMPARISON_OPS[op]} needs a number, got {value!r}")
        if op in ("in", "not_in") and not isinstance(value, list):
            raise self.fail(where, f"{COMPARISON_OPS[op]!r} needs a list like [a, b], got {value!r}")
        if op == "between" and not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise self.fail(where, f"'between' needs two numbers like [0, 60], got {value!r}")
        if op == "exists" and not isinstance(value, bool):
            raise self.fail(where, f"'exists' needs true or false, got {value!r}")
        if op in ("contains", "not_contains") and isinstance(value, list | dict):
            raise self.fail(where, f"{COMPARISON_OPS[op]!r} needs a single value, got {value!r}")
        vocabulary = _known_values(parts)
        if vocabulary is None or op not in ("eq", "ne", "in", "not_in", "contains", "not_contains"):
            return
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str) or item not in vocabulary:
                raise self.fail(
                    where,
                    f"{item!r} is not a known value of {'.'.join(parts)}; use one of: {', '.join(sorted(vocabulary))}",
                )

    # -- nodes ----------------------------------------------------------------------------------
    def node(self, value: Any, path: Path) -> Condition:
        if isinstance(value, str):
            return self.expression(value, path)
        if isinstance(value, bool) or value is None or isinstance(value, int | float):
            raise self.fail(path, f"expected a condition (a comparison string or a mapping), got {value!r}")
        if isinstance(value, list):
            return self.group("all", value, path)
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a condition, got {type(value).__name__}")
        keys = [k for k in _LOGIC_KEYS if k in value]
        if len(keys) != 1:
            wanted = ", ".join(_LOGIC_KEYS)
            found = ", ".join(map(str, value)) or "nothing"
            raise self.fail(path, f"a condition mapping needs exactly one of: {wanted} (found: {found})")
        key = keys[0]
        if key in ("all", "any"):
            self.only(value, {key}, path)
            return self.group(key, value[key], (*path, key))
        if key == "not":
            self.only(value, {"not"}, path)
            return Not(self.node(value["not"], (*path, "not")))
        if key == "field":
            return self.field_mapping(value, path)
        if key == "count":
            return self.count(value, path)
        if key == "health_drop":
            self.only(value, {"health_drop"}, path)
            return self.health_drop(value["health_drop"], (*path, "health_drop"))
        self.only(value, {"sentiment_drop"}, path)
        return self.sentiment_drop(value["sentiment_drop"], (*path, "sentiment_drop"))

    def only(self, value: dict[str, Any], allowed: set[str], path: Path) -> None:
        for key in value:
            if key not in allowed:
                raise self.fail((*path, key), f"unexpected key {key!r} here; allowed: {', '.join(sorted(allowed))}")

    def group(self, key: str, items: Any, path: Path) -> Condition:
        if not isinstance(items, list) or not items:
            raise self.fail(path, f"'{key}' needs a non-empty list of conditions")
        parsed = tuple(self.node(item, (*path, i)) for i, item in enumerate(items))
        return All(parsed) if key == "all" else AnyOf(parsed)

    def expression(self, text: str, path: Path) -> Condition:
        negate = False
        body = text.strip()
        if body.startswith("not "):
            negate, body = True, body[4:].strip()
        match = _PATH.match(body)
        if match is None or not body:
            raise self.fail(path, f"cannot read condition {text!r}; write e.g. 'tenure_days < 90'")
        parts = tuple(match.group("path").split("."))
        self.check_path(parts, path)
        rest = match.group("rest")
        if not rest:
            cond: Condition = Compare(parts, "truthy")
        else:
            op_match = _SYMBOL_OP.match(rest) or _WORD_OP.match(rest)
            if op_match is None:
                raise self.fail(
                    path,
                    f"cannot read condition {text!r}: expected an operator "
                    "(==, !=, <, <=, >, >=, in, not in, contains, not contains, between)",
                )
            raw_op = " ".join(op_match.group(1).split())
            op = _SYMBOLS.get(raw_op) or raw_op.replace(" ", "_")
            try:
                value = yaml.safe_load(op_match.group(2))
            except yaml.YAMLError:
                raise self.fail(path, f"cannot read the value {op_match.group(2)!r} in {text!r}") from None
            self.check_value(parts, op, value, path)
            cond = Compare(parts, op, value)
        return Not(cond) if negate else cond

    def field_mapping(self, value: dict[str, Any], path: Path) -> Condition:
        name = value["field"]
        if not isinstance(name, str) or not name:
            raise self.fail((*path, "field"), "'field' must be a field name such as 'analysis.score'")
        parts = tuple(name.split("."))
        self.check_path(parts, (*path, "field"))
        ops = [k for k in value if k != "field"]
        if len(ops) != 1 or ops[0] not in _OP_KEYS:
            raise self.fail(path, f"a field condition needs exactly one operator: {', '.join(sorted(_OP_KEYS))}")
        op = ops[0]
        self.check_value(parts, op, value[op], (*path, op))
        return Compare(parts, op, value[op])

    def duration(self, value: Any, path: Path) -> Any:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None

    def number(self, value: Any, path: Path, *, positive: bool = True) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or (positive and value <= 0):
            raise self.fail(path, f"expected a {'positive ' if positive else ''}number, got {value!r}")
        return float(value)

    def count(self, value: dict[str, Any], path: Path) -> Condition:
        of = value["count"]
        if of not in COUNT_FIELDS:
            raise self.fail((*path, "count"), f"can count one of: {', '.join(COUNT_FIELDS)}; got {of!r}")
        if "within" not in value:
            raise self.fail(path, "a count needs a window, e.g. 'within: 14d'")
        within = self.duration(value["within"], (*path, "within"))
        ops = [k for k in value if k not in ("count", "within", "where")]
        if len(ops) != 1 or ops[0] not in _NUMERIC_OPS | {"eq", "ne", "between"}:
            raise self.fail(path, "a count needs exactly one comparison: gte, gt, lte, lt, eq, ne or between")
        op = ops[0]
        self.check_value(("count",), op, value[op], (*path, op))
        return Count(of, within, self.filters(of, value.get("where", {}), (*path, "where")), op, value[op])

    def filters(self, of: str, where: Any, path: Path) -> tuple[CountFilter, ...]:
        if not isinstance(where, dict):
            raise self.fail(path, "'where' must be a mapping like {category: same, channel: email}")
        allowed = COUNT_FIELDS[of]
        out: list[CountFilter] = []
        for name, expected in where.items():
            at = (*path, name)
            if name not in allowed:
                raise self.fail(at, f"{of} cannot be filtered on {name!r}; use one of: {', '.join(sorted(allowed))}")
            if expected == "same":
                out.append(CountFilter(name, "eq", None, same=True))
            elif isinstance(expected, list):
                out.append(CountFilter(name, "in", expected))
            elif isinstance(expected, dict):
                if len(expected) != 1 or next(iter(expected)) not in _OP_KEYS:
                    raise self.fail(at, f"use one operator, e.g. {{{name}: {{gte: 1}}}}")
                op, operand = next(iter(expected.items()))
                self.check_value((name,), op, operand, at)
                out.append(CountFilter(name, op, operand))
            else:
                out.append(CountFilter(name, "eq", expected))
        return tuple(out)

    def health_drop(self, value: Any, path: Path) -> Condition:
        if not isinstance(value, dict):
            raise self.fail(path, "health_drop needs a mapping like {points: 15, within: 14d}")
        self.only(value, {"points", "within"}, path)
        if "points" not in value or "within" not in value:
            raise self.fail(path, "health_drop needs both 'points' and 'within'")
        points = self.number(value["points"], (*path, "points"))
        return HealthDrop(points, self.duration(value["within"], (*path, "within")))

    def sentiment_drop(self, value: Any, path: Path) -> Condition:
        if not isinstance(value, dict):
            raise self.fail(path, "sentiment_drop needs a mapping like {by: 0.6, within: 1d, same: ticket}")
        self.only(value, {"by", "within", "same"}, path)
        if "by" not in value or "within" not in value:
            raise self.fail(path, "sentiment_drop needs both 'by' and 'within'")
        by = self.number(value["by"], (*path, "by"))
        if by > 2:
            raise self.fail((*path, "by"), "sentiment scores lie in [-1, 1]; 'by' must be at most 2")
        same = value.get("same", "ticket")
        if same not in ("ticket", "conversation", "any"):
            raise self.fail((*path, "same"), "'same' must be ticket, conversation or any")
        return SentimentDrop(by, self.duration(value["within"], (*path, "within")), same)


def parse_when(doc: Located, value: Any, path: Sequence[str | int]) -> Condition:
    """The condition at ``path`` of ``doc`` (``value`` is the data found there)."""
    return _Parser(doc).node(value, tuple(path))
