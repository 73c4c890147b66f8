"""The fictional company of the demo: Northwind Cloud and its project-management product.

Kept apart from the phrase banks so the product vocabulary (features, plans, error codes,
agents) is shared by customer messages, agent replies and ticket subjects alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "AGENTS",
    "BROWSERS",
    "COMPANY",
    "DEFAULT_START",
    "ERROR_CODES",
    "FEATURES",
    "INTEGRATIONS",
    "PLANS",
    "PRODUCT",
    "SUPPORT_EMAIL",
    "Agent",
    "Plan",
]

COMPANY = "Northwind Cloud"
PRODUCT = "Northwind"
SUPPORT_EMAIL = "support@northwind.example"
# Fixed so that the same seed gives byte-identical output on any day; the demo command passes its own.
DEFAULT_START = date(2025, 1, 6)


@dataclass(frozen=True, slots=True)
class Plan:
    """A price plan; ``value`` is the yearly contract range in USD."""

    name: str
    value: tuple[int, int]
    seats: tuple[int, int]


PLANS: dict[str, Plan] = {
    "starter": Plan("starter", (540, 2_400), (2, 8)),
    "team": Plan("team", (2_400, 12_000), (6, 40)),
    "business": Plan("business", (12_000, 60_000), (30, 180)),
    "enterprise": Plan("enterprise", (60_000, 420_000), (150, 2_000)),
}


@dataclass(frozen=True, slots=True)
class Agent:
    """A support agent; ``formal`` agents write longer, more formal replies."""

    agent_id: str
    name: str
    formal: bool


AGENTS: tuple[Agent, ...] = (
    Agent("agent-01", "Priya Raman", formal=False),
    Agent("agent-02", "Tom Becker", formal=True),
    Agent("agent-03", "Alicia Gómez", formal=False),
    Agent("agent-04", "Marcus Reed", formal=True),
    Agent("agent-05", "Chloé Martin", formal=False),
    Agent("agent-06", "Daniel Okafor", formal=False),
    Agent("agent-07", "Hannah Vogel", formal=True),
    Agent("agent-08", "Kenji Sato", formal=False),
    Agent("agent-09", "Sofia Rossi", formal=True),
    Agent("agent-10", "Liam O'Brien", formal=False),
    Agent("agent-11", "Fatima Zahra", formal=True),
    Agent("agent-12", "Noah Williams", formal=False),
)

FEATURES: tuple[str, ...] = (
    "the timeline view",
    "the Gantt chart",
    "the sprint planner",
    "time tracking",
    "recurring tasks",
    "the automations builder",
    "custom fields",
    "the workload view",
    "the reporting dashboard",
    "guest access",
    "file attachments",
    "the calendar sync",
    "the mobile app",
    "task dependencies",
    "the portfolio view",
    "board templates",
    "the comment editor",
    "notifications",
    "the search bar",
    "bulk editing",
    "the kanban board",
    "milestones",
    "the resource planner",
    "approval workflows",
)

INTEGRATIONS: tuple[str, ...] = (
    "Slack",
    "Jira",
    "GitHub",
    "Google Drive",
    "Microsoft Teams",
    "Salesforce",
    "Zapier",
    "HubSpot",
    "Outlook calendar",
    "Google Calendar",
    "GitLab",
    "Dropbox",
)

ERROR_CODES: tuple[str, ...] = (
    "ERR-4012",
    "ERR-5003",
    "NW-SYNC-22",
    "NW-EXP-107",
    "HTTP 500",
    "HTTP 502",
    "HTTP 504",
    "403 Forbidden",
    "401 Unauthorized",
    "E_TOKEN_EXPIRED",
    "SAML_RESPONSE_INVALID",
    "RATE_LIMITED (429)",
    "EXPORT_TIMEOUT",
    "WEBHOOK_DELIVERY_FAILED",
    "ERR-7734",
    "NW-AUTH-09",
)

BROWSERS: tuple[str, ...] = (
    "Chrome",
    "Firefox",
    "Safari",
    "Edge",
    "the desktop app",
    "the iOS app",
    "the Android app",
)
