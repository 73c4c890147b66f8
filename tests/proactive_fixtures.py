"""Shared builders for the proactive-support tests: customers in the store and rule contexts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tonewatch.store import Customer
from tonewatch.triggers import HistoryItem, RuleContext

NOW = datetime(2026, 5, 12, 14, 0, tzinfo=UTC)  # a Tuesday afternoon


def add_customer(session: Session, customer_id: str, **attributes: Any) -> Customer:
    row = Customer(id=customer_id, attributes=dict(attributes), created_at=NOW, updated_at=NOW)
    session.add(row)
    session.flush()
    return row


def message(
    when: datetime, category: str, *, ticket: str, score: float = -0.5, text: str | None = None, eid: str | None = None
) -> HistoryItem:
    label = "negative" if score <= -0.25 else ("positive" if score >= 0.25 else "neutral")
    return HistoryItem(
        "message",
        when,
        eid or f"m-{ticket}-{when:%m%d%H}",
        {
            "channel": "email",
            "author": "customer",
            "ticket_id": ticket,
            "category": category,
            "score": score,
            "label": label,
            "text": text or f"The {category} problem is still there.",
        },
    )


def survey(when: datetime, score: float, eid: str) -> HistoryItem:
    return HistoryItem("survey", when, eid, {"survey": "csat", "score": score, "normalized": (score - 1) / 4})


def billing_history() -> list[HistoryItem]:
    """Three billing contacts on 2, 6 and 9 May and a CSAT drop from 5 to 2 on 7 May."""
    return [
        survey(datetime(2026, 4, 20, 9, tzinfo=UTC), 5, "s1"),
        message(datetime(2026, 5, 2, 10, tzinfo=UTC), "billing", ticket="T-101", text="I was charged twice."),
        message(datetime(2026, 5, 6, 16, tzinfo=UTC), "billing", ticket="T-107", text="Still charged twice."),
        survey(datetime(2026, 5, 7, 9, tzinfo=UTC), 2, "s2"),
        message(datetime(2026, 5, 9, 11, tzinfo=UTC), "billing", ticket="T-112", text="Third time: double charge."),
    ]


def report(health: float = 38.0, band: str = "at-risk", flags: tuple[str, ...] = ("repeat_contact",)) -> dict[str, Any]:
    return {
        "customer_id": "c1",
        "health": health,
        "band": band,
        "trend": {"level": -0.3, "slope": -0.04, "declining": True},
        "signals": {"repeat_contact": {"active": True, "category": "billing", "count": 3}},
        "factors": [
            {
                "name": "repeat_contact",
                "points": -18.0,
                "reason": "3 contacts about billing in 14 days",
                "evidence": {},
            },
            {"name": "csat_drop", "points": -9.0, "reason": "CSAT 5 -> 2 on 2026-05-07", "evidence": {}},
        ],
        "flags": list(flags),
    }


def context(customer_id: str = "c1", *, as_of: datetime = NOW, **kw: Any) -> RuleContext:
    attributes: Mapping[str, Any] = kw.pop(
        "attributes",
        {"plan": "pro", "contact_name": "Dana Reyes", "renewal_date": "2026-06-30", "account_value": 24000},
    )
    kw.setdefault("report", report())
    kw.setdefault("history", billing_history())
    kw.setdefault("trigger", "sweep")
    return RuleContext(customer_id=customer_id, as_of=as_of, attributes=attributes, **kw)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
