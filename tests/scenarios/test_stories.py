"""The six acceptance stories of the customer-health issue, through the whole pipeline.

Texts are unambiguous on purpose (clearly warm, clearly neutral, clearly unhappy) so the
stories test the pipeline and the health logic, not the edge of the sentiment model.
"""

from __future__ import annotations

from typing import Any

from conftest import Story, signup

WARM = [
    "Thank you so much, the new reporting dashboard is fantastic and your team is wonderful!",
    "I love the latest update, everything works perfectly. Great job, thanks!",
    "Brilliant support as always, thank you for the quick and friendly help!",
]
NEUTRAL = [
    "Could you tell me how to export the monthly report to CSV?",
    "Where can I change the email address used for notifications?",
    "Which plan includes the API access? We are reviewing our options.",
]
MILDLY_NEGATIVE = [
    "The export has been a bit disappointing lately, it keeps timing out.",
    "Honestly I am not very happy with how slow the dashboard has become.",
    "It is frustrating that the sync failed again this week.",
]
ANGRY = [
    "This is unacceptable. The app crashed again and I lost my work. I am really angry.",
    "Terrible service, nothing works and nobody answers. I am fed up with this.",
]


def test_the_declining_customer_is_flagged_and_ranks_below_a_stable_one(tell: Any) -> None:
    """Warm three months ago, neutral last month, mildly negative this week: no single alarming
    message, but a trajectory heading down."""
    story = Story()
    for cid in ("declining", "stable"):
        story.customer(cid, plan="pro", segment="smb", signup_date=signup(2))
    for i, days in enumerate((95, 88, 81)):
        story.says("declining", days, WARM[i])
    for i, days in enumerate((35, 28, 21)):
        story.says("declining", days, NEUTRAL[i])
    for i, days in enumerate((6, 4, 2)):
        story.says("declining", days, MILDLY_NEGATIVE[i])
    for i, days in enumerate((95, 81, 67, 53, 39, 25, 11, 4)):
        story.says("stable", days, WARM[i % 3] if i % 2 else NEUTRAL[i % 3])
    told = tell(story)
    assert "declining" in told.flags("declining")
    assert "declining" not in told.flags("stable")
    assert told.health("declining") < told.health("stable")
    assert told.ranking().index("declining") < told.ranking().index("stable")


def test_the_chronic_complainer_who_renews_is_healthier_than_a_new_customer_turning_negative(tell: Any) -> None:
    """Two years of grumbling and two renewals is a known pattern; a new customer's first two
    messages turning negative is an emergency."""
    story = Story()
    story.customer("grumbler", plan="pro", signup_date=signup(2), renewal_date=story.day(330))
    for month in range(24):
        story.says("grumbler", 720 - month * 30, MILDLY_NEGATIVE[month % 3])
    story.outcome("grumbler", 365, "renewed").outcome("grumbler", 2, "renewed")
    story.customer("newcomer", plan="pro", signup_date=signup(30 / 365), renewal_date=story.day(335))
    story.says("newcomer", 12, ANGRY[0]).says("newcomer", 3, ANGRY[1])
    told = tell(story)
    assert told.health("grumbler") > told.health("newcomer")
    assert told.ranking()[0] == "newcomer"


def test_the_silent_churner_is_at_risk_from_behaviour_alone(tell: Any) -> None:
    """Never complains, logins down 80%, silent for 45 days, renewal in 30 days."""
    story = Story()
    story.customer("quiet", plan="business", signup_date=signup(2), renewal_date=story.day(30))
    for day in range(180, 14, -7):
        story.usage("quiet", day, "logins", 50)
    for day in (13, 6):
        story.usage("quiet", day, "logins", 10)  # down 80%
    for i, day in enumerate(range(165, 44, -10)):
        story.says("quiet", day, NEUTRAL[i % 3])  # used to write every ten days; silent for the last 45
    told = tell(story)
    assert told["quiet"]["band"] in {"at-risk", "critical"}
    assert "usage_decline" in told.flags("quiet")
    assert "renewal_soon" in told.flags("quiet")
    factors = told.factors("quiet")
    words = sum(p for name, p in factors.items() if name in {"negative_sentiment", "sentiment_drop", "declining"})
    assert words > -2  # their (neutral) words played no real part...
    assert told.health("quiet") - words < 50  # ...behaviour alone puts them at risk
    assert factors["usage_decline"] < 0


def test_the_polite_b2b_customer_chasing_an_old_ticket_is_critical(tell: Any) -> None:
    """Courteous words, serious situation: a ticket outstanding for 14 business days and three follow-ups."""
    story = Story()
    story.customer("acme", plan="enterprise", segment="enterprise", signup_date=signup(3), account_value=120000)
    story.ticket("acme", 22, "T-4411", "opened", "Data export stuck")
    story.says("acme", 22, "Hello, our nightly data export has been stuck since Monday. Kind regards.", ticket="T-4411")
    story.agent("acme", 21, "Thank you, we are looking into it.", ticket="T-4411")
    story.says(
        "acme",
        14,
        "Please advise on the status of this request, which has been outstanding for 14 business days.",
        ticket="T-4411",
    )
    story.says(
        "acme", 8, "Following up on my previous message. Please advise when we can expect a fix.", ticket="T-4411"
    )
    story.says(
        "acme",
        2,
        "Kindly provide an update; this remains unresolved and is now affecting our reporting.",
        ticket="T-4411",
    )
    told = tell(story)
    assert told["acme"]["band"] == "critical"
    assert {"follow_ups", "polite_escalation"} & set(told.flags("acme"))


def test_three_contacts_about_the_same_billing_issue_in_ten_days_raise_repeat_contact(tell: Any) -> None:
    story = Story()
    story.customer("payer", plan="pro", signup_date=signup(1))
    story.says("payer", 9, "I was charged twice on my invoice this month, please refund the duplicate payment.")
    story.says("payer", 5, "Again about the double charge on my invoice: the billing is still wrong.")
    story.says("payer", 1, "Third time writing about the duplicate invoice charge. When will the refund arrive?")
    story.customer("other", plan="pro", signup_date=signup(1))
    story.says("other", 9, NEUTRAL[0]).says("other", 1, WARM[0])
    told = tell(story)
    assert "repeat_contact" in told.flags("payer")
    assert "repeat_contact" not in told.flags("other")
    assert told["payer"]["signals"]["repeat_contact"]["count"] >= 3


def test_chat_then_email_then_phone_in_a_week_raises_channel_escalation(tell: Any) -> None:
    story = Story()
    story.customer("escalator", plan="pro", signup_date=signup(1))
    story.says("escalator", 6, "Hi, the sync stopped working this morning, can you help?", channel="chat")
    story.says("escalator", 4, "Writing by email as the chat did not solve the sync problem.", channel="email")
    story.says("escalator", 1, "Calling because the sync is still broken after two days.", channel="phone")
    story.customer("chatty", plan="pro", signup_date=signup(1))
    for days in (6, 4, 1):
        story.says("chatty", days, NEUTRAL[days % 3], channel="chat")
    told = tell(story)
    assert "channel_escalation" in told.flags("escalator")
    assert "channel_escalation" not in told.flags("chatty")
