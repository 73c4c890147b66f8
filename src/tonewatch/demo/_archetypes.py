"""The customer archetypes the product exists for, and how each one behaves.

An archetype fixes the shape of a customer's history (how often they write, how their mood
moves, what their usage does) and the odds of each renewal outcome; everything else is
random. ``at_risk`` says whether a good health score should flag the customer before the
outcome: the chronic complainer is loud but loyal, the silent churner quiet but leaving.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ARCHETYPES", "ARCHETYPE_NAMES", "Archetype", "ArchetypeSpec"]

Archetype = Literal[
    "happy_stable",
    "slowly_declining",
    "chronic_complainer",
    "silent_churner",
    "polite_escalation",
    "sarcastic",
    "repeat_contact",
    "channel_switcher",
]


@dataclass(frozen=True, slots=True)
class ArchetypeSpec:
    """How one archetype behaves; ``outcomes`` are the odds at a renewal (they sum to 1)."""

    name: Archetype
    share: float
    description: str
    contacts_per_month: float
    mood_start: float
    mood_end: float
    usage_end: float
    outcomes: dict[str, float]
    at_risk: bool
    multilingual: bool = True
    segments: dict[str, float] = field(default_factory=lambda: {"new": 0.25, "smb": 0.5, "enterprise": 0.25})


ARCHETYPES: dict[str, ArchetypeSpec] = {
    spec.name: spec
    for spec in (
        ArchetypeSpec(
            "happy_stable",
            0.30,
            "Content customer: occasional how-to questions and feature requests, warm tone, steady usage.",
            contacts_per_month=0.5,
            mood_start=0.55,
            mood_end=0.55,
            usage_end=1.1,
            outcomes={"renewed": 0.78, "expanded": 0.16, "downgraded": 0.02, "churned": 0.04},
            at_risk=False,
        ),
        ArchetypeSpec(
            "slowly_declining",
            0.13,
            "Positive months ago, neutral last month, mildly negative now; usage slips; often leaves.",
            contacts_per_month=1.0,
            mood_start=0.6,
            mood_end=-0.45,
            usage_end=0.55,
            outcomes={"renewed": 0.27, "expanded": 0.0, "downgraded": 0.15, "churned": 0.58},
            at_risk=True,
        ),
        ArchetypeSpec(
            "chronic_complainer",
            0.10,
            "Writes often and negatively for years, uses the product heavily and renews anyway.",
            contacts_per_month=1.8,
            mood_start=-0.5,
            mood_end=-0.5,
            usage_end=1.0,
            outcomes={"renewed": 0.84, "expanded": 0.04, "downgraded": 0.05, "churned": 0.07},
            at_risk=False,
            segments={"new": 0.0, "smb": 0.6, "enterprise": 0.4},
        ),
        ArchetypeSpec(
            "silent_churner",
            0.10,
            "Never complains: a couple of neutral questions, then silence while usage falls ~80% before renewal.",
            contacts_per_month=0.5,
            mood_start=0.2,
            mood_end=0.1,
            usage_end=0.2,
            outcomes={"renewed": 0.1, "expanded": 0.0, "downgraded": 0.05, "churned": 0.85},
            at_risk=True,
            segments={"new": 0.0, "smb": 0.65, "enterprise": 0.35},
        ),
        ArchetypeSpec(
            "polite_escalation",
            0.08,
            "Enterprise account whose ticket stays open for weeks; formal follow-ups ('Please advise...').",
            contacts_per_month=0.6,
            mood_start=0.1,
            mood_end=-0.2,
            usage_end=0.85,
            outcomes={"renewed": 0.45, "expanded": 0.0, "downgraded": 0.15, "churned": 0.40},
            at_risk=True,
            multilingual=False,
            segments={"new": 0.0, "smb": 0.0, "enterprise": 1.0},
        ),
        ArchetypeSpec(
            "sarcastic",
            0.08,
            "Negative feelings in positive words ('Oh great, another outage'), often in public on social.",
            contacts_per_month=1.2,
            mood_start=-0.3,
            mood_end=-0.4,
            usage_end=0.9,
            outcomes={"renewed": 0.55, "expanded": 0.0, "downgraded": 0.12, "churned": 0.33},
            at_risk=True,
            multilingual=False,
        ),
        ArchetypeSpec(
            "repeat_contact",
            0.11,
            "Three or more contacts about the same unresolved issue within ten days.",
            contacts_per_month=0.6,
            mood_start=0.2,
            mood_end=-0.2,
            usage_end=0.85,
            outcomes={"renewed": 0.52, "expanded": 0.0, "downgraded": 0.12, "churned": 0.36},
            at_risk=True,
        ),
        ArchetypeSpec(
            "channel_switcher",
            0.10,
            "Escalates through channels about one issue within a week: chat, then email, then phone.",
            contacts_per_month=0.6,
            mood_start=0.2,
            mood_end=-0.2,
            usage_end=0.85,
            outcomes={"renewed": 0.52, "expanded": 0.0, "downgraded": 0.12, "churned": 0.36},
            at_risk=True,
        ),
    )
}

ARCHETYPE_NAMES: tuple[str, ...] = tuple(ARCHETYPES)
