"""The acceptance stories of issue 3, as event histories anyone can replay.

Each function returns a ``Story`` (events + the analyses and categories the pipeline would
attach). ``test_customer_stories.py`` reads them through ``CustomerState``; the same stories can be
written out with ``Story.to_jsonl()`` and run through the full ingest pipeline.
"""

from __future__ import annotations

from customer_builders import Story, day, polite_cue

__all__ = [
    "billing_repeat_contact",
    "channel_escalation",
    "chronic_complainer",
    "declining_customer",
    "new_customer_turning_negative",
    "polite_b2b",
    "silent_churner",
    "stable_customer",
]


def declining_customer() -> Story:
    """Positive three months ago, neutral last month, mildly negative this week."""
    s = Story("declining", {"plan": "pro", "signup_date": "2024-03-01", "renewal_date": "2027-03-01", "segment": "smb"})
    s.message(day(-95), "Love the new dashboard, thanks team!", 0.7, category="how-to")
    s.message(day(-88), "Great support as always.", 0.65, category="how-to")
    s.message(day(-80), "Works perfectly now, thank you.", 0.75, category="how-to")
    s.message(day(-35), "The export is a bit slow lately.", 0.05, category="performance")
    s.message(day(-28), "Any update on the export speed?", 0.0, category="performance")
    s.message(day(-5), "Export still slow, this is getting annoying.", -0.3, category="performance")
    s.message(day(-3), "Honestly a bit disappointed with how long this takes.", -0.35, category="performance")
    return s


def stable_customer() -> Story:
    """Same plan and tenure as the declining customer; content every fortnight."""
    s = Story("stable", {"plan": "pro", "signup_date": "2024-03-01", "renewal_date": "2027-03-01", "segment": "smb"})
    for k, offset in enumerate(range(-95, 0, 14)):
        s.message(day(offset), "Thanks, all good on our side.", 0.55 + 0.05 * (-1) ** k, category="how-to")
    return s


def chronic_complainer() -> Story:
    """Two years of negative messages every three weeks, and two renewals."""
    s = Story("chronic", {"plan": "team", "signup_date": "2024-04-15", "renewal_date": "2027-04-15"})
    wobble = (0.0, 0.05, -0.05)
    for k, offset in enumerate(range(-730, -1, 21)):
        s.message(
            day(offset), "This is broken again, the invoices never add up.", -0.5 + wobble[k % 3], category="billing"
        )
    s.outcome(day(-412), "renewed")
    s.outcome(day(-47), "renewed")
    return s


def new_customer_turning_negative() -> Story:
    """Signed up three weeks ago; both first messages are negative."""
    s = Story("newcomer", {"plan": "team", "signup_date": day(-22).date().isoformat(), "renewal_date": "2027-05-10"})
    s.message(day(-12), "Setup was confusing and nothing syncs.", -0.55, category="how-to")
    s.message(day(-4), "Still not working, really frustrating start.", -0.7, category="bug")
    return s


def silent_churner() -> Story:
    """No complaints, logins down 80%, silent for 45 days, renewal in 30 days."""
    s = Story("silent", {"plan": "pro", "signup_date": "2024-12-01", "renewal_date": day(30).date().isoformat()})
    for offset in range(-155, -44, 10):
        s.message(day(offset), "Quick question about the CSV export.", 0.3, channel="chat", category="how-to")
    for offset in range(-150, 0, 3):
        s.usage(day(offset, 8), "logins", 20 if offset < -14 else 4)
    return s


def polite_b2b() -> Story:
    """'Please advise ... outstanding for 14 business days', three follow-ups on one ticket."""
    s = Story(
        "b2b",
        {
            "plan": "enterprise",
            "segment": "enterprise",
            "signup_date": "2025-09-01",
            "renewal_date": "2026-11-01",
            "account_value": 120000,
        },
    )
    s.ticket(day(-20, 9), "T-88", "opened", "Invoice discrepancy")
    first = "Hello, we noticed a discrepancy on invoice 4411. Could you take a look?"
    s.message(day(-20), first, -0.1, ticket="T-88", category="billing", urgency="medium")
    s.message(day(-19), "Thanks for flagging, we are looking into it.", author="agent", ticket="T-88")
    chasers = (
        (-13, "Following up on the invoice discrepancy. Please advise."),
        (-7, "As per my previous emails, this has been outstanding for 14 business days. Please advise."),
        (-2, "Kindly escalate: the invoice remains outstanding for 14 business days. Please advise."),
    )
    for offset, text in chasers:
        s.message(
            day(offset),
            text,
            -0.2,
            ticket="T-88",
            category="billing",
            urgency="high",
            cues=[polite_cue("Please advise", text)],
        )
    return s


def billing_repeat_contact() -> Story:
    """Three contacts about the same billing issue within ten days (different tickets and channels)."""
    s = Story("repeat", {"plan": "pro", "signup_date": "2025-01-10"})
    s.message(day(-9), "I was charged twice this month.", -0.4, channel="email", ticket="B-1", category="billing")
    s.message(
        day(-5), "The double charge is still on my card.", -0.45, channel="chat", ticket="B-2", category="billing"
    )
    s.message(
        day(-1),
        "Third time asking about the duplicate charge.",
        -0.5,
        channel="email",
        ticket="B-3",
        category="billing",
    )
    return s


def channel_escalation() -> Story:
    """Chat, then email, then phone within a week."""
    s = Story("escalator", {"plan": "pro", "signup_date": "2025-01-10"})
    s.message(day(-6), "Hi, my dashboard will not load.", -0.1, channel="chat", ticket="D-1", category="bug")
    s.message(day(-4), "Writing by email since chat did not help.", -0.3, channel="email", ticket="D-1", category="bug")
    s.message(day(-1), "Called in: still down.", -0.4, channel="phone", ticket="D-1", category="bug")
    return s
