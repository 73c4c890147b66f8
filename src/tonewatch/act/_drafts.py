"""Outreach drafts from Jinja2 templates, filled with the customer's real history.

Each check-in does three things a person would: names the specific pattern (the issue, how many
contacts, on which dates, the survey drop, the renewal date), takes ownership, and offers a named
next step with a time. No generic "we value your business"; no discount, ever — only a person can
add one. Templates live in ``act/templates`` and can be edited like the playbook.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from tonewatch.settings import Settings

from ._business_time import next_business_time
from ._facts import DraftFacts

__all__ = [
    "CHECK_IN_TEMPLATES",
    "DEFAULT_RECOMMENDATIONS",
    "GENERIC_PHRASES",
    "Draft",
    "DraftWriter",
    "format_day",
]

CHECK_IN_TEMPLATES: tuple[str, ...] = (
    "repeat_issue",
    "silence",
    "usage_decline",
    "renewal",
    "sentiment_drop",
    "general",
)
# Phrases that tell a customer nobody looked at their case.
GENERIC_PHRASES: tuple[str, ...] = (
    "we value your business",
    "valued customer",
    "sorry for any inconvenience",
    "apologize for any inconvenience",
    "your satisfaction is our",
    "we appreciate your patience",
)
DEFAULT_RECOMMENDATIONS: dict[str, str] = {
    "retention_offer": (
        "Fix or schedule the fix for the open issues first, then decide whether an offer is warranted; "
        "an offer while the problem is still open reads as a substitute for fixing it."
    ),
    "discount": (
        "Decide the size against the account value and the cost of the issues; record the decision and its reason."
    ),
    "executive_escalation": (
        "An executive call within two business days to agree a written remediation plan with dates."
    ),
}
_TITLES = {
    "retention_offer": "Retention decision",
    "discount": "Discount decision",
    "executive_escalation": "Executive escalation",
}
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_ORDINALS = ("zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


@dataclass(frozen=True, slots=True)
class Draft:
    """A rendered draft; ``source`` is ``template`` or ``llm`` (a rewrite)."""

    subject: str | None
    body: str
    template: str
    source: str = "template"

    @property
    def text(self) -> str:
        return (f"Subject: {self.subject}\n\n" if self.subject else "") + self.body


def format_day(value: date | datetime) -> str:
    """``2 May 2026``: unambiguous in every locale a support team writes to."""
    d = value.astimezone(UTC).date() if isinstance(value, datetime) else value
    return f"{d.day} {d:%B %Y}"


def _dates(values: Sequence[date]) -> str:
    parts = [format_day(v) for v in values[-6:]]
    if len(values) > 6:
        parts[0] = "... " + parts[0]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{_number(n)} times")


def _number(n: int) -> str:
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def _ordinal(n: int) -> str:
    return _ORDINALS[n] if 0 <= n < len(_ORDINALS) else f"{n}th"


def _score(value: float) -> str:
    return f"{value:g}"


@functools.lru_cache(maxsize=8)
def _environment(tz: str) -> jinja2.Environment:
    zone = ZoneInfo(tz)

    def when(value: datetime) -> str:
        local = value.astimezone(zone)
        return f"{local:%A} {local.day} {local:%B} at {local:%H:%M} ({tz})"

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tonewatch.act", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text e-mail bodies, never HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        day=format_day, dates=_dates, times=_times, number=_number, ordinal=_ordinal, score=_score, when=when
    )
    return env


def _split(text: str, template: str) -> Draft:
    lines = text.strip().splitlines()
    if lines and lines[0].startswith("Subject:"):
        subject = lines[0].removeprefix("Subject:").strip()
        return Draft(subject, "\n".join(lines[1:]).strip() + "\n", template)
    return Draft(None, text.strip() + "\n", template)


class DraftWriter:
    """Renders drafts in the team's time zone with next steps inside business hours."""

    def __init__(self, settings: Settings | None = None, *, owner: str = "Customer Support") -> None:
        self.settings = settings or Settings()
        self.owner = owner

    def next_step_at(self, as_of: datetime, within: timedelta) -> datetime:
        """A whole hour, inside business hours, no earlier than ``as_of + within``."""
        s = self.settings
        target = as_of.astimezone(UTC) + within
        if target.minute or target.second or target.microsecond:
            target = target.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return next_business_time(target, hours=s.business_hours, days=s.business_days, tz=s.timezone)

    def _render(self, name: str, **values: Any) -> Draft:
        env = _environment(self.settings.timezone)
        return _split(env.get_template(name).render(**values), name.split("/")[-1].removesuffix(".txt.j2"))

    def _base(self, facts: DraftFacts, within: timedelta, owner: str | None) -> dict[str, Any]:
        attributes = facts.attributes
        return {
            "customer_id": facts.customer_id,
            "first_name": facts.first_name,
            "issue": facts.primary,
            "issues": list(facts.issues),
            "survey_drop": facts.survey_drop,
            "usage": facts.usage_drop,
            "usage_drop": facts.usage_drop,
            "renewal_date": facts.renewal_date,
            "last_contact": facts.last_contact,
            "days_silent": facts.days_silent,
            "ticket_id": facts.ticket_id,
            "attributes": attributes,
            "as_of": facts.as_of,
            "next_step_at": self.next_step_at(facts.as_of, within),
            "owner": owner or attributes.get("account_manager") or self.owner,
        }

    @staticmethod
    def usable_template(template: str, facts: DraftFacts) -> str:
        """The requested template, or ``general`` when the facts it needs are missing."""
        needs = {
            "repeat_issue": facts.primary is not None,
            "silence": facts.primary is not None and facts.last_contact is not None and facts.days_silent is not None,
            "usage_decline": facts.usage_drop is not None,
            "renewal": facts.renewal_date is not None,
        }
        return template if needs.get(template, True) else "general"

    def check_in(
        self,
        facts: DraftFacts,
        *,
        template: str = "general",
        next_step: str = "a 20-minute call with the engineer who owns your case",
        within: timedelta = timedelta(days=1),
        owner: str | None = None,
    ) -> Draft:
        if template not in CHECK_IN_TEMPLATES:
            raise ValueError(f"unknown check-in template {template!r}; known: {', '.join(CHECK_IN_TEMPLATES)}")
        name = self.usable_template(template, facts)
        return self._render(f"check_in/{name}.txt.j2", next_step=next_step, **self._base(facts, within, owner))

    def acknowledge(
        self, facts: DraftFacts, *, within: timedelta = timedelta(hours=4), owner: str | None = None
    ) -> Draft:
        return self._render("acknowledge.txt.j2", **self._base(facts, within, owner))

    def account_manager(
        self,
        facts: DraftFacts,
        *,
        rule: str,
        rule_description: str = "",
        report: Mapping[str, Any] | None = None,
        note: str | None = None,
        within: timedelta = timedelta(days=1),
    ) -> Draft:
        report = report or {}
        return self._render(
            "account_manager.txt.j2",
            rule=rule,
            rule_description=rule_description,
            health=report.get("health"),
            band=report.get("band"),
            declining=bool((report.get("trend") or {}).get("declining")),
            flags=list(report.get("flags") or []),
            note=note,
            **self._base(facts, within, None),
        )

    def human_summary(
        self,
        facts: DraftFacts,
        *,
        action: str,
        rule: str,
        rule_description: str = "",
        report: Mapping[str, Any] | None = None,
        recommendation: str | None = None,
    ) -> tuple[str, str]:
        """(summary, recommendation) for a decision a person takes; nothing here is sent."""
        report = report or {}
        summary = self._render(
            "human.txt.j2",
            action_title=_TITLES.get(action, action),
            rule=rule,
            rule_description=rule_description,
            health=report.get("health"),
            band=report.get("band"),
            declining=bool((report.get("trend") or {}).get("declining")),
            flags=list(report.get("flags") or []),
            factors=[f for f in report.get("factors") or [] if isinstance(f, Mapping)],
            **self._base(facts, timedelta(days=1), None),
        ).body
        return summary.strip(), recommendation or DEFAULT_RECOMMENDATIONS.get(action, "Decide and record the decision.")
