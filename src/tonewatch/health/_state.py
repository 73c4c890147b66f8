"""One customer's streaming state: the trajectory and every behavioural signal, and its report.

The pipeline keeps one ``CustomerState`` per customer, feeds it each event in timestamp order
(with the analysis of customer-authored text and its issue category), persists it with
``to_state()`` and, when an event arrives out of order, rebuilds it by replaying the stored
history. ``report(as_of)`` reads everything relative to ``as_of``, never the wall clock, so a
replayed history gives the same reports as the live one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from pydantic import ValidationError

from tonewatch._errors import InputError
from tonewatch.signals import (
    ChannelEscalation,
    ContactFrequency,
    FollowUps,
    NegativeMessages,
    Outcomes,
    Renewal,
    RepeatContact,
    Silence,
    SurveyTrend,
    Tenure,
    Tickets,
    UrgencySignal,
    UsageDecline,
)
from tonewatch.trajectory import Trajectory, from_epoch

from ._factors import Reading, draft_factors, flags_of
from ._report import HealthReport, band_of, compose
from ._weights import HealthWeights

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis
    from tonewatch.signals._base import AnyEvent

__all__ = ["STATE_VERSION", "CustomerState"]

STATE_VERSION = 1
_DEFAULT_WEIGHTS = HealthWeights()
_KINDS = frozenset({"customer", "message", "ticket", "survey", "usage", "outcome"})


class CustomerState:
    """Streaming per-customer state; see the module docstring."""

    __slots__ = (
        "_attributes",
        "_channels",
        "_contacts",
        "_customer_id",
        "_events",
        "_first_seen",
        "_follow_ups",
        "_last_seen",
        "_negative",
        "_outcomes",
        "_renewal",
        "_repeat",
        "_silence",
        "_surveys",
        "_tenure",
        "_tickets",
        "_trajectory",
        "_urgency",
        "_usage",
    )

    def __init__(self, customer_id: str, attributes: Mapping[str, Any] | None = None) -> None:
        if not isinstance(customer_id, str) or not customer_id:
            raise InputError("customer_id must be a non-empty string", field="customer_id")
        self._customer_id = customer_id
        self._attributes: dict[str, Any] = {}
        self._events = 0
        self._first_seen: float | None = None
        self._last_seen: float | None = None
        self._trajectory = Trajectory()
        self._contacts = ContactFrequency()
        self._repeat = RepeatContact()
        self._channels = ChannelEscalation()
        self._silence = Silence()
        self._negative = NegativeMessages()
        self._tickets = Tickets()
        self._follow_ups = FollowUps()
        self._surveys = SurveyTrend()
        self._usage = UsageDecline()
        self._urgency = UrgencySignal()
        self._renewal = Renewal()
        self._tenure = Tenure()
        self._outcomes = Outcomes()
        if attributes:
            from tonewatch.ingest.events import CustomerEvent  # lazily: health never imports the ingest package

            try:
                event = CustomerEvent(customer_id=customer_id, attributes=dict(attributes))
            except ValidationError as exc:
                err = exc.errors()[0]
                raise InputError(
                    str(err.get("msg", "invalid attributes")).removeprefix("Value error, "),
                    code="invalid_attributes",
                    field="attributes",
                ) from None
            self._attributes.update(event.attributes)
            self._renewal.update(event)
            self._tenure.update(event)

    def _signals(self) -> tuple[Any, ...]:
        return (
            self._contacts,
            self._repeat,
            self._channels,
            self._silence,
            self._negative,
            self._tickets,
            self._follow_ups,
            self._surveys,
            self._usage,
            self._urgency,
            self._renewal,
            self._tenure,
            self._outcomes,
        )

    # -- streaming -------------------------------------------------------------------------------
    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        """Apply one event (in timestamp order) with the analysis of its customer-authored text, if any.

        ``event.text`` should be the masked text: quotes in reasons are taken from it.
        """
        kind = getattr(event, "kind", None)
        if kind not in _KINDS:
            raise InputError("not a tonewatch event", code="invalid_event", field="kind")
        if event.customer_id != self._customer_id:
            raise InputError(
                f"event for customer {event.customer_id!r} applied to {self._customer_id!r}",
                code="customer_mismatch",
                field="customer_id",
            )
        if event.kind == "customer":
            self._attributes.update(event.attributes)
        if event.timestamp is not None:
            ts = event.timestamp.timestamp()
            if self._first_seen is None or ts < self._first_seen:
                self._first_seen = ts
            if self._last_seen is None or ts > self._last_seen:
                self._last_seen = ts
        customer_text = (event.kind == "message" and event.author == "customer") or event.kind == "survey"
        if analysis is not None and event.timestamp is not None and customer_text:
            self._trajectory.update(event.timestamp, analysis.score)
        for signal in self._signals():
            signal.update(event, analysis, category)
        self._events += 1
        return self

    # -- reading ---------------------------------------------------------------------------------
    @property
    def customer_id(self) -> str:
        return self._customer_id

    @property
    def attributes(self) -> dict[str, Any]:
        """A copy of the merged attributes (later customer events win)."""
        return dict(self._attributes)

    @property
    def events(self) -> int:
        """Events applied so far."""
        return self._events

    @property
    def first_seen(self) -> datetime | None:
        return None if self._first_seen is None else from_epoch(self._first_seen)

    @property
    def last_seen(self) -> datetime | None:
        return None if self._last_seen is None else from_epoch(self._last_seen)

    @property
    def trajectory(self) -> Trajectory:
        return self._trajectory

    def read(self, as_of: datetime, *, segment_baseline: float | None = None) -> Reading:
        """What the trajectory and every signal say as of ``as_of``."""
        return Reading(
            trend=self._trajectory.at(as_of, segment_baseline=segment_baseline),
            contacts=self._contacts.at(as_of),
            repeat=self._repeat.at(as_of),
            channels=self._channels.at(as_of),
            silence=self._silence.at(as_of),
            negative=self._negative.at(as_of),
            tickets=self._tickets.at(as_of),
            follow_ups=self._follow_ups.at(as_of),
            surveys=self._surveys.at(as_of),
            usage=self._usage.at(as_of),
            urgency=self._urgency.at(as_of),
            renewal=self._renewal.at(as_of),
            tenure=self._tenure.at(as_of),
            outcomes=self._outcomes.at(as_of),
        )

    def report(
        self, as_of: datetime, *, weights: HealthWeights | None = None, segment_baseline: float | None = None
    ) -> HealthReport:
        """The explainable health of this customer as of ``as_of`` (default weights when none given)."""
        reading = self.read(as_of, segment_baseline=segment_baseline)
        health, base, factors, features = compose(draft_factors(reading), weights or _DEFAULT_WEIGHTS)
        return HealthReport(
            customer_id=self._customer_id,
            as_of=as_of,
            health=health,
            band=band_of(health),
            base=base,
            trend=reading.trend,
            factors=factors,
            flags=flags_of(reading),
            features=features,
            reading=reading,
        )

    # -- persistence -----------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """JSON-serialisable state; ``from_state(to_state())`` continues exactly where this one is."""
        return {
            "version": STATE_VERSION,
            "customer_id": self._customer_id,
            "attributes": json.loads(json.dumps(self._attributes, default=str)),
            "events": self._events,
            "first_seen": self._first_seen,
            "last_seen": self._last_seen,
            "trajectory": self._trajectory.to_state(),
            "signals": {s.name: s.to_state() for s in self._signals()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        """Rebuild a state saved by ``to_state`` (raises ``InputError`` for anything else)."""
        try:
            version = state["version"]
            if version != STATE_VERSION:
                raise InputError(f"unsupported customer state version {version!r}", code="invalid_state")
            obj = cls(str(state["customer_id"]))
            obj._attributes = dict(state["attributes"])
            obj._events = int(state["events"])
            obj._first_seen = None if state["first_seen"] is None else float(state["first_seen"])
            obj._last_seen = None if state["last_seen"] is None else float(state["last_seen"])
            obj._trajectory = Trajectory.from_state(state["trajectory"])
            sig = state["signals"]
            obj._contacts = ContactFrequency.from_state(sig[ContactFrequency.name])
            obj._repeat = RepeatContact.from_state(sig[RepeatContact.name])
            obj._channels = ChannelEscalation.from_state(sig[ChannelEscalation.name])
            obj._silence = Silence.from_state(sig[Silence.name])
            obj._negative = NegativeMessages.from_state(sig[NegativeMessages.name])
            obj._tickets = Tickets.from_state(sig[Tickets.name])
            obj._follow_ups = FollowUps.from_state(sig[FollowUps.name])
            obj._surveys = SurveyTrend.from_state(sig[SurveyTrend.name])
            obj._usage = UsageDecline.from_state(sig[UsageDecline.name])
            obj._urgency = UrgencySignal.from_state(sig[UrgencySignal.name])
            obj._renewal = Renewal.from_state(sig[Renewal.name])
            obj._tenure = Tenure.from_state(sig[Tenure.name])
            obj._outcomes = Outcomes.from_state(sig[Outcomes.name])
        except InputError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise InputError(f"invalid customer state: {exc!r}", code="invalid_state") from None
        return obj

    def __repr__(self) -> str:
        return f"CustomerState({self._customer_id!r}, events={self._events})"
