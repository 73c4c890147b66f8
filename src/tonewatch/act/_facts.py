"""The customer's real history, distilled for a draft: which issues, how often, when.

A good check-in names the pattern ("three contacts about billing since 2 May"), so the facts are
computed from the customer's own events, never invented. Only masked text ever reaches here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from tonewatch.signals._dates import as_date

__all__ = ["DraftFacts", "HistoryLike", "Issue", "SurveyDrop", "UsageDrop", "build_facts"]

_ISSUE_WINDOW = timedelta(days=90)
_USAGE_RECENT = timedelta(days=30)


class HistoryLike(Protocol):
    """Anything with the shape of ``tonewatch.triggers.HistoryItem``."""

    @property
    def kind(self) -> str: ...

    @property
    def timestamp(self) -> datetime: ...

    @property
    def event_id(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Issue:
    """One issue category the customer raised: distinct contacts and the days they came in."""

    category: str
    contacts: int
    dates: tuple[date, ...]

    @property
    def first(self) -> date:
        return self.dates[0]

    @property
    def last(self) -> date:
        return self.dates[-1]


@dataclass(frozen=True, slots=True)
class SurveyDrop:
    survey: str
    before: float
    after: float
    before_date: date
    after_date: date


@dataclass(frozen=True, slots=True)
class UsageDrop:
    metric: str
    before: float
    after: float

    @property
    def percent(self) -> int:
        return round(100 * (1 - self.after / self.before)) if self.before else 0


@dataclass(frozen=True)
class DraftFacts:
    customer_id: str
    as_of: datetime
    first_name: str | None = None
    issues: tuple[Issue, ...] = ()
    primary: Issue | None = None
    survey_drop: SurveyDrop | None = None
    usage_drop: UsageDrop | None = None
    renewal_date: date | None = None
    last_contact: date | None = None
    days_silent: int | None = None
    ticket_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def key_dates(self) -> list[date]:
        """The dates a rewrite must keep: they are the proof the draft is about this customer."""
        out: list[date] = []
        if self.primary is not None:
            out.append(self.primary.first)
        if self.renewal_date is not None:
            out.append(self.renewal_date)
        return out


def _issues(messages: Sequence[HistoryLike]) -> list[Issue]:
    contacts: dict[str, set[str]] = defaultdict(set)
    days: dict[str, set[date]] = defaultdict(set)
    for item in messages:
        category = str(item.data.get("category") or "other")
        key = str(item.data.get("ticket_id") or item.data.get("conversation_id") or item.event_id)
        contacts[category].add(key)
        days[category].add(item.timestamp.astimezone(UTC).date())
    issues = [Issue(c, len(contacts[c]), tuple(sorted(days[c]))) for c in contacts]
    return sorted(issues, key=lambda i: (-i.contacts, -i.last.toordinal(), i.category))


def _survey_drop(history: Sequence[HistoryLike]) -> SurveyDrop | None:
    surveys = [h for h in history if h.kind == "survey" and isinstance(h.data.get("score"), int | float)]
    for survey_kind in ("csat", "nps"):
        same = [h for h in surveys if h.data.get("survey") == survey_kind]
        if len(same) >= 2:
            a, b = same[-2], same[-1]
            if float(b.data["score"]) < float(a.data["score"]):
                return SurveyDrop(
                    survey_kind,
                    float(a.data["score"]),
                    float(b.data["score"]),
                    a.timestamp.astimezone(UTC).date(),
                    b.timestamp.astimezone(UTC).date(),
                )
    return None


def _usage_drop(history: Sequence[HistoryLike], as_of: datetime) -> UsageDrop | None:
    by_metric: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for item in history:
        value = item.data.get("value")
        if item.kind != "usage" or not isinstance(value, int | float) or isinstance(value, bool):
            continue
        is_recent = item.timestamp > as_of - _USAGE_RECENT
        by_metric[str(item.data.get("metric", "usage"))][0 if is_recent else 1].append(float(value))
    worst: UsageDrop | None = None
    for metric, (recent, earlier) in by_metric.items():
        if not recent or not earlier:
            continue
        before, after = sum(earlier) / len(earlier), sum(recent) / len(recent)
        drop = UsageDrop(metric, round(before, 1), round(after, 1))
        if before > 0 and after <= 0.7 * before and (worst is None or drop.percent > worst.percent):
            worst = drop
    return worst


def build_facts(
    customer_id: str,
    as_of: datetime,
    attributes: Mapping[str, Any],
    history: Sequence[HistoryLike],
    *,
    category: str | None = None,
    ticket_id: str | None = None,
) -> DraftFacts:
    """Facts for a draft as of ``as_of``; ``category`` picks the issue the rule fired on."""
    past = [h for h in history if h.timestamp <= as_of]
    messages = [
        h
        for h in past
        if h.kind == "message"
        and h.data.get("author", "customer") == "customer"
        and h.timestamp > as_of - _ISSUE_WINDOW
    ]
    issues = _issues(messages)
    primary = next((i for i in issues if i.category == category), None) if category else None
    if primary is None and issues:
        primary = issues[0]
    all_messages = [h for h in past if h.kind == "message" and h.data.get("author", "customer") == "customer"]
    last = all_messages[-1].timestamp if all_messages else None
    if ticket_id is None and all_messages and all_messages[-1].data.get("ticket_id"):
        ticket_id = str(all_messages[-1].data["ticket_id"])
    name = attributes.get("contact_name") or attributes.get("first_name")
    return DraftFacts(
        customer_id=customer_id,
        as_of=as_of,
        first_name=str(name).split()[0] if isinstance(name, str) and name.strip() else None,
        issues=tuple(issues),
        primary=primary,
        survey_drop=_survey_drop(past),
        usage_drop=_usage_drop(past, as_of),
        renewal_date=as_date(attributes.get("renewal_date")),
        last_contact=None if last is None else last.astimezone(UTC).date(),
        days_silent=None if last is None else int((as_of - last).total_seconds() // 86400),
        ticket_id=ticket_id,
        attributes=dict(attributes),
    )
