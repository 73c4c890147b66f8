"""Health weights: the points each factor is worth, configurable and learnable.

A health score is ``base + sum(weight[f] * value[f])`` over the factor values of
``tonewatch.health`` (each documented in ``_factors.py``; most are in [0, 1]), bounded to
0..100. A weight is the number of points a factor is worth at value 1: negative for risks,
positive for loyalty. The defaults are hand-set so the stories of the acceptance tests land in
the right bands; ``fit_weights`` learns them from outcomes instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tonewatch._errors import InputError, NotFoundError

__all__ = ["FEATURES", "HealthWeights"]


def _w(default: float, description: str) -> Any:
    return Field(default=default, allow_inf_nan=False, description=description)


class HealthWeights(BaseModel):
    """Points per unit of each factor, plus the ``base`` score of a customer with no factor at all."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: float = Field(default=75.0, ge=0, le=100, description="Score with every factor at zero")
    # sentiment trajectory
    negative_sentiment: float = _w(-25.0, "Negative EW sentiment level (0..1), faded by staleness")
    positive_sentiment: float = _w(10.0, "Positive EW sentiment level (0..1), faded by staleness")
    sentiment_drop: float = _w(-30.0, "Fall below own/segment baseline or along the window's trend (0..1)")
    declining: float = _w(-10.0, "The trajectory is declining (0/1)")
    # contact behaviour
    contact_spike: float = _w(-8.0, "Recent contacts far above the customer's norm (0..1)")
    repeat_contact: float = _w(-10.0, "Repeat contacts about one issue category (0/1)")
    channel_escalation: float = _w(-8.0, "Escalation to higher-effort channels (0/1)")
    silent_after_negative: float = _w(-10.0, "Silence after a negative interaction (0..1, full at 21 days)")
    unanswered_reply: float = _w(-4.0, "Agent reply left unanswered (0..1, full at 30 days)")
    gone_quiet: float = _w(-12.0, "Silence far beyond the customer's usual gap between contacts (0..1)")
    follow_ups: float = _w(-15.0, "Follow-ups on one unresolved ticket (0..1, full at 3)")
    urgency: float = _w(-12.0, "High-urgency messages in 14 days (0..1, full at 2)")
    polite_escalation: float = _w(-15.0, "Polite-escalation language in 30 days (0/1)")
    # tickets
    open_ticket_age: float = _w(-8.0, "Age of the oldest open ticket (0..1, full at 30 days)")
    reopened_tickets: float = _w(-8.0, "Ticket reopenings in 90 days (0..1, full at 2)")
    # surveys
    survey_low: float = _w(-10.0, "Latest CSAT/NPS below 0.6 normalised (0..1)")
    survey_drop: float = _w(-15.0, "Latest CSAT/NPS below the previous ones (0..1, full at 0.5)")
    survey_positive: float = _w(5.0, "Latest CSAT/NPS above 0.7 normalised (0..1)")
    # product and account
    usage_decline: float = _w(-30.0, "Worst usage metric's fall against its baseline (0..1)")
    renewal_soon: float = _w(-8.0, "Renewal within 90 days (0..1, full on the day)")
    new_customer: float = _w(-8.0, "Customer for less than 180 days (0..1, full at signup)")
    tenure: float = _w(6.0, "Years as a customer (0..1, full at 3 years)")
    renewals: float = _w(9.0, "Renewals and expansions so far (0..1, full at 3)")
    downgraded: float = _w(-10.0, "Downgraded in the last 180 days (0/1)")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HealthWeights:
        """Validate a mapping (e.g. parsed YAML); missing factors keep their defaults."""
        if not isinstance(data, Mapping):
            raise InputError("health weights must be a mapping of factor name to points", code="invalid_weights")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err.get("loc", ())) or None
            msg = "unknown factor" if err.get("type") == "extra_forbidden" else err.get("msg", "invalid")
            raise InputError(f"health weights: {field}: {msg}", code="invalid_weights", field=field) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> HealthWeights:
        """Load weights from a YAML file of ``factor: points`` (and ``base``)."""
        import yaml

        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFoundError(f"health weights file not found: {p}", code="weights_not_found") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"health weights: invalid YAML: {exc}", code="invalid_weights") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.model_dump().items()}

    def to_yaml(self) -> str:
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))

    @cached_property
    def points_map(self) -> dict[str, float]:
        """Points at value 1 of every factor (computed once per weights object)."""
        return {name: float(getattr(self, name)) for name in FEATURES}

    def points(self, factor: str) -> float:
        """Points of ``factor`` at value 1."""
        try:
            return self.points_map[factor]
        except KeyError:
            raise InputError(f"unknown health factor {factor!r}", code="unknown_factor", field=factor) from None


FEATURES: tuple[str, ...] = tuple(name for name in HealthWeights.model_fields if name != "base")
