"""Stories: a few customers' histories written relative to "now", run through the whole pipeline.

Each scenario builds its events with :class:`Story`, ingests them with the real bundled
analyzer into a real SQLite store, and reads the health reports as of the story's "now".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tonewatch.ingest import Pipeline
from tonewatch.ingest._history import reports_as_of
from tonewatch.settings import Settings
from tonewatch.store import Store

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Story:
    """A readable way to write histories: ``story.says("c1", days_ago=3, text="...")``."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now
        self.events: list[dict[str, Any]] = []
        self._n = 0

    def _id(self) -> str:
        self._n += 1
        return f"e{self._n}"

    def _ts(self, days_ago: float) -> str:
        return (self.now - timedelta(days=days_ago)).isoformat()

    def day(self, days_from_now: float) -> str:
        """An ISO date relative to now (attributes such as renewal_date)."""
        return (self.now + timedelta(days=days_from_now)).date().isoformat()

    def customer(self, cid: str, **attributes: Any) -> Story:
        self.events.append({"kind": "customer", "customer_id": cid, "attributes": attributes})
        return self

    def says(self, cid: str, days_ago: float, text: str, *, channel: str = "email", ticket: str | None = None) -> Story:
        event = {
            "kind": "message",
            "event_id": self._id(),
            "customer_id": cid,
            "timestamp": self._ts(days_ago),
            "channel": channel,
            "author": "customer",
            "text": text,
        }
        if ticket:
            event["ticket_id"] = ticket
        self.events.append(event)
        return self

    def agent(
        self, cid: str, days_ago: float, text: str, *, channel: str = "email", ticket: str | None = None
    ) -> Story:
        self.says(cid, days_ago, text, channel=channel, ticket=ticket)
        self.events[-1]["author"] = "agent"
        return self

    def ticket(self, cid: str, days_ago: float, ticket: str, status: str, subject: str | None = None) -> Story:
        event = {
            "kind": "ticket",
            "event_id": self._id(),
            "customer_id": cid,
            "timestamp": self._ts(days_ago),
            "ticket_id": ticket,
            "status": status,
        }
        if subject:
            event["subject"] = subject
        self.events.append(event)
        return self

    def usage(self, cid: str, days_ago: float, metric: str, value: float) -> Story:
        self.events.append(
            {
                "kind": "usage",
                "event_id": self._id(),
                "customer_id": cid,
                "timestamp": self._ts(days_ago),
                "metric": metric,
                "value": value,
            }
        )
        return self

    def outcome(self, cid: str, days_ago: float, outcome: str) -> Story:
        self.events.append(
            {
                "kind": "outcome",
                "event_id": self._id(),
                "customer_id": cid,
                "timestamp": self._ts(days_ago),
                "outcome": outcome,
            }
        )
        return self


class Told:
    """The reports after a story was ingested."""

    def __init__(self, reports: dict[str, dict[str, Any]]) -> None:
        self.reports = reports

    def __getitem__(self, cid: str) -> dict[str, Any]:
        return self.reports[cid]

    def health(self, cid: str) -> float:
        return float(self.reports[cid]["health"])

    def flags(self, cid: str) -> list[str]:
        return list(self.reports[cid]["flags"])

    def factors(self, cid: str) -> dict[str, float]:
        return {f["name"]: f["points"] for f in self.reports[cid]["factors"]}

    def ranking(self) -> list[str]:
        """Customer ids, most at risk first (as ``tonewatch health`` lists them)."""
        return sorted(self.reports, key=lambda c: (self.reports[c]["health"], c))


@pytest.fixture
def tell(tmp_path: Path) -> Iterator[Any]:
    """``tell(story)`` ingests the story and returns the reports as of its "now"."""
    from tonewatch.score import get_analyzer

    store = Store(f"sqlite:///{tmp_path / 'story.db'}")
    store.create_all()

    def run(story: Story) -> Told:
        pipeline = Pipeline(store, get_analyzer(Settings()), Settings(home=tmp_path / "home"))
        report = pipeline.ingest(story.events)
        assert report.rejected == [], report.rejected
        with store.session(readonly=True) as session:
            found = reports_as_of(session, pipeline.model, story.now)
        return Told({r.customer_id: r.report.to_dict() for r in found})

    yield run
    store.dispose()


def signup(years_ago: float) -> str:
    return (date(NOW.year, NOW.month, NOW.day) - timedelta(days=round(365 * years_ago))).isoformat()
