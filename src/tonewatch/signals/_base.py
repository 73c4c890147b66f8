"""What every behavioural signal shares: the event union, the protocol, and contact/quote rules.

A *contact* is a customer-authored message that does not continue the previous one: a message
in the same ticket (or conversation; or on the same channel when neither is given) within
``CONTACT_GAP_HOURS`` of the previous customer message is the same contact, so a chat burst of
ten lines is one contact while three emails about the same bill on three days are three.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    from typing import TypeAlias

    from tonewatch.ingest.events import (
        CustomerEvent,
        MessageEvent,
        OutcomeEvent,
        SurveyEvent,
        TicketEvent,
        UsageEvent,
    )
    from tonewatch.score._analysis import Analysis

    # The events a signal is fed (imported for typing only: signals never import the ingest package).
    AnyEvent: TypeAlias = CustomerEvent | MessageEvent | TicketEvent | SurveyEvent | UsageEvent | OutcomeEvent

__all__ = [
    "CONTACT_GAP_HOURS",
    "NEGATIVE_SCORE",
    "Signal",
    "SignalResult",
    "contact_key",
    "is_negative",
    "quote",
]

CONTACT_GAP_HOURS = 4.0
# A text scoring at or below this (or labelled negative) is a negative interaction.
NEGATIVE_SCORE = -0.3


class SignalResult(Protocol):
    """A signal read as of one time; ``to_dict()`` is its entry under ``signals`` in a health report."""

    def to_dict(self) -> dict[str, Any]: ...


class Signal(Protocol):
    """A behavioural signal: a small streaming object fed every event of one customer, in order."""

    name: str

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self: ...

    def at(self, as_of: datetime) -> SignalResult: ...

    def to_state(self) -> dict[str, Any]: ...

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self: ...


def contact_key(event: MessageEvent) -> str:
    """What makes consecutive customer messages one contact: ticket, else conversation, else channel."""
    if event.ticket_id:
        return "t:" + event.ticket_id
    if event.conversation_id:
        return "c:" + event.conversation_id
    return "ch:" + event.channel


def is_negative(analysis: Analysis) -> bool:
    """A negative interaction: labelled negative, or any label with a score at or below ``NEGATIVE_SCORE``."""
    return analysis.label == "negative" or analysis.score <= NEGATIVE_SCORE


def quote(text: str | None, analysis: Analysis | None = None, limit: int = 80, *, at: int | None = None) -> str:
    """A short quote for evidence: the sentence at offset ``at`` if given, else the most negative
    sentence when scored, else the text's start.

    The pipeline hands signals masked text, so quotes carry placeholders, never raw PII.
    """
    source = text or ""
    if analysis is not None and analysis.sentences:
        chosen = None
        if at is not None:
            chosen = next((s for s in analysis.sentences if s.start <= at < s.end), None)
        if chosen is None:
            chosen = min(analysis.sentences, key=lambda s: s.score)
        if chosen.text.strip():
            source = chosen.text
    flat = " ".join(source.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
