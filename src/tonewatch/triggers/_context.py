"""What a rule sees: one customer, as of one moment.

The context is plain data (customer attributes, the health report dict, the latest analysis
dict, the triggering event and a short history of recent events), so the same rules run inside
the ingest pipeline, on the clock sweep and in a backtest, and can be unit-tested without a
database. Field paths (``analysis.emotions.frustration``, ``signals.silence.days``...) resolve
here; derived customer fields (tenure, days to renewal, days since the last contact) are computed
as of ``as_of`` so replays give the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from tonewatch.signals._dates import as_date

__all__ = [
    "ATTRIBUTE_SHORTCUTS",
    "DERIVED_FIELDS",
    "MISSING",
    "ROOTS",
    "HistoryItem",
    "RuleContext",
]


class _Missing:
    """A field the context does not have; every comparison with it is false."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

# Single-name fields that read a customer attribute.
ATTRIBUTE_SHORTCUTS: frozenset[str] = frozenset({"plan", "segment", "language", "name", "account_manager"})
# Single-name fields computed from the context.
DERIVED_FIELDS: frozenset[str] = frozenset(
    {
        "customer_id",
        "trigger",
        "tenure_days",
        "days_to_renewal",
        "renewal_within_days",
        "account_value",
        "health",
        "band",
        "flags",
        "category",
        "days_since_contact",
    }
)
# Dotted roots: ``<root>.<name>...``.
ROOTS: frozenset[str] = frozenset(
    {"attributes", "analysis", "trend", "signals", "factors", "event", "report", "last_contact"}
)


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One past event of the customer, reduced to what count windows and drafts need.

    ``data`` holds the event's fields (channel, author, ticket_id, conversation_id, status,
    survey, score, metric, value, outcome...) plus, for scored messages, ``label``,
    ``score`` (sentiment), ``category`` and the *masked* ``text``.
    """

    kind: str
    timestamp: datetime
    event_id: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        if name == "kind":
            return self.kind
        if name == "event_id":
            return self.event_id
        return self.data.get(name, MISSING)

    @property
    def is_customer_message(self) -> bool:
        return self.kind == "message" and self.data.get("author", "customer") == "customer"

    @property
    def contact_key(self) -> str:
        """What makes two messages the same contact: their ticket, else conversation, else themselves."""
        return str(self.data.get("ticket_id") or self.data.get("conversation_id") or self.event_id)


def _walk(value: Any, parts: Sequence[str]) -> Any:
    for part in parts:
        if isinstance(value, Mapping):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, Sequence) and not isinstance(value, str) and part.isdigit():
            index = int(part)
            if index >= len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
    return MISSING if value is None else value


@dataclass(frozen=True)
class RuleContext:
    """Everything one rule evaluation may read; ``trigger`` is the event kind or ``"sweep"``."""

    customer_id: str
    as_of: datetime
    trigger: str = "sweep"
    attributes: Mapping[str, Any] = field(default_factory=dict)
    report: Mapping[str, Any] = field(default_factory=dict)
    analysis: Mapping[str, Any] | None = None
    event: Mapping[str, Any] | None = None
    history: Sequence[HistoryItem] = ()
    health_history: Sequence[tuple[datetime, float]] = ()

    def __post_init__(self) -> None:
        if self.as_of.tzinfo is None:
            object.__setattr__(self, "as_of", self.as_of.replace(tzinfo=UTC))

    # -- derived values -------------------------------------------------------------------------
    @property
    def customer_messages(self) -> list[HistoryItem]:
        """Customer-authored messages up to ``as_of``, oldest first."""
        return [h for h in self.history if h.is_customer_message and h.timestamp <= self.as_of]

    @property
    def last_contact(self) -> HistoryItem | None:
        messages = self.customer_messages
        return messages[-1] if messages else None

    @property
    def current_category(self) -> Any:
        """The issue category of the triggering message, else of the last customer message."""
        if self.event is not None and self.event.get("category"):
            return self.event["category"]
        if self.trigger == "message" and self.event is not None:
            for item in reversed(self.history):
                if item.event_id == self.event.get("event_id"):
                    return item.data.get("category", MISSING)
        last = self.last_contact
        return last.data.get("category", MISSING) if last is not None else MISSING

    def _derived(self, name: str) -> Any:
        attrs = self.attributes
        today = self.as_of.astimezone(UTC).date()
        if name == "customer_id":
            return self.customer_id
        if name == "trigger":
            return self.trigger
        if name == "tenure_days":
            signup = as_date(attrs.get("signup_date"))
            return MISSING if signup is None else (today - signup).days
        if name in ("days_to_renewal", "renewal_within_days"):
            renewal = as_date(attrs.get("renewal_date"))
            return MISSING if renewal is None else (renewal - today).days
        if name == "account_value":
            try:
                return float(attrs["account_value"])
            except (KeyError, TypeError, ValueError):
                return MISSING
        if name == "health":
            return _walk(self.report, ["health"])
        if name == "band":
            return _walk(self.report, ["band"])
        if name == "flags":
            flags = self.report.get("flags")
            return list(flags) if isinstance(flags, Sequence) and not isinstance(flags, str) else []
        if name == "category":
            return self.current_category
        if name == "days_since_contact":
            last = self.last_contact
            return MISSING if last is None else (self.as_of - last.timestamp).total_seconds() / 86400.0
        raise KeyError(name)  # pragma: no cover - guarded by the parser

    def _analysis_value(self, parts: Sequence[str]) -> Any:
        if self.analysis is None:
            return MISSING
        head = parts[0] if parts else ""
        if head == "urgency" and len(parts) == 1:
            return _walk(self.analysis, ["urgency", "level"])
        if head == "urgency_score":
            return _walk(self.analysis, ["urgency", "score"])
        if head == "cues" and len(parts) == 1:
            cues = self.analysis.get("cues") or []
            return [c.get("kind") for c in cues if isinstance(c, Mapping)]
        return _walk(self.analysis, parts)

    def resolve(self, path: Sequence[str]) -> Any:
        """Value at a field path, or :data:`MISSING`."""
        if not path:
            return MISSING
        head, rest = path[0], list(path[1:])
        if not rest:
            if head in ATTRIBUTE_SHORTCUTS:
                return _walk(self.attributes, [head])
            if head in DERIVED_FIELDS:
                return self._derived(head)
        if head == "attributes":
            return _walk(self.attributes, rest)
        if head == "analysis":
            return self._analysis_value(rest)
        if head == "trend":
            return _walk(self.report, ["trend", *rest])
        if head == "signals":
            return _walk(self.report, ["signals", *rest])
        if head == "report":
            return _walk(self.report, rest)
        if head == "factors":
            return self._factor(rest)
        if head == "event":
            return MISSING if self.event is None else _walk(self.event, rest)
        if head == "last_contact":
            last = self.last_contact
            return MISSING if last is None else _walk({"kind": last.kind, **last.data}, rest)
        return MISSING

    def _factor(self, rest: Sequence[str]) -> Any:
        """``factors.<name>`` is that factor's points; ``factors.<name>.reason`` its reason."""
        factors = self.report.get("factors") or []
        if not rest:
            return [f.get("name") for f in factors if isinstance(f, Mapping)]
        for factor in factors:
            if isinstance(factor, Mapping) and factor.get("name") == rest[0]:
                return _walk(factor, rest[1:] or ["points"])
        return MISSING
