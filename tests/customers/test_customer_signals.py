"""Each behavioural signal against its documented definition and window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from customer_builders import NOW, Story, analysis, day, polite_cue

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
    contact_key,
    quote,
)


def feed(signal, story: Story):  # type: ignore[no-untyped-def]
    for step in story.ordered():
        signal.update(*step)
    return signal


# -- contacts ---------------------------------------------------------------------------------------
def test_a_chat_burst_is_one_contact_but_separate_days_are_several() -> None:
    s = Story("c")
    for minute in range(0, 50, 5):
        s.message(day(-3) + timedelta(minutes=minute), "line", channel="chat", ticket="T1")
    s.message(day(-2), "again", channel="chat", ticket="T1")
    s.message(day(-2) + timedelta(minutes=10), "other ticket", channel="chat", ticket="T2")
    assert feed(ContactFrequency(), s).total == 3


def test_contact_spike_against_own_norm() -> None:
    s = Story("c")
    for offset in range(-200, -20, 30):  # one contact a month
        s.message(day(offset), "hello", ticket=f"old{offset}")
    for offset in (-10, -7, -4, -1):
        s.message(day(offset), "again", ticket=f"new{offset}")
    s.update_attributes(plan="pro")
    result = feed(ContactFrequency(), s).at(NOW)
    assert result.recent == 4
    history_days = (NOW - timedelta(days=14) - day(-200)).total_seconds() / 86400  # before the recent window
    assert result.typical == pytest.approx(6 / history_days * 14)
    assert result.spike


def test_no_norm_no_spike_for_a_brand_new_customer() -> None:
    s = Story("c")
    for offset in (-5, -3, -1):
        s.message(day(offset), "hi", ticket=f"t{offset}")
    result = feed(ContactFrequency(), s).at(NOW)
    assert result.typical is None
    assert not result.spike


def test_contact_key_prefers_ticket_then_conversation_then_channel() -> None:
    s = Story("c").message(day(-1), "x", ticket="T9").message(day(-1), "y", channel="chat")
    a, b = (step[0] for step in s.steps)
    assert contact_key(a) == "t:T9"
    assert contact_key(b) == "ch:chat"


# -- repeat contact -----------------------------------------------------------------------------------
def test_repeat_contact_needs_three_in_ten_days_about_one_category() -> None:
    s = Story("c")
    s.message(day(-25), "a", ticket="1", category="billing")
    s.message(day(-14), "b", ticket="2", category="billing")  # 11 days before the next: separate window
    s.message(day(-3), "c", ticket="3", category="billing")
    s.message(day(-2), "d", ticket="4", category="login/access")
    rc = feed(RepeatContact(), s)
    assert not rc.at(NOW).active
    s2 = Story("c")
    for offset in (-9, -5, -1):
        s2.message(day(offset), "billing again", ticket=f"b{offset}", category="billing")
    result = feed(RepeatContact(), s2).at(NOW)
    assert result.active
    assert result.category == "billing"
    assert result.count == 3
    assert result.counts == {"billing": 3}
    # the episode stays visible for 14 days after its last contact, then fades
    assert feed(RepeatContact(), s2).at(day(12)).active
    assert not feed(RepeatContact(), s2).at(day(14)).active


def test_other_and_uncategorised_never_repeat() -> None:
    s = Story("c")
    for offset in (-4, -3, -2, -1):
        s.message(day(offset), "misc", ticket=f"o{offset}", category="other")
        s.message(day(offset, 15), "none", ticket=f"n{offset}")
    assert not feed(RepeatContact(), s).at(NOW).active


# -- channel escalation ----------------------------------------------------------------------------------
def test_chat_email_phone_within_a_week_is_escalation() -> None:
    s = Story("c")
    s.message(day(-6), "a", channel="chat").message(day(-4), "b", channel="email").message(
        day(-1), "c", channel="phone"
    )
    result = feed(ChannelEscalation(), s).at(NOW)
    assert result.active
    assert result.channels == ["chat", "email", "phone"]
    assert not feed(ChannelEscalation(), s).at(day(14)).active


@pytest.mark.parametrize(
    ("channels", "gaps", "escalated"),
    [
        (("chat", "email", "phone"), (0, 4, 9), False),  # spread over nine days
        (("phone", "email", "chat"), (0, 1, 2), False),  # de-escalation
        (("chat", "chat", "email"), (0, 1, 2), False),  # only one step up
        (("in_app", "chat", "email", "phone"), (0, 1, 2, 3), True),
        (("chat", "phone", "email", "phone"), (0, 1, 2, 3), True),  # chat -> email -> phone, skipping a step
        (("email", "phone", "chat", "phone"), (0, 1, 2, 3), False),  # never three rising levels
        (("social", "email", "phone"), (0, 2, 6), True),
    ],
)
def test_escalation_cases(channels: tuple[str, ...], gaps: tuple[int, ...], escalated: bool) -> None:
    s = Story("c")
    for channel, gap in zip(channels, gaps, strict=True):
        s.message(day(-10 + gap), "msg", channel=channel)
    assert feed(ChannelEscalation(), s).at(day(0)).active is escalated


def test_agent_channel_changes_are_not_customer_effort() -> None:
    s = Story("c")
    s.message(day(-3), "a", channel="chat").message(day(-2), "b", channel="email", author="agent")
    s.message(day(-1), "c", channel="phone", author="agent")
    assert not feed(ChannelEscalation(), s).at(NOW).active


# -- silence ----------------------------------------------------------------------------------------------
def test_silent_after_a_negative_message() -> None:
    s = Story("c")
    s.message(day(-20), "All fine.", 0.5)
    s.message(day(-10), "I was charged twice. Fix it now.", -0.7)
    s.message(day(-9), "We refunded you.", author="agent")
    result = feed(Silence(), s).at(NOW)
    assert result.silent_after_negative
    assert result.negative_at == day(-10).timestamp()
    assert result.negative_quote == "I was charged twice."
    assert result.unanswered
    assert result.days_unanswered == pytest.approx(9 + 2 / 24)
    assert not feed(Silence(), s).at(day(-6)).silent_after_negative  # only four days so far


def test_a_positive_reply_ends_the_negative_silence() -> None:
    s = Story("c").message(day(-10), "Terrible.", -0.8).message(day(-9), "Ok now, thanks.", 0.4)
    result = feed(Silence(), s).at(NOW)
    assert not result.silent_after_negative
    assert result.negative_at is None


def test_a_low_survey_is_a_negative_interaction() -> None:
    s = Story("c").message(day(-30), "hi", 0.2).survey(day(-12), "nps", 2)
    result = feed(Silence(), s).at(NOW)
    assert result.silent_after_negative
    assert "NPS 2" in (result.negative_quote or "")


def test_gone_quiet_is_relative_to_the_customers_rhythm() -> None:
    frequent, rare = Story("f"), Story("r")
    for offset in range(-120, -40, 8):
        frequent.message(day(offset), "q", ticket=f"t{offset}")
    for offset in (-400, -250, -100):
        rare.message(day(offset), "q", ticket=f"t{offset}")
    quiet = feed(Silence(), frequent).at(NOW)
    assert quiet.gone_quiet
    assert quiet.typical_gap_days == pytest.approx(8)
    assert not feed(Silence(), rare).at(day(-40)).gone_quiet


# -- tickets and follow-ups ------------------------------------------------------------------------------
def test_open_stale_and_reopened_tickets() -> None:
    s = Story("c")
    s.ticket(day(-40), "A", "opened").ticket(day(-30), "A", "resolved").ticket(day(-10), "A", "reopened")
    s.ticket(day(-20), "B", "opened").ticket(day(-18), "B", "pending")
    s.ticket(day(-5), "C", "opened").ticket(day(-2), "C", "closed")
    result = feed(Tickets(), s).at(NOW)
    assert result.open == 2
    assert result.oldest_ticket == "B"
    assert result.oldest_age_days == pytest.approx(20 + 2 / 24, abs=0.01)
    assert result.stale
    assert result.reopened == 1
    assert result.last_reopened_ticket == "A"
    assert result.recently_reopened
    assert not feed(Tickets(), s).at(day(25)).recently_reopened


def test_a_ticket_reopened_by_pending_survives_a_state_round_trip() -> None:
    """resolved -> pending -> opened is one reopening, before and after to_state/from_state."""
    s = Story("c").ticket(day(-9), "A", "opened").ticket(day(-8), "A", "resolved")
    s.ticket(day(-6), "A", "pending")
    live = feed(Tickets(), s)
    restored = Tickets.from_state(live.to_state())
    later = Story("c").ticket(day(-3), "A", "opened")
    for signal in (live, restored):
        feed(signal, later)
    assert live.at(NOW).to_dict() == restored.at(NOW).to_dict()
    assert live.at(NOW).reopened == 1


def test_opening_a_closed_ticket_again_counts_as_a_reopening() -> None:
    s = Story("c").ticket(day(-9), "A", "opened").ticket(day(-8), "A", "closed").ticket(day(-3), "A", "opened")
    assert feed(Tickets(), s).at(NOW).reopened == 1


def test_follow_ups_count_chasers_until_resolution() -> None:
    s = Story("c")
    s.message(day(-10), "Invoice wrong.", ticket="T")
    s.message(day(-10) + timedelta(minutes=5), "Attached the PDF.", ticket="T")  # same burst
    s.message(day(-6), "Any news?", ticket="T")
    s.message(day(-3), "Please advise.", ticket="T")
    fu = feed(FollowUps(), s)
    result = fu.at(NOW)
    assert result.ticket == "T"
    assert result.follow_ups == 2
    assert result.chasing
    assert result.quote == "Please advise."
    s.ticket(day(-1), "T", "resolved")
    assert feed(FollowUps(), s).at(NOW).follow_ups == 0


# -- surveys, usage, urgency ---------------------------------------------------------------------------
def test_nps_eight_to_five_is_a_drop() -> None:
    s = Story("c").survey(day(-120), "nps", 8).survey(day(-60), "nps", 8).survey(day(-5), "nps", 5)
    result = feed(SurveyTrend(), s).at(NOW)
    assert result.latest == pytest.approx(0.5)
    assert result.previous == pytest.approx(0.8)
    assert result.drop == pytest.approx(0.3)
    assert result.dropped
    assert result.previous_labels == ("NPS 8", "NPS 8")
    assert not feed(SurveyTrend(), s).at(day(100)).dropped  # latest no longer recent


def test_csat_and_nps_share_one_scale() -> None:
    s = Story("c").survey(day(-30), "csat", 5).survey(day(-2), "nps", 3)
    result = feed(SurveyTrend(), s).at(NOW)
    assert result.previous == pytest.approx(1.0)
    assert result.latest == pytest.approx(0.3)
    assert result.dropped


def test_usage_down_eighty_percent() -> None:
    s = Story("c")
    for offset in range(-100, 0):
        s.usage(day(offset), "logins", 10 if offset < -14 else 2)
        s.usage(day(offset, 11), "seats", 5)
    u = feed(UsageDecline(), s)
    result = u.at(day(-1))
    assert result.declined
    assert result.worst is not None
    assert result.worst.metric == "logins"
    assert result.worst.change == pytest.approx(-0.8)
    assert result.worst.n_recent == 14
    seats = next(m for m in result.metrics if m.metric == "seats")
    assert seats.change == pytest.approx(0.0)


def test_usage_windows_move_with_as_of() -> None:
    s = Story("c")
    for offset in range(-60, -30):
        s.usage(day(offset), "logins", 10)
    u = feed(UsageDecline(), s)
    assert u.at(day(-31)).worst is not None
    assert u.at(day(-31)).worst.change == pytest.approx(0.0)
    later = u.at(NOW)  # nothing reported in the last 14 days: no recent mean, no verdict
    assert later.worst is None
    assert not later.declined
    logins = later.metrics[0]
    assert logins.recent is None
    assert logins.n_baseline == 30


def test_urgency_and_polite_escalation_windows() -> None:
    text = "This is outstanding for 14 business days. Please advise."
    s = Story("c")
    s.message(day(-40), text, -0.2, urgency="high", cues=[polite_cue("Please advise", text)])
    s.message(day(-10), text, -0.2, urgency="high", cues=[polite_cue("Please advise", text)])
    result = feed(UrgencySignal(), s).at(NOW)
    assert result.urgent == 1
    assert result.polite == 1
    assert result.last_polite is not None
    assert result.last_polite[1] == "Please advise"
    assert result.last_polite[2] == "Please advise."


def test_negative_messages_keep_the_worst_quote() -> None:
    s = Story("c").message(day(-20), "Meh. Broken again!", -0.4).message(day(-3), "Awful service.", -0.9)
    s.message(day(-2), "ok", 0.1)
    result = feed(NegativeMessages(), s).at(NOW)
    assert result.count == 2
    assert result.worst is not None
    assert result.worst[2] == "Awful service."


# -- account facts --------------------------------------------------------------------------------------
def test_renewal_tenure_and_outcomes() -> None:
    s = Story("c").update_attributes(renewal_date=day(30).date().isoformat(), signup_date="2025-06-01")
    s.outcome(day(-400), "renewed").outcome(day(-50), "expanded").outcome(day(-20), "downgraded")
    renewal = feed(Renewal(), s).at(NOW)
    assert renewal.days == 30
    assert renewal.soon
    assert not feed(Renewal(), s).at(day(-40)).soon
    tenure = feed(Tenure(), s).at(NOW)
    assert tenure.since == "2025-06-01"
    assert not tenure.new
    outcomes = feed(Outcomes(), s).at(NOW)
    assert outcomes.renewals == 2
    assert outcomes.downgraded
    assert not outcomes.churned
    s.outcome(day(-1), "churned")
    assert feed(Outcomes(), s).at(NOW).churned


def test_quote_is_short_and_single_line() -> None:
    long_text = "word " * 60
    q = quote(long_text, analysis(-0.5, long_text))
    assert len(q) <= 80
    assert "\n" not in q
    assert q.endswith("…")
