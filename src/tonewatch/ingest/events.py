"""The v1 event format: one JSON object per line, discriminated by ``kind``.

This module is the contract between producers (helpdesk exports, streams, the demo
generator) and the pipeline; see ``docs/events.md``. Unknown extra fields are ignored so
producers can add data without breaking older consumers; anything the pipeline relies on
is validated strictly, and an invalid event is rejected as a whole with the field at fault.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from tonewatch._errors import EventValidationError

__all__ = [
    "CHANNELS",
    "CHANNEL_EFFORT",
    "BaseEvent",
    "Channel",
    "CustomerEvent",
    "Event",
    "MessageEvent",
    "OutcomeEvent",
    "SurveyEvent",
    "TicketEvent",
    "UsageEvent",
    "parse_event",
    "parse_event_json",
]

Channel = Literal["email", "chat", "phone", "social", "survey", "in_app"]
CHANNELS: tuple[str, ...] = ("email", "chat", "phone", "social", "survey", "in_app")
# Customer effort of a channel: moving up this scale within days is "channel escalation".
CHANNEL_EFFORT: dict[str, int] = {"in_app": 0, "survey": 0, "social": 1, "chat": 1, "email": 2, "phone": 3}

_Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class BaseEvent(BaseModel):
    """Fields shared by every timestamped event."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    event_id: _Id
    customer_id: _Id
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        """Naive timestamps are taken as UTC; everything is stored in UTC."""
        return _as_utc(v)


class CustomerEvent(BaseModel):
    """Creates or updates a customer; attributes are merged (later wins)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    kind: Literal["customer"] = "customer"
    customer_id: _Id
    attributes: dict[str, Any] = Field(default_factory=dict)
    event_id: _Id | None = None
    timestamp: datetime | None = None

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return None if v is None else _as_utc(v)

    @field_validator("attributes")
    @classmethod
    def _known_attributes(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in ("signup_date", "renewal_date"):
            if v.get(key) not in (None, ""):
                try:
                    date.fromisoformat(str(v[key])[:10])
                except ValueError as exc:
                    raise ValueError(f"attributes.{key} must be an ISO date (YYYY-MM-DD)") from exc
        if v.get("account_value") not in (None, ""):
            try:
                float(v["account_value"])
            except (TypeError, ValueError) as exc:
                raise ValueError("attributes.account_value must be a number") from exc
        return v


class MessageEvent(BaseEvent):
    """A message in a conversation; customer-authored text is masked and scored."""

    kind: Literal["message"] = "message"
    channel: Channel
    author: Literal["customer", "agent"] = "customer"
    text: str = Field(min_length=1)
    ticket_id: _Id | None = None
    language: str | None = Field(default=None, min_length=2, max_length=8)
    agent_id: _Id | None = None
    conversation_id: _Id | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        v = _strip_nul(v)
        if not v.strip():
            raise ValueError("text is empty or whitespace only")
        return v


def _strip_nul(v: str) -> str:
    """NUL characters carry no meaning in a message and PostgreSQL refuses them in text columns."""
    return v.replace("\x00", "") if "\x00" in v else v


class TicketEvent(BaseEvent):
    kind: Literal["ticket"] = "ticket"
    ticket_id: _Id
    status: Literal["opened", "pending", "resolved", "reopened", "closed"]
    subject: str | None = Field(default=None, max_length=2000)
    category: str | None = Field(default=None, max_length=60)

    @field_validator("subject")
    @classmethod
    def _no_nul(cls, v: str | None) -> str | None:
        return None if v is None else _strip_nul(v)


class SurveyEvent(BaseEvent):
    """CSAT is 1..scale (default 5); NPS is 0..10."""

    kind: Literal["survey"] = "survey"
    survey: Literal["csat", "nps"]
    score: float
    scale: int | None = Field(default=None, ge=2, le=100)
    comment: str | None = None

    @field_validator("comment")
    @classmethod
    def _no_nul(cls, v: str | None) -> str | None:
        return None if v is None else _strip_nul(v)

    @model_validator(mode="after")
    def _range(self) -> SurveyEvent:
        if self.survey == "nps" and not 0 <= self.score <= 10:
            raise ValueError("nps score must be between 0 and 10")
        if self.survey == "csat":
            top = self.scale or 5
            if not 1 <= self.score <= top:
                raise ValueError(f"csat score must be between 1 and {top} (set 'scale' for other scales)")
        return self

    @property
    def normalized(self) -> float:
        """Score mapped to 0..1 so CSAT and NPS trends can be compared."""
        if self.survey == "nps":
            return self.score / 10.0
        top = self.scale or 5
        return (self.score - 1) / (top - 1)


class UsageEvent(BaseEvent):
    kind: Literal["usage"] = "usage"
    metric: str = Field(min_length=1, max_length=100)
    value: float = Field(allow_inf_nan=False)


class OutcomeEvent(BaseEvent):
    kind: Literal["outcome"] = "outcome"
    outcome: Literal["churned", "renewed", "downgraded", "expanded"]


Event = Annotated[
    CustomerEvent | MessageEvent | TicketEvent | SurveyEvent | UsageEvent | OutcomeEvent,
    Field(discriminator="kind"),
]
_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def _reason(exc: ValidationError) -> tuple[str, str | None]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()) if not (isinstance(p, str) and p in _KINDS))
    msg = err.get("msg", "invalid").removeprefix("Value error, ")
    if err.get("type") == "union_tag_invalid":
        return "kind must be one of: " + ", ".join(sorted(_KINDS)), "kind"
    if err.get("type") == "union_tag_not_found":
        return "missing field 'kind'", "kind"
    return (f"{loc}: {msg}" if loc else msg), (loc or None)


_KINDS = {"customer", "message", "ticket", "survey", "usage", "outcome"}


def parse_event(obj: Any, *, line: int | None = None) -> Event:
    """Validate one decoded event; raise :class:`EventValidationError` with the field at fault."""
    if not isinstance(obj, dict):
        raise EventValidationError("an event must be a JSON object", line=line)
    try:
        return _ADAPTER.validate_python(obj)
    except ValidationError as exc:
        reason, field = _reason(exc)
        raise EventValidationError(reason, field=field, line=line) from None


def parse_event_json(raw: str | bytes, *, line: int | None = None) -> Event:
    """Decode and validate one JSON line (bytes must be UTF-8)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EventValidationError(f"not valid UTF-8 (byte {exc.start})", line=line, code="invalid_utf8") from None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EventValidationError(
            f"invalid JSON: {exc.msg} at column {exc.colno}", line=line, code="invalid_json"
        ) from None
    return parse_event(obj, line=line)
