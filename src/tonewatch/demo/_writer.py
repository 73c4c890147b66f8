"""Composes customer messages, agent replies, ticket subjects and survey comments.

A message is assembled from parts (greeting, opener, problem, detail, impact, feeling, ask,
closing, signature) whose presence and order depend on the channel (an email has a
signature, a chat line does not, a phone call is a transcript, a social post is short and
public), on the stage of the conversation and on the writer's language and style.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from random import Random
from typing import Literal

from . import _phrases_agent as ag
from . import _phrases_en as en
from ._company import AGENTS, BROWSERS, COMPANY, ERROR_CODES, FEATURES, INTEGRATIONS, PRODUCT, Agent
from ._grammar import SlotValue, render, tidy
from ._people import Person, card_number, iban
from ._phrases_intl import CODE_SWITCH, INTL

__all__ = [
    "AgentMove",
    "Context",
    "Sentiment",
    "Stage",
    "Style",
    "Topic",
    "Voice",
    "agent_message",
    "customer_message",
    "make_topic",
    "survey_comment",
    "ticket_subject",
]

Sentiment = Literal["positive", "neutral", "mild", "strong"]
Stage = Literal["open", "followup", "reopen", "repeat", "switch", "escalate", "thanks", "cancel"]
Style = Literal["plain", "formal", "sarcastic"]
AgentMove = Literal["ack", "answer", "info", "action", "stall", "resolve", "cancel"]
_QUESTIONS = ("how-to", "feature request", "billing")


@dataclass(frozen=True, slots=True)
class Voice:
    """Who writes: the contact person, their language and how they tend to write."""

    person: Person
    language: str
    code_switching: bool
    style: Style
    seats: int


@dataclass(frozen=True, slots=True)
class Topic:
    """What one issue is about; kept across contacts so repeat contacts name the same thing."""

    category: str
    feature: str
    integration: str
    error: str
    amount: str
    invoice: str
    workspace: str
    project: str
    variant: int

    def problem(self, bank: tuple[str, ...]) -> str:
        """The same kind of problem every time this topic comes up (worded afresh each time)."""
        return bank[self.variant % len(bank)]


def make_topic(rng: Random, category: str, account_value: float) -> Topic:
    monthly = max(account_value / 12.0, 45.0)
    amount = rng.choice((monthly, monthly * rng.uniform(0.2, 1.0), account_value, rng.uniform(29, 900)))
    currency = rng.choice(("$", "$", "$", "€", "£"))
    return Topic(
        category=category,
        feature=rng.choice(FEATURES),
        integration=rng.choice(INTEGRATIONS),
        error=rng.choice(ERROR_CODES),
        amount=f"{currency}{amount:,.2f}",
        invoice=f"INV-{rng.randint(2023, 2025)}-{rng.randint(100, 9999):04d}",
        workspace=f"ws-{rng.randrange(16**6):06x}",
        variant=rng.randrange(1 << 16),
        project=rng.choice(
            (
                "Website relaunch",
                "Q3 roadmap",
                "Client onboarding",
                "Warehouse move",
                "Mobile v2",
                "Marketing calendar",
                "Audit 2025",
                "Hiring plan",
                "ERP migration",
                "Product launch",
            )
        ),
    )


_ORDINAL_EN = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh")
_ORDINAL_ES = ("primera", "segunda", "tercera", "cuarta", "quinta", "sexta", "séptima")
_ORDINAL_FR = ("première", "deuxième", "troisième", "quatrième", "cinquième", "sixième", "septième")
_ORDINAL_DE = ("erste", "zweite", "dritte", "vierte", "fünfte", "sechste", "siebte")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TOPIC: dict[str, tuple[str, ...]] = {
    "billing": ("the double charge", "invoice {invoice}", "the billing issue", "our invoice"),
    "refund": ("the refund", "the refund of {amount}", "the missing refund"),
    "login/access": ("the login problem", "SSO", "the access issue", "logging in"),
    "bug": ("{feature}", "the bug in {feature}", "this bug"),
    "performance": ("the slowness", "performance", "{feature} being slow", "the outages"),
    "delivery": ("the {integration} sync", "the export", "the failing exports", "the integration"),
    "cancellation": ("our cancellation", "the cancellation"),
    "how-to": ("{feature}", "setting up {feature}"),
    "feature request": ("{feature}", "the suggestion"),
}
_PROBLEM_SHORT: dict[str, tuple[str, ...]] = {
    "billing": ("we were charged twice", "the invoice is wrong", "the charge is still wrong"),
    "refund": ("the refund still hasn't arrived", "no refund yet"),
    "login/access": ("nobody can log in", "SSO fails with {error}", "we're locked out"),
    "bug": ("{feature} is broken", "{feature} throws {error}", "tasks keep disappearing"),
    "performance": ("{feature} is painfully slow", "everything times out", "the app is down"),
    "delivery": ("the {integration} sync is broken", "the export fails", "reports aren't delivered"),
    "cancellation": ("we still want to cancel",),
    "how-to": ("I still can't figure out {feature}",),
    "feature request": ("we still need this in {feature}",),
}
_QUESTION_STARTS = ("how ", "can ", "is ", "any ", "are ", "what", "does ", "could ", "where ", "do ", "¿", "comment")


def _fmt_date(d: date, rng: Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{_MONTHS_EN[d.month - 1]} {d.day}"
    if style == 1:
        return f"{d.day} {_MONTHS_EN[d.month - 1]}"
    if style == 2:
        return f"{d.month:02d}/{d.day:02d}"
    return d.isoformat()


def _weekday_or_date(d: date, now: datetime, rng: Random) -> str:
    if 0 < (now.date() - d).days < 6:
        return _WEEKDAYS[d.weekday()]
    return _fmt_date(d, rng)


def _ordinal(seq: tuple[str, ...], n: int) -> str:
    return seq[min(max(n, 1), len(seq)) - 1]


@dataclass(slots=True)
class Context:
    """Everything a message may refer to besides the writer and the topic."""

    now: datetime
    ticket: str
    count: int = 1
    prev_ticket: str | None = None
    prev_date: date | None = None
    bdays: int = 0
    renewal: date | None = None
    agent: Agent | None = None


def _slots(rng: Random, voice: Voice, topic: Topic, ctx: Context) -> dict[str, SlotValue]:
    person = voice.person
    now = ctx.now
    past = now.date() - timedelta(days=rng.randint(1, 9))
    agent = ctx.agent or AGENTS[rng.randrange(len(AGENTS))]
    prev = ctx.prev_date or past
    renewal = ctx.renewal or (now.date() + timedelta(days=60))
    feature = topic.feature
    slots: dict[str, SlotValue] = {
        "product": PRODUCT,
        "company": COMPANY,
        "feature": feature,
        "feature_title": feature.removeprefix("the ").capitalize(),
        "feature_bare": feature.removeprefix("the "),
        "integration": topic.integration,
        "error": topic.error,
        "amount": topic.amount,
        "invoice": topic.invoice,
        "workspace": topic.workspace,
        "project": topic.project,
        "seats": str(voice.seats),
        "browser": lambda r: r.choice(BROWSERS),
        "n": lambda r: str(r.randint(2, 40)),
        "secs": lambda r: str(r.randint(10, 90)),
        "article": lambda r: str(r.randint(1000, 9999)),
        "dept": ("finance", "operations", "engineering", "PMO", "marketing", "delivery"),
        "date": _fmt_date(past, rng),
        "date_es": f"el {past.day}/{past.month}",
        "date_fr": f"le {past.day}/{past.month:02d}",
        "date_de": f"{past.day}.{past.month}.",
        "since": (
            "since yesterday",
            "since this morning",
            f"since {_WEEKDAYS[past.weekday()]}",
            "since the last update",
            f"since {_fmt_date(past, rng)}",
            "since last night",
            "since last week",
        ),
        "when": ("yesterday", "this morning", "today", "again today", "all week", "for two days now", "last night"),
        "ticket": f"#{ctx.ticket}",
        "prev_ticket": f"#{ctx.prev_ticket}" if ctx.prev_ticket else "my last ticket",
        "prev_date": _weekday_or_date(prev, now, rng),
        "count": _ordinal(_ORDINAL_EN, ctx.count),
        "count_es": _ordinal(_ORDINAL_ES, ctx.count),
        "count_fr": _ordinal(_ORDINAL_FR, ctx.count),
        "count_de": _ordinal(_ORDINAL_DE, ctx.count),
        "bdays": str(ctx.bdays),
        "renewal": _fmt_date(renewal, rng),
        "first": person.first,
        "last": person.last,
        "title": person.title,
        "organisation": person.organisation,
        "email": person.email,
        "phone": person.phone,
        "billing_email": (f"accounts@{person.domain}", f"finance@{person.domain}", person.email),
        "agent_first": agent.name.split()[0],
        "agent_name": agent.name,
        "cust_first": person.first,
        "cust_last": person.last,
    }
    slots["topic"] = render(rng.choice(_TOPIC[topic.category]), rng, slots).lower()
    slots["problem_short"] = render(rng.choice(_PROBLEM_SHORT[topic.category]), rng, slots).lower()
    return slots


def _sentence(text: str) -> str:
    """Capitalise and end with the punctuation a question or statement needs."""
    text = tidy(text)
    if not text or text[-1] in ".!?":
        return text
    return text + ("?" if text.lower().startswith(_QUESTION_STARTS) else ".")


def _polarity(sentiment: Sentiment) -> str:
    return "negative" if sentiment in ("mild", "strong") else sentiment


def _pii_extra(rng: Random, voice: Voice, topic: Topic, slots: dict[str, SlotValue]) -> str:
    """Now and then people paste a card number, an IBAN or a phone number into the body."""
    roll = rng.random()
    if topic.category in ("billing", "refund") and roll < 0.12:
        if voice.language == "de":
            return f"Unsere IBAN für die Erstattung: {iban(rng)}."
        return render(
            "[The card we used is|It was charged to|Our card number is|The card is] {card}[, exp {exp}|].",
            rng,
            {"card": card_number(rng), "exp": f"{rng.randint(1, 12):02d}/{rng.randint(26, 30)}"},
        )
    if roll < 0.06:
        return render("[You can reach me|Best to reach me|Call me] [at|on] {phone}[ or {email}|].", rng, slots)
    return ""


def _en_body(
    rng: Random,
    voice: Voice,
    topic: Topic,
    sentiment: Sentiment,
    stage: Stage,
    slots: dict[str, SlotValue],
    channel: str,
) -> list[str]:
    pol = _polarity(sentiment)
    parts: list[str] = []
    problem = _sentence(render(topic.problem(en.PROBLEMS[topic.category]), rng, slots))
    if stage == "cancel":
        parts.append(problem)
        parts.append(render(rng.choice(en.CANCEL_REASONS), rng, slots))
    elif stage == "open":
        if rng.random() < 0.5:
            parts.append(render(rng.choice(en.OPENERS[pol]), rng, slots))
        parts.append(problem)
        if pol != "positive" and rng.random() < 0.55:
            parts.append(render(rng.choice(en.DETAILS), rng, slots))
        if pol == "negative" and rng.random() < 0.5:
            parts.append(render(rng.choice(en.IMPACTS), rng, slots))
    elif stage == "followup":
        parts.append(render(rng.choice(en.FOLLOWUPS[pol]), rng, slots))
        if pol == "negative" and rng.random() < 0.4:
            parts.append(render(rng.choice(en.DETAILS), rng, slots))
    elif stage == "reopen":
        parts.append(render(rng.choice(en.REOPEN), rng, slots))
        if rng.random() < 0.5:
            parts.append(render(rng.choice(en.DETAILS), rng, slots))
    elif stage == "repeat":
        parts.append(render(rng.choice(en.REPEAT), rng, slots))
        if rng.random() < 0.6:
            parts.append(problem)
    elif stage == "switch":
        parts.append(render(rng.choice(en.SWITCH.get(channel, en.SWITCH["email"])), rng, slots))
        parts.append(problem)
    elif stage == "thanks":
        parts.append(render(rng.choice(en.THANKS), rng, slots))
    if stage != "thanks":
        if voice.style == "sarcastic" and rng.random() < {"negative": 0.85, "neutral": 0.4}.get(pol, 0.0):
            parts.append(render(rng.choice(en.SARCASM), rng, slots))
        elif rng.random() < (0.85 if pol == "negative" else 0.6):
            key = "positive" if pol == "positive" else sentiment
            parts.append(render(rng.choice(en.FEELINGS[key]), rng, slots))
        if stage in ("open", "repeat", "switch", "reopen") and rng.random() < 0.7:
            parts.append(render(rng.choice(en.ASKS[pol]), rng, slots))
    extra = _pii_extra(rng, voice, topic, slots)
    if extra:
        parts.append(extra)
    return [p for p in parts if p]


def _formal_escalation(rng: Random, slots: dict[str, SlotValue]) -> str:
    fe = en.FORMAL_ESCALATION
    status = fe["status"][0] if rng.random() < 0.6 else rng.choice(fe["status"])
    body = [render(status, rng, slots)]
    body += [render(t, rng, slots) for t in rng.sample(fe["body"], k=rng.randint(2, 3))]
    return "\n\n".join(
        (
            render(rng.choice(fe["greeting"]), rng, slots),
            " ".join(body),
            render(rng.choice(fe["closing"]), rng, slots) + "\n" + render(rng.choice(fe["signature"]), rng, slots),
        )
    )


def _intl_body(
    rng: Random, voice: Voice, topic: Topic, sentiment: Sentiment, stage: Stage, slots: dict[str, SlotValue]
) -> list[str]:
    bank = INTL[voice.language]
    pol = _polarity(sentiment)
    parts: list[str] = []
    problem = _sentence(render(topic.problem(bank["problem"][topic.category]), rng, slots))
    if stage == "followup":
        parts.append(render(rng.choice(bank["followup"][pol]), rng, slots))
    elif stage == "thanks":
        parts.append(render(rng.choice(bank["followup"]["positive"]), rng, slots))
    elif stage in ("repeat", "reopen", "switch"):
        parts.append(render(rng.choice(bank["repeat"]["any"]), rng, slots))
        parts.append(problem)
    else:
        parts.append(problem)
    if stage != "thanks" and rng.random() < 0.8:
        key = "positive" if pol == "positive" else sentiment
        parts.append(render(rng.choice(bank["feeling"][key]), rng, slots))
    if pol == "negative" and rng.random() < 0.6:
        parts.append(render(rng.choice(bank["ask"]["any"]), rng, slots))
    extra = _pii_extra(rng, voice, topic, slots)
    if extra:
        parts.append(extra)
    return [p for p in parts if p]


def _switch_body(
    rng: Random, topic: Topic, sentiment: Sentiment, stage: Stage, slots: dict[str, SlotValue]
) -> list[str]:
    parts = [_sentence(render(topic.problem(CODE_SWITCH["problem"][topic.category]), rng, slots))]
    if stage in ("repeat", "reopen", "switch"):
        parts.insert(0, render("[Otra vez|Again|Once again], [esto|this] [no funciona|is broken].", rng, slots))
    parts.append(render(rng.choice(CODE_SWITCH["feeling"][_polarity(sentiment)]), rng, slots))
    return parts


def customer_message(
    rng: Random,
    voice: Voice,
    topic: Topic,
    ctx: Context,
    *,
    channel: str,
    sentiment: Sentiment,
    stage: Stage,
) -> str:
    """One customer-authored message, shaped by channel, stage, language and style."""
    slots = _slots(rng, voice, topic, ctx)
    if stage == "escalate" and voice.style == "formal":
        return _formal_escalation(rng, slots)
    if stage == "escalate":
        stage = "followup"
    if voice.code_switching and stage not in ("followup", "thanks") and rng.random() < 0.75:
        body = _switch_body(rng, topic, sentiment, stage, slots)
    elif voice.language != "en":
        body = _intl_body(rng, voice, topic, sentiment, stage, slots)
    else:
        body = _en_body(rng, voice, topic, sentiment, stage, slots, channel)
    if voice.style == "formal" and stage in ("open", "followup", "repeat"):
        body = [b.replace("asap", "at your earliest convenience") for b in body]
    return _shape(rng, voice, channel, body, slots, known_agent=stage in ("followup", "thanks", "reopen"))


def _shape(
    rng: Random, voice: Voice, channel: str, body: list[str], slots: dict[str, SlotValue], *, known_agent: bool
) -> str:
    if channel == "chat":
        text = " ".join(body[: rng.randint(1, 3)])
        opener = rng.choice(en.CHAT_OPENERS) if voice.language == "en" else ""
        if opener:
            text = f"{opener}{rng.choice((' ', ', ', '! '))}{text[:1].lower()}{text[1:]}"
        return text.lower() if rng.random() < 0.25 else text
    if channel == "phone":
        opener = render(rng.choice(en.PHONE_OPENERS), rng, slots) if voice.language == "en" else ""
        return " ".join(p for p in (opener, *body) if p)
    if channel == "social":
        text = " ".join(body[:2])
        tag = rng.choice(en.SOCIAL_TAGS)
        return f"@NorthwindCloud {text}{' ' + tag if tag else ''}"
    if channel in ("in_app", "survey"):
        return " ".join(body[:3])
    return _email(rng, voice, body, slots, known_agent=known_agent)


def _email(rng: Random, voice: Voice, body: list[str], slots: dict[str, SlotValue], *, known_agent: bool) -> str:
    if voice.style == "formal":
        greeting = render(rng.choice(en.FORMAL_ESCALATION["greeting"]), rng, slots)
        closing = render(rng.choice(en.FORMAL_ESCALATION["closing"]), rng, slots)
    elif voice.language == "en":
        greetings = en.GREETINGS if known_agent and rng.random() < 0.5 else en.GREETINGS[:2]
        greeting = render(rng.choice(greetings), rng, slots)
        closing = render(rng.choice(en.CLOSINGS), rng, slots)
    else:
        bank = INTL[voice.language]
        greeting = render(rng.choice(bank["greeting"]["any"]), rng, slots)
        closing = render(rng.choice(bank["closing"]["any"]), rng, slots)
    signature = render(rng.choice(en.SIGNATURES), rng, slots) if rng.random() < 0.85 else ""
    paragraphs: list[str] = []
    if rng.random() < 0.4 and len(body) > 2:
        cut = rng.randint(1, len(body) - 1)
        paragraphs += [" ".join(body[:cut]), " ".join(body[cut:])]
    else:
        paragraphs.append(" ".join(body))
    head = [greeting] if rng.random() < 0.9 else []
    tail = closing + ("\n" + signature if signature else "")
    return "\n\n".join([*head, *paragraphs, tail])


def agent_message(
    rng: Random,
    agent: Agent,
    voice: Voice,
    topic: Topic,
    ctx: Context,
    *,
    channel: str,
    move: AgentMove,
    unhappy: bool = False,
) -> str:
    """An agent's reply: tone depends on the agent, content on what they are doing in the ticket."""
    ctx.agent = agent
    slots = _slots(rng, voice, topic, ctx)
    formal = agent.formal
    lines: list[str] = []
    if move in ("ack", "answer"):
        if channel == "chat" and move == "ack":
            return render(rng.choice(ag.CHAT_ACKS), rng, slots)
        lines.append(render(rng.choice(ag.ACKS[formal, unhappy]), rng, slots))
        lines.append(render(rng.choice(ag.ACTIONS[topic.category]), rng, slots))
        if move == "answer":
            lines.append(render(rng.choice(ag.ANSWERED), rng, slots))
        elif rng.random() < 0.4:
            lines.append(render(rng.choice(ag.INFO_REQUESTS), rng, slots))
    elif move == "info":
        lines.append(render(rng.choice(ag.INFO_REQUESTS), rng, slots))
    elif move == "action":
        lines.append(render(rng.choice(ag.ACTIONS[topic.category]), rng, slots))
    elif move == "stall":
        lines.append(render(rng.choice(ag.STALLS), rng, slots))
    elif move == "resolve":
        if rng.random() < 0.5:
            lines.append(render(rng.choice(ag.ACTIONS[topic.category]), rng, slots))
        lines.append(render(rng.choice(ag.ANSWERED if topic.category in _QUESTIONS else ag.RESOLUTIONS), rng, slots))
    else:
        lines.append(render(rng.choice(ag.ACTIONS["cancellation"]), rng, slots))
        lines.append(render(rng.choice(ag.CANCEL_REPLY), rng, slots))
    body = " ".join(lines)
    if channel in ("chat", "social", "in_app"):
        return body
    if channel == "phone":
        return f"Call notes ({agent.name}): {body}"
    if voice.language != "en" and rng.random() < 0.8:
        greeting = render(rng.choice(ag.LOCAL_GREETINGS[voice.language]), rng, slots)
    else:
        greeting = render(rng.choice(ag.AGENT_GREETINGS[formal]), rng, slots)
    return "\n\n".join((greeting, body, render(rng.choice(ag.AGENT_CLOSINGS[formal]), rng, slots)))


def ticket_subject(rng: Random, voice: Voice, topic: Topic, ctx: Context) -> str:
    slots = _slots(rng, voice, topic, ctx)
    if voice.language != "en" and not voice.code_switching:
        text = _sentence(render(rng.choice(INTL[voice.language]["problem"][topic.category]), rng, slots))
        return text if len(text) <= 80 else text[:77].rsplit(" ", 1)[0] + "..."
    return render(rng.choice(en.SUBJECTS[topic.category]), rng, slots)


def survey_comment(rng: Random, voice: Voice, topic: Topic, ctx: Context, *, survey: str, score: float) -> str:
    """A free-text survey comment that agrees with the score (as most do)."""
    slots = _slots(rng, voice, topic, ctx)
    if survey == "csat":
        band = "low" if score <= 2 else "mid" if score <= 3 else "high"
    else:
        band = "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"
    if voice.language != "en":
        key = {"low": "strong", "detractor": "strong", "mid": "mild", "passive": "mild"}.get(band, "positive")
        return render(rng.choice(INTL[voice.language]["feeling"][key]), rng, slots)
    bank = en.CSAT_COMMENTS if survey == "csat" else en.NPS_COMMENTS
    return render(rng.choice(bank[band]), rng, slots)
