"""Who the customers are: archetype, segment, plan, language, dates and fate, before any text.

Planning is separate from writing the timeline so the ground truth can be computed cheaply
without rendering a single message. Archetypes and languages are allotted by share (largest
remainder, every archetype present once the population allows), then shuffled with the seed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

from ._archetypes import ARCHETYPES, ArchetypeSpec
from ._company import PLANS
from ._people import Person, make_person
from ._truth import CustomerTruth

__all__ = ["Profile", "Window", "add_months", "plan_customers"]

_PLANS_BY_SEGMENT: dict[str, tuple[tuple[str, float], ...]] = {
    "new": (("starter", 0.6), ("team", 0.4)),
    "smb": (("starter", 0.3), ("team", 0.5), ("business", 0.2)),
    "enterprise": (("business", 0.35), ("enterprise", 0.65)),
}
_COUNTRY = {
    "en": ("US", "US", "US", "GB", "CA", "AU", "IE"),
    "es": ("ES", "MX", "US"),
    "fr": ("FR", "BE"),
    "de": ("DE", "AT", "CH"),
}
_EARLY_CANCEL = {"slowly_declining", "sarcastic", "repeat_contact", "channel_switcher"}


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's length."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Window:
    """The generated period, ``[start, end)``."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def at(self, fraction: float) -> date:
        return self.start + timedelta(days=int(self.days * fraction))


@dataclass(frozen=True, slots=True)
class Profile:
    """One planned customer; ``outcome_date`` is in the window when ``outcome`` is set."""

    index: int
    customer_id: str
    spec: ArchetypeSpec
    segment: str
    plan: str
    seats: int
    account_value: float
    language: str
    code_switching: bool
    country: str
    person: Person
    signup: date
    renewal: date
    outcome: str | None
    outcome_date: date | None
    early_cancel: bool
    events_seed: str

    @property
    def churns(self) -> bool:
        return self.outcome == "churned"

    def truth(self) -> CustomerTruth:
        return CustomerTruth(
            customer_id=self.customer_id,
            name=self.person.organisation,
            segment=self.segment,
            plan=self.plan,
            archetype=self.spec.name,
            language=self.language,
            code_switching=self.code_switching,
            at_risk=self.spec.at_risk,
            renewal_date=self.renewal,
            outcome=self.outcome,
            outcome_date=self.outcome_date,
        )


def _weighted(rng: Random, options: tuple[tuple[str, float], ...] | dict[str, float]) -> str:
    items = list(options.items()) if isinstance(options, dict) else list(options)
    total = sum(w for _, w in items)
    x = rng.random() * total
    for name, w in items:
        x -= w
        if x < 0:
            return name
    return items[-1][0]


def _allocate(n: int, shares: dict[str, float], minimum: int) -> list[str]:
    """Largest-remainder allocation, with every key present once ``n`` allows it."""
    raw = {k: n * s for k, s in shares.items()}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[k] += 1
    if n >= minimum * len(shares):
        for k in counts:
            while counts[k] < minimum:
                donor = max(counts, key=lambda d: counts[d])
                counts[donor] -= 1
                counts[k] += 1
    return [k for k, c in counts.items() for _ in range(c)]


def plan_customers(n: int, window: Window, seed: int) -> list[Profile]:
    """Plan ``n`` customers deterministically from ``seed``."""
    rng = Random(f"tonewatch-demo:{seed}:plan")
    archetypes = _allocate(n, {k: v.share for k, v in ARCHETYPES.items()}, minimum=1)
    rng.shuffle(archetypes)
    eligible = [i for i, a in enumerate(archetypes) if ARCHETYPES[a].multilingual]
    languages = _allocate(len(eligible), {"en": 0.86, "es": 0.04, "es+en": 0.03, "fr": 0.035, "de": 0.035}, 1)
    rng.shuffle(languages)
    language_of = dict(zip(eligible, languages, strict=True))
    return [_profile(i, ARCHETYPES[a], language_of.get(i, "en"), window, seed) for i, a in enumerate(archetypes)]


def _profile(index: int, spec: ArchetypeSpec, lang: str, window: Window, seed: int) -> Profile:
    rng = Random(f"tonewatch-demo:{seed}:customer:{index}")
    language, code_switching = ("es", True) if lang == "es+en" else (lang, False)
    segment = _weighted(rng, spec.segments)
    plan = _weighted(rng, _PLANS_BY_SEGMENT[segment])
    spec_plan = PLANS[plan]
    seats = rng.randint(*spec_plan.seats)
    lo, hi = spec_plan.value
    account_value = round(
        lo + (hi - lo) * (seats - spec_plan.seats[0]) / max(1, spec_plan.seats[1] - spec_plan.seats[0])
    )
    account_value = round(account_value * rng.uniform(0.85, 1.15) / 10) * 10
    person = make_person(rng, language)

    if segment == "new":
        signup = window.at(rng.uniform(0.0, 0.55))
        renewal = signup + timedelta(days=365)
    else:
        if spec.at_risk and rng.random() < 0.85:
            lo_f = 0.62 if spec.name == "silent_churner" else 0.5
            renewal = window.at(rng.uniform(lo_f, 0.98))
        else:
            renewal = window.start + timedelta(days=rng.randint(10, 364))
        signup = renewal - timedelta(days=365 * rng.randint(1, 4))
        if signup > window.start - timedelta(days=60):
            signup -= timedelta(days=365)

    drawn = _weighted(rng, spec.outcomes)
    outcome: str | None = None
    outcome_date: date | None = None
    early_cancel = False
    if renewal < window.end:
        outcome, outcome_date = drawn, renewal
    elif drawn == "churned" and spec.name in _EARLY_CANCEL and rng.random() < 0.6:
        earliest = max(window.at(0.55), signup + timedelta(days=45))
        if earliest < window.end - timedelta(days=3):
            span = (window.end - timedelta(days=3) - earliest).days
            outcome, outcome_date, early_cancel = "churned", earliest + timedelta(days=rng.randint(0, span)), True
    return Profile(
        index=index,
        customer_id=f"cus-{index + 1:05d}",
        spec=spec,
        segment=segment,
        plan=plan,
        seats=seats,
        account_value=float(account_value),
        language=language,
        code_switching=code_switching,
        country=rng.choice(_COUNTRY[language]),
        person=person,
        signup=signup,
        renewal=renewal,
        outcome=outcome,
        outcome_date=outcome_date,
        early_cancel=early_cancel,
        events_seed=f"tonewatch-demo:{seed}:events:{index}",
    )
