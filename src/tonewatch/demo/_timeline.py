"""One customer's history: tickets and conversations, surveys, weekly usage and the outcome.

The archetype drives the shape (a slow slide in mood, a burst of repeat contacts, a channel
escalation within a week, weeks of formal follow-ups, silence with falling usage); the
customer's own random generator fills in the rest. Events are returned unsorted with a
per-customer sequence number; the generator merges all customers by time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any

from ._company import AGENTS, Agent
from ._plan import Profile, Window
from ._writer import (
    AgentMove,
    Context,
    Sentiment,
    Stage,
    Style,
    Topic,
    Voice,
    agent_message,
    customer_message,
    make_topic,
    survey_comment,
    ticket_subject,
)

__all__ = ["TimedEvent", "customer_timeline"]

# (timestamp, per-customer sequence, event without event_id/timestamp)
TimedEvent = tuple[datetime, int, dict[str, Any]]

_CATEGORIES: dict[str, tuple[tuple[str, float], ...]] = {
    "positive": (("how-to", 0.35), ("feature request", 0.35), ("billing", 0.15), ("delivery", 0.15)),
    "neutral": (
        ("how-to", 0.3),
        ("billing", 0.2),
        ("login/access", 0.15),
        ("feature request", 0.15),
        ("delivery", 0.1),
        ("bug", 0.1),
    ),
    "negative": (
        ("bug", 0.25),
        ("performance", 0.2),
        ("delivery", 0.15),
        ("billing", 0.15),
        ("login/access", 0.15),
        ("refund", 0.1),
    ),
}
_CHANNELS: dict[str, tuple[tuple[str, float], ...]] = {
    "new": (("email", 0.35), ("chat", 0.4), ("in_app", 0.15), ("phone", 0.03), ("social", 0.07)),
    "smb": (("email", 0.45), ("chat", 0.3), ("in_app", 0.12), ("phone", 0.07), ("social", 0.06)),
    "enterprise": (("email", 0.6), ("chat", 0.15), ("in_app", 0.05), ("phone", 0.18), ("social", 0.02)),
}
_SARCASTIC_CHANNELS = (("social", 0.3), ("email", 0.35), ("chat", 0.25), ("in_app", 0.1))


def _weighted(rng: Random, options: tuple[tuple[str, float], ...]) -> str:
    x = rng.random() * sum(w for _, w in options)
    for name, w in options:
        x -= w
        if x < 0:
            return name
    return options[-1][0]


def _add_business_days(d: date, n: int) -> date:
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _business_days_between(a: date, b: date) -> int:
    n, d = 0, a
    while d < b:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n += 1
    return n


@dataclass(slots=True)
class _Ticket:
    number: int
    opened: datetime
    resolved: datetime | None


class _Timeline:
    """Builds the events of one customer; methods add events, ``run`` drives the archetype."""

    def __init__(self, profile: Profile, window: Window, n_customers: int) -> None:
        self.p = profile
        self.window = window
        self.n_customers = n_customers
        self.rng = Random(profile.events_seed)
        name = profile.spec.name
        style: Style = "formal" if name == "polite_escalation" else "sarcastic" if name == "sarcastic" else "plain"
        self.voice = Voice(profile.person, profile.language, profile.code_switching, style, profile.seats)
        self.events: list[TimedEvent] = []
        self.seq = 0
        self.tickets = 0
        joined = time(0) if profile.signup < window.start else time(8, self.rng.randrange(60))
        self.active_from = datetime.combine(max(window.start, profile.signup), joined, UTC)
        end = profile.outcome_date if profile.churns and profile.outcome_date else window.end
        self.active_to = datetime.combine(end, time(0), UTC) + timedelta(hours=6)
        self.hard_end = datetime.combine(window.end, time(0), UTC)
        self.agent_pref = AGENTS[self.rng.randrange(len(AGENTS))]

    def add(self, at: datetime, event: dict[str, Any]) -> None:
        """Record an event; nothing happens before the customer exists."""
        self.seq += 1
        if self.seq > 1 and at <= self.active_from:
            at = self.active_from + timedelta(minutes=5 + self.seq)
        self.events.append((at.replace(microsecond=0), self.seq, event))

    def phase(self, at: datetime) -> float:
        span = (self.active_to - self.active_from).total_seconds()
        return min(1.0, max(0.0, (at - self.active_from).total_seconds() / span)) if span > 0 else 0.0

    def mood(self, at: datetime) -> float:
        spec = self.p.spec
        return spec.mood_start + (spec.mood_end - spec.mood_start) * self.phase(at)

    def sentiment(self, mood: float) -> Sentiment:
        x = mood + self.rng.gauss(0.0, 0.3)
        if x > 0.3:
            return "positive"
        if x > -0.15:
            return "neutral"
        return "mild" if x > -0.6 else "strong"

    def agent(self) -> Agent:
        if self.p.segment == "enterprise" and self.rng.random() < 0.6:
            return self.agent_pref
        return AGENTS[self.rng.randrange(len(AGENTS))]

    def customer_time(self, day: date, *, urgent: bool = False) -> datetime:
        """Customers mostly write on weekdays in office hours; in a crisis, any day."""
        if not urgent and day.weekday() >= 5 and self.rng.random() < 0.7:
            day += timedelta(days=7 - day.weekday())
        hour = min(22, max(6, int(self.rng.gauss(13, 3.2))))
        return datetime.combine(day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), UTC)

    def business(self, at: datetime) -> datetime:
        """Agents answer emails in business hours (08-18 UTC, Monday to Friday)."""
        if at.hour >= 18:
            at = datetime.combine(at.date() + timedelta(days=1), time(8, self.rng.randrange(50)), UTC)
        elif at.hour < 8:
            at = datetime.combine(at.date(), time(8, self.rng.randrange(50)), UTC)
        while at.weekday() >= 5:
            at = datetime.combine(at.date() + timedelta(days=1), time(8, self.rng.randrange(50)), UTC)
        return at

    def agent_delay(self, at: datetime, channel: str) -> datetime:
        if channel == "chat":
            return at + timedelta(seconds=self.rng.randint(40, 420))
        if channel == "phone":
            return at + timedelta(seconds=self.rng.randint(200, 1200))
        if channel == "social":
            return at + timedelta(minutes=self.rng.randint(20, 300))
        hours = self.rng.choice((1, 2, 3, 5, 8, 20, 26))
        return self.business(at + timedelta(hours=hours, minutes=self.rng.randrange(60)))

    def customer_delay(self, at: datetime, channel: str) -> datetime:
        if channel == "chat":
            return at + timedelta(seconds=self.rng.randint(30, 300))
        later = self.customer_time((at + timedelta(hours=self.rng.randint(3, 50))).date())
        return later if later > at else at + timedelta(hours=self.rng.randint(1, 4))

    def topic(self, category: str) -> Topic:
        return make_topic(self.rng, category, self.p.account_value)

    def context(self, at: datetime, number: int, **kw: Any) -> Context:
        return Context(now=at, ticket=str(number), renewal=self.p.renewal, **kw)

    # events --------------------------------------------------------------------------------

    def message(
        self,
        at: datetime,
        channel: str,
        number: int,
        topic: Topic,
        *,
        sentiment: Sentiment = "neutral",
        stage: Stage = "open",
        agent: Agent | None = None,
        move: AgentMove = "ack",
        ctx: Context | None = None,
        unhappy: bool = False,
    ) -> None:
        ctx = ctx or self.context(at, number)
        ctx.now = at
        ev: dict[str, Any] = {"kind": "message", "customer_id": self.p.customer_id, "channel": channel}
        if agent is None:
            ev["author"] = "customer"
            text = customer_message(self.rng, self.voice, topic, ctx, channel=channel, sentiment=sentiment, stage=stage)
        else:
            ev["author"] = "agent"
            ev["agent_id"] = agent.agent_id
            text = agent_message(self.rng, agent, self.voice, topic, ctx, channel=channel, move=move, unhappy=unhappy)
        ev["ticket_id"] = f"T-{number}"
        ev["text"] = text
        self.add(at, ev)

    def status(self, at: datetime, number: int, status: str, topic: Topic, subject: str | None = None) -> None:
        ev: dict[str, Any] = {
            "kind": "ticket",
            "customer_id": self.p.customer_id,
            "ticket_id": f"T-{number}",
            "status": status,
        }
        if subject is not None:
            ev["subject"] = subject
        ev["category"] = topic.category
        self.add(at, ev)

    def survey(self, at: datetime, kind: str, score: int, topic: Topic, number: int | None = None) -> None:
        ev: dict[str, Any] = {"kind": "survey", "customer_id": self.p.customer_id, "survey": kind, "score": score}
        if kind == "csat":
            ev["scale"] = 5
        if number is not None:
            ev["ticket_id"] = f"T-{number}"
        if self.rng.random() < 0.6:
            ctx = self.context(at, number or 0)
            ev["comment"] = survey_comment(self.rng, self.voice, topic, ctx, survey=kind, score=score)
        self.add(at, ev)

    def new_ticket_number(self) -> int:
        # Interleaved across customers, so numbers grow over the population like a real helpdesk's.
        self.tickets += 1
        return 20_000 + self.tickets * self.n_customers + self.p.index

    # conversations -------------------------------------------------------------------------

    def ticket(
        self,
        at: datetime,
        topic: Topic,
        channel: str,
        sentiment: Sentiment,
        *,
        stage: Stage = "open",
        count: int = 1,
        prev: _Ticket | None = None,
        reopen_p: float | None = None,
        survey_p: float = 0.3,
    ) -> _Ticket:
        """A whole ticket: opening message, replies, follow-ups, resolution, maybe a reopen and a CSAT."""
        rng = self.rng
        number = self.new_ticket_number()
        ctx = self.context(
            at,
            number,
            count=count,
            prev_ticket=str(prev.number) if prev else None,
            prev_date=prev.opened.date() if prev else None,
        )
        self.status(at, number, "opened", topic, subject=ticket_subject(rng, self.voice, topic, ctx))
        t = at + timedelta(seconds=rng.randint(2, 40))
        self.message(t, channel, number, topic, sentiment=sentiment, stage=stage, ctx=ctx)
        agent = self.agent()
        negative = sentiment in ("mild", "strong") or stage in ("repeat", "switch", "reopen")
        follow_ups = 0 if channel == "phone" else rng.choice((0, 0, 1, 1, 2) if negative else (0, 0, 0, 1))
        t = self.agent_delay(t, channel)
        if not negative and follow_ups == 0 and channel != "chat" and rng.random() < 0.7:
            # A question answered in one reply: the ticket is resolved with it.
            self.message(t, channel, number, topic, agent=agent, move="answer", ctx=ctx)
            resolved = t + timedelta(seconds=rng.randint(10, 600))
            self.status(resolved, number, "resolved", topic)
            if rng.random() < survey_p:
                self.survey(resolved + timedelta(hours=rng.randint(2, 30)), "csat", self.csat(sentiment), topic, number)
            return _Ticket(number, at, resolved)
        self.message(t, channel, number, topic, agent=agent, move="ack", ctx=ctx, unhappy=negative)
        for _ in range(follow_ups):
            if rng.random() < 0.35:
                self.status(t + timedelta(seconds=5), number, "pending", topic)
            t = self.customer_delay(t, channel)
            fs: Sentiment = sentiment if negative and rng.random() < 0.65 else "neutral"
            self.message(t, channel, number, topic, sentiment=fs, stage="followup", ctx=ctx)
            t = self.agent_delay(t, channel)
            self.message(t, channel, number, topic, agent=agent, move=rng.choice(("action", "info", "action")), ctx=ctx)
        t = self.agent_delay(t, channel)
        self.message(t, channel, number, topic, agent=agent, move="resolve", ctx=ctx)
        resolved = t + timedelta(seconds=rng.randint(10, 600))
        self.status(resolved, number, "resolved", topic)
        last = resolved
        if not negative and channel != "phone" and rng.random() < 0.3:
            last = self.customer_delay(resolved, channel)
            self.message(last, channel, number, topic, sentiment="positive", stage="thanks", ctx=ctx)
        if reopen_p is None:
            reopen_p = 0.15 if negative else 0.04
        if rng.random() < reopen_p:
            t2 = self.customer_time((resolved + timedelta(days=rng.randint(1, 6))).date())
            self.status(t2, number, "reopened", topic)
            worse: Sentiment = "strong" if sentiment == "strong" or rng.random() < 0.3 else "mild"
            self.message(t2 + timedelta(seconds=20), "email", number, topic, sentiment=worse, stage="reopen", ctx=ctx)
            t2 = self.agent_delay(t2, "email")
            self.message(t2, "email", number, topic, agent=agent, move="action", ctx=ctx)
            t2 = self.business(t2 + timedelta(days=rng.randint(1, 3)))
            self.message(t2, "email", number, topic, agent=agent, move="resolve", ctx=ctx)
            resolved = t2 + timedelta(minutes=2)
            self.status(resolved, number, "resolved", topic)
            last = resolved
        if rng.random() < survey_p:
            self.survey(last + timedelta(hours=rng.randint(2, 30)), "csat", self.csat(sentiment), topic, number)
        if rng.random() < 0.15:
            self.status(resolved + timedelta(days=7), number, "closed", topic)
        return _Ticket(number, at, resolved)

    def csat(self, sentiment: Sentiment) -> int:
        base = {"positive": 4.6, "neutral": 4.0, "mild": 2.8, "strong": 1.7}[sentiment]
        return min(5, max(1, round(base + self.rng.gauss(0, 0.7))))

    def contact(self, at: datetime, *, mood: float | None = None) -> None:
        """An ordinary contact: category, channel and tone follow the customer's current mood."""
        sentiment = self.sentiment(self.mood(at) if mood is None else mood)
        if self.p.spec.name == "silent_churner" and sentiment in ("mild", "strong"):
            sentiment = "neutral"  # the silent churner never complains
        polarity = "negative" if sentiment in ("mild", "strong") else sentiment
        category = _weighted(self.rng, _CATEGORIES[polarity])
        if self.p.spec.name == "sarcastic":
            channel = _weighted(self.rng, _SARCASTIC_CHANNELS)
        else:
            channel = _weighted(self.rng, _CHANNELS[self.p.segment])
        self.ticket(at, self.topic(category), channel, sentiment)

    def contacts(self, start: datetime, end: datetime, per_month: float) -> None:
        """A Poisson stream of ordinary contacts between two times."""
        if per_month <= 0:
            return
        t = start
        while True:
            t += timedelta(days=self.rng.expovariate(per_month / 30.0))
            if t >= end:
                return
            self.contact(self.customer_time(t.date()))

    # archetype scenarios -------------------------------------------------------------------

    def repeat_burst(self, at: datetime) -> None:
        """Three or four contacts about the same issue within ten days."""
        rng = self.rng
        topic = self.topic(_weighted(rng, (("billing", 0.4), ("login/access", 0.2), ("delivery", 0.2), ("bug", 0.2))))
        channel = rng.choice(("email", "chat", "email"))
        days = [0, rng.randint(2, 4), rng.randint(5, 8)]
        if rng.random() < 0.5:
            days.append(rng.randint(9, 10))
        prev: _Ticket | None = None
        for i, d in enumerate(days):
            when = self.customer_time((at + timedelta(days=d)).date(), urgent=True)
            sentiment: Sentiment = "mild" if i < 2 else "strong"
            prev = self.ticket(
                when,
                topic,
                channel if rng.random() < 0.8 else "email",
                sentiment,
                stage="open" if i == 0 else "repeat",
                count=i + 1,
                prev=prev,
                reopen_p=0.0,
                survey_p=0.15,
            )

    def channel_switch(self, at: datetime) -> None:
        """The same issue through chat, then email, then phone within a week."""
        rng = self.rng
        topic = self.topic(_weighted(rng, (("bug", 0.3), ("delivery", 0.25), ("login/access", 0.25), ("billing", 0.2))))
        day = at.date()
        first = self.ticket(self.customer_time(day, urgent=True), topic, "chat", "mild", reopen_p=0.0, survey_p=0.0)
        second_day = day + timedelta(days=rng.randint(1, 3))
        second = self.ticket(
            self.customer_time(second_day, urgent=True),
            topic,
            "email",
            "mild",
            stage="switch",
            count=2,
            prev=first,
            reopen_p=0.0,
        )
        third_day = second_day + timedelta(days=rng.randint(1, 3))
        self.ticket(
            self.customer_time(third_day, urgent=True),
            topic,
            "phone",
            "strong",
            stage="switch",
            count=3,
            prev=second,
            reopen_p=0.0,
        )

    def escalation(self, at: datetime) -> None:
        """A ticket outstanding for weeks, chased with formal follow-ups by business-day count."""
        rng = self.rng
        topic = self.topic(_weighted(rng, (("delivery", 0.35), ("bug", 0.3), ("performance", 0.2), ("billing", 0.15))))
        number = self.new_ticket_number()
        start = self.customer_time(at.date())
        ctx = self.context(start, number)
        self.status(start, number, "opened", topic, subject=ticket_subject(rng, self.voice, topic, ctx))
        self.message(start + timedelta(seconds=20), "email", number, topic, sentiment="neutral", ctx=ctx)
        agent = self.agent_pref
        t = self.agent_delay(start, "email")
        self.message(t, "email", number, topic, agent=agent, move="ack", ctx=ctx)
        self.status(t + timedelta(seconds=5), number, "pending", topic)
        follow_days = [5, 9, 14] + ([rng.randint(18, 20)] if rng.random() < 0.6 else [])
        prev_day = start.date()
        for k in follow_days:
            day = _add_business_days(start.date(), k)
            when = self.customer_time(day)
            ctx.bdays = _business_days_between(start.date(), day)
            ctx.prev_date = prev_day
            self.message(when, "email", number, topic, sentiment="mild", stage="escalate", ctx=ctx)
            reply = self.agent_delay(when, "email")
            self.message(reply, "email", number, topic, agent=agent, move="stall", ctx=ctx)
            prev_day = day
        if rng.random() < 0.45:
            done = self.business(datetime.combine(_add_business_days(start.date(), rng.randint(21, 26)), time(10), UTC))
            self.message(done, "email", number, topic, agent=agent, move="resolve", ctx=ctx)
            self.status(done + timedelta(minutes=3), number, "resolved", topic)

    def cancellation(self, at: datetime) -> None:
        topic = self.topic("cancellation")
        sentiment: Sentiment = "mild" if self.rng.random() < 0.6 else "neutral"
        number = self.new_ticket_number()
        ctx = self.context(at, number)
        self.status(at, number, "opened", topic, subject=ticket_subject(self.rng, self.voice, topic, ctx))
        self.message(at + timedelta(seconds=15), "email", number, topic, sentiment=sentiment, stage="cancel", ctx=ctx)
        t = self.agent_delay(at, "email")
        self.message(t, "email", number, topic, agent=self.agent(), move="cancel", ctx=ctx)
        self.status(t + timedelta(minutes=1), number, "resolved", topic)

    # usage, surveys, outcome ----------------------------------------------------------------

    def usage_factor(self, at: datetime) -> float:
        spec = self.p.spec
        p = self.phase(at)
        if spec.name == "silent_churner":
            onset = 0.3
            decline = 0.0 if p < onset else (p - onset) / (1 - onset)
            return 1.0 - (1.0 - spec.usage_end) * decline
        factor = 1.0 + (spec.usage_end - 1.0) * p
        weeks_in = (at - datetime.combine(self.p.signup, time(0), UTC)).days / 7
        if weeks_in < 5:
            factor *= 0.3 + 0.14 * max(0.0, weeks_in)
        return factor

    def usage(self) -> None:
        rng = self.rng
        active_users = self.p.seats * rng.uniform(0.55, 0.9)
        logins_per_user = rng.uniform(3.0, 6.0)
        projects_rate = rng.uniform(0.05, 0.25)
        if self.p.spec.name == "chronic_complainer":
            logins_per_user *= 1.2
        offset = timedelta(hours=2, minutes=rng.randrange(120), seconds=rng.randrange(60))
        day = self.window.start + timedelta(days=(7 - self.window.start.weekday()) % 7)
        while True:
            at = datetime.combine(day, time(0), UTC) + offset
            if at >= self.active_to or at >= self.hard_end:
                return
            if at >= self.active_from:
                f = max(0.02, self.usage_factor(at) * rng.gauss(1.0, 0.08))
                users = max(1, round(active_users * f))
                for metric, value in (
                    ("logins", round(users * logins_per_user * rng.gauss(1.0, 0.1))),
                    ("active_users", users),
                    ("projects_created", round(users * projects_rate * rng.gauss(1.0, 0.35))),
                ):
                    if value <= 0 and metric == "projects_created":
                        continue  # the export lists only weeks with activity
                    self.add(
                        at,
                        {
                            "kind": "usage",
                            "customer_id": self.p.customer_id,
                            "metric": metric,
                            "value": max(0, value),
                        },
                    )
            day += timedelta(days=7)

    def nps(self, waves: list[datetime], last_contact: datetime | None) -> None:
        rng = self.rng
        respond = {"chronic_complainer": 0.6, "silent_churner": 0.35, "happy_stable": 0.5}.get(self.p.spec.name, 0.45)
        for wave in waves:
            at = self.customer_time((wave + timedelta(days=rng.randint(0, 6))).date())
            if at < self.active_from or at >= self.active_to:
                continue
            if last_contact is not None and at > last_contact:
                continue
            if rng.random() < respond:
                score = min(10, max(0, round(5.5 + 4.5 * self.mood(at) + rng.gauss(0, 1.4))))
                self.survey(at, "nps", score, self.topic("how-to"))
                if score <= 8 and rng.random() < 0.35:
                    self.survey_follow_up(at + timedelta(hours=rng.randint(1, 30)), score)

    def survey_follow_up(self, at: datetime, score: int) -> None:
        """The answer to the survey's "what could we do better?" question, a message on the survey channel."""
        sentiment: Sentiment = "neutral" if score >= 7 else "strong" if score <= 3 else "mild"
        polarity = "neutral" if sentiment == "neutral" else "negative"
        topic = self.topic(_weighted(self.rng, _CATEGORIES[polarity]))
        ctx = self.context(at, 0)
        text = customer_message(self.rng, self.voice, topic, ctx, channel="survey", sentiment=sentiment, stage="open")
        self.add(
            at,
            {
                "kind": "message",
                "customer_id": self.p.customer_id,
                "channel": "survey",
                "author": "customer",
                "text": text,
            },
        )

    def customer_event(self, at: datetime, attributes: dict[str, Any]) -> None:
        self.add(at, {"kind": "customer", "customer_id": self.p.customer_id, "attributes": attributes})

    def outcome(self) -> None:
        p = self.p
        if p.outcome is None or p.outcome_date is None:
            return
        at = datetime.combine(p.outcome_date, time(5, self.rng.randrange(60)), UTC)
        self.add(at, {"kind": "outcome", "customer_id": p.customer_id, "outcome": p.outcome})
        if p.outcome == "churned":
            return
        changes: dict[str, Any] = {"renewal_date": (p.renewal + timedelta(days=365)).isoformat()}
        if p.outcome == "expanded":
            changes["account_value"] = round(p.account_value * self.rng.uniform(1.2, 1.6), -1)
            changes["seats"] = round(p.seats * self.rng.uniform(1.2, 1.5))
        elif p.outcome == "downgraded":
            changes["account_value"] = round(p.account_value * self.rng.uniform(0.5, 0.8), -1)
            changes["seats"] = max(1, round(p.seats * self.rng.uniform(0.5, 0.8)))
        self.customer_event(at + timedelta(minutes=1), changes)

    # driver ----------------------------------------------------------------------------------

    def run(self) -> list[TimedEvent]:
        p, rng, spec = self.p, self.rng, self.p.spec
        self.customer_event(
            self.active_from,
            {
                "name": p.person.organisation,
                "plan": p.plan,
                "segment": p.segment,
                "signup_date": p.signup.isoformat(),
                "renewal_date": p.renewal.isoformat(),
                "account_value": p.account_value,
                "seats": p.seats,
                "language": p.language,
                "country": p.country,
            },
        )
        span = self.active_to - self.active_from
        start, end = self.active_from, self.active_to
        if p.segment == "new" and rng.random() < 0.7:
            self.contact(self.customer_time((start + timedelta(days=rng.randint(1, 12))).date()), mood=0.4)
        last_contact: datetime | None = None
        name = spec.name
        if name == "silent_churner":
            silence = end - timedelta(days=rng.randint(50, 80))
            last_contact = max(start + span * 0.2, min(silence, start + span * 0.45))
            self.contacts(start, last_contact, spec.contacts_per_month)
        elif name == "polite_escalation":
            if p.outcome_date is not None:
                escalate = datetime.combine(p.outcome_date, time(0), UTC) - timedelta(days=rng.randint(35, 60))
            else:
                escalate = start + span * rng.uniform(0.35, 0.6)
            escalate = max(escalate, start + timedelta(days=7))
            self.contacts(start, escalate, spec.contacts_per_month)
            self.escalation(escalate)
            self.contacts(escalate + timedelta(days=40), end, spec.contacts_per_month / 2)
        elif name in ("repeat_contact", "channel_switcher"):
            burst = start + span * rng.uniform(0.3, 0.8)
            self.contacts(start, burst - timedelta(days=3), spec.contacts_per_month)
            (self.repeat_burst if name == "repeat_contact" else self.channel_switch)(burst)
            self.contacts(burst + timedelta(days=12), end, spec.contacts_per_month)
        elif name == "slowly_declining":
            # Contacts thin out early and pick up as things go wrong.
            mid = start + span * 0.5
            self.contacts(start, mid, spec.contacts_per_month * 0.7)
            self.contacts(mid, end, spec.contacts_per_month * 1.3)
        else:
            self.contacts(start, end, spec.contacts_per_month)
        if p.churns and name != "silent_churner" and p.outcome_date and (p.early_cancel or rng.random() < 0.5):
            self.cancellation(self.customer_time(p.outcome_date - timedelta(days=rng.randint(5, 25))))
        waves = [datetime.combine(self.window.at(f), time(9), UTC) for f in (0.2, 0.7)]
        self.nps(waves, last_contact)
        self.usage()
        self.outcome()
        limit = min(self.active_to, self.hard_end)
        return [e for e in self.events if e[0] < limit or (e[2]["kind"] == "outcome" and e[0] < self.hard_end)]


def customer_timeline(profile: Profile, window: Window, n_customers: int) -> list[TimedEvent]:
    """Every event of one customer, unsorted."""
    return _Timeline(profile, window, n_customers).run()
