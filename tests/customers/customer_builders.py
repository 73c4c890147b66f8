"""Builders for customer stories: v1 events plus hand-made ``Analysis`` objects.

A ``Story`` records one customer's events (with the analysis and issue category the pipeline
would attach) so the same history can be replayed into a ``CustomerState`` or written out as
JSON lines for the full pipeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tonewatch.health import CustomerState
from tonewatch.ingest.events import (
    CustomerEvent,
    MessageEvent,
    OutcomeEvent,
    SurveyEvent,
    TicketEvent,
    UsageEvent,
)
from tonewatch.score._analysis import Analysis, Cue, SentenceResult, Urgency

__all__ = ["NOW", "Step", "Story", "analysis", "day", "polite_cue", "random_story"]

# "Today" in every story: reports are always read as of a fixed time, never the clock.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

Step = tuple[Any, Analysis | None, str | None]


def day(offset: float, hour: float = 10.0) -> datetime:
    """``offset`` days from NOW's date (negative = in the past), at ``hour`` o'clock UTC."""
    midnight = NOW.replace(hour=0, minute=0)
    return midnight + timedelta(days=offset, hours=hour)


def polite_cue(span: str, text: str) -> Cue:
    start = max(text.find(span), 0)
    return Cue("polite-escalation", span, start, start + len(span), "urgent", 0.6)


def analysis(
    score: float,
    text: str = "",
    *,
    label: str | None = None,
    urgency: str = "low",
    urgency_score: float | None = None,
    cues: Iterable[Cue] = (),
) -> Analysis:
    """A realistic ``Analysis`` whose probabilities, label and confidence agree with ``score``.

    P(positive) - P(negative) == score; the neutral mass shrinks as the score gets extreme.
    """
    s = max(-1.0, min(1.0, float(score)))
    spread = 1.0 - abs(s)
    probs = {"positive": max(s, 0.0) + spread * 0.25, "neutral": spread * 0.5, "negative": max(-s, 0.0) + spread * 0.25}
    if label is None:
        label = "positive" if s >= 0.25 else ("negative" if s <= -0.25 else "neutral")
    confidence = probs.get(label, 0.5)
    body = text or "(no text)"
    sentences = tuple(
        SentenceResult(m.group(0), m.start(), m.end(), label, probs, s)  # type: ignore[arg-type]
        for m in re.finditer(r"[^.!?]+[.!?]*", body)
        if m.group(0).strip()
    )
    return Analysis(
        label=label,  # type: ignore[arg-type]
        probabilities=probs,
        score=s,
        confidence=confidence,
        needs_review=False,
        emotions={"neutral": 0.5},
        goemotions={"neutral": 0.5},
        sarcasm=0.02,
        urgency=Urgency(
            urgency, urgency_score if urgency_score is not None else {"low": 0.1, "medium": 0.5, "high": 0.85}[urgency]
        ),  # type: ignore[arg-type]
        language="en",
        sentences=sentences,
        cues=tuple(cues),
        model_version="test-fixture",
    )


class Story:
    """One customer's history, told event by event."""

    def __init__(self, customer_id: str, attributes: Mapping[str, Any] | None = None) -> None:
        self.customer_id = customer_id
        self.attributes = dict(attributes or {})
        self.steps: list[Step] = []
        self._n = 0

    def _id(self) -> str:
        self._n += 1
        return f"{self.customer_id}-e{self._n}"

    def message(
        self,
        when: datetime,
        text: str,
        score: float | None = None,
        *,
        channel: str = "email",
        author: str = "customer",
        ticket: str | None = None,
        category: str | None = None,
        urgency: str = "low",
        cues: Iterable[Cue] = (),
    ) -> Story:
        event = MessageEvent(
            event_id=self._id(),
            customer_id=self.customer_id,
            timestamp=when,
            channel=channel,  # type: ignore[arg-type]
            author=author,  # type: ignore[arg-type]
            text=text,
            ticket_id=ticket,
        )
        scored = None
        if author == "customer":
            scored = analysis(0.0 if score is None else score, text, urgency=urgency, cues=cues)
        self.steps.append((event, scored, category if author == "customer" else None))
        return self

    def ticket(self, when: datetime, ticket: str, status: str, subject: str | None = None) -> Story:
        event = TicketEvent(
            event_id=self._id(),
            customer_id=self.customer_id,
            timestamp=when,
            ticket_id=ticket,
            status=status,  # type: ignore[arg-type]
            subject=subject,
        )
        self.steps.append((event, None, None))
        return self

    def survey(
        self, when: datetime, kind: str, score: float, comment: str | None = None, sentiment: float = 0.0
    ) -> Story:
        event = SurveyEvent(
            event_id=self._id(),
            customer_id=self.customer_id,
            timestamp=when,
            survey=kind,  # type: ignore[arg-type]
            score=score,
            comment=comment,
        )
        self.steps.append((event, analysis(sentiment, comment) if comment else None, None))
        return self

    def usage(self, when: datetime, metric: str, value: float) -> Story:
        event = UsageEvent(
            event_id=self._id(), customer_id=self.customer_id, timestamp=when, metric=metric, value=value
        )
        self.steps.append((event, None, None))
        return self

    def outcome(self, when: datetime, outcome: str) -> Story:
        event = OutcomeEvent(
            event_id=self._id(),
            customer_id=self.customer_id,
            timestamp=when,
            outcome=outcome,  # type: ignore[arg-type]
        )
        self.steps.append((event, None, None))
        return self

    def update_attributes(self, **attributes: Any) -> Story:
        self.steps.append((CustomerEvent(customer_id=self.customer_id, attributes=attributes), None, None))
        return self

    def ordered(self) -> list[Step]:
        """Steps in timestamp order (attribute updates without a timestamp keep their place)."""
        keyed = []
        last = datetime.min.replace(tzinfo=UTC)
        for i, step in enumerate(self.steps):
            ts = step[0].timestamp or last
            last = ts
            keyed.append((ts, i, step))
        return [step for _, _, step in sorted(keyed, key=lambda k: (k[0], k[1]))]

    def state(self, until: datetime | None = None) -> CustomerState:
        """Replay the story (up to ``until``) into a fresh ``CustomerState``."""
        st = CustomerState(self.customer_id, self.attributes)
        for event, scored, category in self.ordered():
            if until is not None and event.timestamp is not None and event.timestamp > until:
                break
            st.update(event, scored, category)
        return st

    def to_jsonl(self) -> str:
        """The story as v1 event lines (the customer record first), for the full pipeline."""
        lines = [json.dumps({"kind": "customer", "customer_id": self.customer_id, "attributes": self.attributes})]
        lines += [json.dumps(event.model_dump(mode="json", exclude_none=True)) for event, _, _ in self.ordered()]
        return "\n".join(lines) + "\n"


_TEXTS = (
    ("Thanks, that fixed it!", 0.7),
    ("Still waiting on the refund.", -0.4),
    ("The app crashes when I export. Please advise.", -0.5),
    ("Can you explain the new pricing?", 0.0),
    ("This is the third time I write about this invoice.", -0.7),
)


def random_story(seed: int, n: int = 120, customer_id: str = "rnd") -> Story:
    """A mixed, plausible history of ``n`` events ending before NOW (deterministic per seed)."""
    import random

    rng = random.Random(seed)
    story = Story(customer_id, {"signup_date": "2025-02-01", "renewal_date": "2026-07-15", "segment": "smb"})
    when = day(-200)
    for i in range(n):
        when = when + timedelta(hours=rng.uniform(0.5, 200 / n * 24 * 2))
        if when >= NOW:
            break
        ticket = f"T{i // 6}"
        roll = rng.random()
        if roll < 0.35:
            text, base = rng.choice(_TEXTS)
            cues = [polite_cue("Please advise", text)] if "Please advise" in text else []
            story.message(
                when,
                text,
                max(-1.0, min(1.0, base + rng.uniform(-0.2, 0.2))),
                channel=rng.choice(["chat", "email", "phone", "in_app", "social"]),
                ticket=ticket if rng.random() < 0.8 else None,
                category=rng.choice(["billing", "bug", "how-to", "other", None]),
                urgency=rng.choice(["low", "medium", "high"]),
                cues=cues,
            )
        elif roll < 0.45:
            story.message(when, "Thanks for your patience, we are on it.", author="agent", ticket=ticket)
        elif roll < 0.55:
            story.ticket(when, ticket, rng.choice(["opened", "pending", "resolved", "reopened", "closed"]))
        elif roll < 0.8:
            story.usage(when, rng.choice(["logins", "api_calls", "seats"]), round(rng.uniform(0, 40), 1))
        elif roll < 0.88:
            kind = rng.choice(["csat", "nps"])
            score = rng.randint(1, 5) if kind == "csat" else rng.randint(0, 10)
            story.survey(when, kind, score, rng.choice([None, "Could be better.", "Great!"]), rng.uniform(-0.5, 0.5))
        elif roll < 0.93:
            story.outcome(when, rng.choice(["renewed", "expanded", "downgraded"]))
        else:
            story.update_attributes(renewal_date=(when + timedelta(days=rng.randint(10, 200))).date().isoformat())
    return story
