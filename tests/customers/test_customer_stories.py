"""The acceptance stories of issue 3, read as of NOW through ``CustomerState.report``.

Each story is built from v1 events and hand-made analyses (``customer_stories.py``); the
assertions are what a support lead would expect to see on the dashboard.
"""

from __future__ import annotations

import json

import customer_stories as stories
from customer_builders import NOW, day

from tonewatch.health import CustomerState, HealthReport


def report_of(story_fn, **kwargs) -> HealthReport:  # type: ignore[no-untyped-def]
    return story_fn().state().report(NOW, **kwargs)


def factor(report: HealthReport, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in report.factors if f.name == name)


def test_declining_customer_is_flagged_and_ranks_below_a_stable_one() -> None:
    declining = report_of(stories.declining_customer)
    stable = report_of(stories.stable_customer)

    assert declining.trend.declining
    assert "declining" in declining.flags
    assert declining.trend.slope is not None
    assert declining.trend.slope.slope < 0
    assert not stable.trend.declining
    assert "declining" not in stable.flags
    assert stable.band == "healthy"
    assert declining.health < stable.health - 15
    # no single message crossed an alarm level: the worst one is only mildly negative
    assert min(step[1].score for step in stories.declining_customer().steps if step[1]) > -0.4
    # the reason names the evidence: when the fall happened
    reason = factor(declining, "declining").reason
    assert "slope" in reason or "change detector" in reason


def test_declining_customer_was_not_declining_a_month_ago() -> None:
    """As-of reads: replaying the history up to five weeks ago shows a happy customer."""
    then = day(-40)
    past = stories.declining_customer().state(until=then).report(then)
    assert not past.trend.declining
    assert past.band == "healthy"


def test_chronic_complainer_with_renewals_ranks_healthier_than_a_new_customer_turning_negative() -> None:
    chronic = report_of(stories.chronic_complainer)
    newcomer = report_of(stories.new_customer_turning_negative)

    assert not chronic.trend.declining, chronic.trend.reasons
    assert chronic.trend.level is not None
    assert chronic.trend.level < -0.4
    assert {f.name for f in chronic.factors} >= {"negative_sentiment", "renewals", "tenure"}
    assert factor(chronic, "renewals").points > 0  # ...but renews
    assert chronic.health > newcomer.health + 10
    assert newcomer.band in ("at-risk", "critical")
    assert "new_customer" in newcomer.flags
    assert chronic.band in ("healthy", "watch")


def test_silent_churner_is_at_risk_from_behaviour_alone() -> None:
    report = report_of(stories.silent_churner)

    assert report.band == "at-risk"
    assert {"usage_decline", "gone_quiet", "renewal_soon"} <= set(report.flags)
    assert not report.trend.declining
    # behaviour alone: no negative sentiment factor is involved
    negative = [f for f in report.factors if f.points < 0]
    assert {f.name for f in negative} <= {"usage_decline", "gone_quiet", "renewal_soon", "unanswered_reply"}
    usage = factor(report, "usage_decline")
    assert "logins down 80%" in usage.reason
    silence = report.reading.silence
    assert silence.days_silent is not None
    assert silence.days_silent >= 45
    assert report.reading.renewal.days == 30


def test_polite_b2b_customer_is_critical() -> None:
    report = report_of(stories.polite_b2b)

    assert report.band == "critical"
    assert {"polite_escalation", "follow_ups", "urgent"} <= set(report.flags)
    assert report.reading.follow_ups.follow_ups == 3
    polite = factor(report, "polite_escalation")
    assert "Please advise" in polite.reason
    assert polite.evidence["cue"] == "Please advise"
    # sentiment alone would never have made this customer critical
    assert report.trend.level is not None
    assert report.trend.level > -0.3


def test_three_billing_contacts_in_ten_days_raise_repeat_contact() -> None:
    report = report_of(stories.billing_repeat_contact)

    assert "repeat_contact" in report.flags
    f = factor(report, "repeat_contact")
    assert f.evidence["category"] == "billing"
    assert f.evidence["count"] == 3
    assert f.reason == f"3 contacts about billing between {day(-9).date()} and {day(-1).date()}"
    assert f.points < 0


def test_two_billing_contacts_do_not() -> None:
    story = stories.billing_repeat_contact()
    story.steps.pop()  # drop the third contact
    assert "repeat_contact" not in story.state().report(NOW).flags


def test_chat_email_phone_in_a_week_raises_channel_escalation() -> None:
    report = report_of(stories.channel_escalation)

    assert "channel_escalation" in report.flags
    assert report.reading.channels.channels == ["chat", "email", "phone"]
    assert "chat" in factor(report, "channel_escalation").reason


def test_ranking_of_all_stories_by_risk() -> None:
    reports = [
        report_of(fn)
        for fn in (
            stories.stable_customer,
            stories.chronic_complainer,
            stories.declining_customer,
            stories.silent_churner,
            stories.polite_b2b,
        )
    ]
    ranked = [r.customer_id for r in sorted(reports, key=lambda r: r.risk, reverse=True)]
    assert ranked[0] == "b2b"
    assert ranked[-1] == "stable"
    assert ranked.index("declining") < ranked.index("chronic")


def test_story_reports_serialise_and_replay_identically() -> None:
    for fn in (stories.polite_b2b, stories.silent_churner, stories.declining_customer):
        state = fn().state()
        again = CustomerState.from_state(json.loads(json.dumps(state.to_state())))
        assert again.report(NOW).to_dict() == state.report(NOW).to_dict()
        payload = json.dumps(state.report(NOW).to_dict(), allow_nan=False)
        assert set(json.loads(payload)) == {"customer_id", "health", "band", "trend", "signals", "factors", "flags"}


def test_stories_export_as_v1_event_lines() -> None:
    from tonewatch.ingest.events import parse_event_json

    lines = stories.polite_b2b().to_jsonl().splitlines()
    events = [parse_event_json(line, line=i) for i, line in enumerate(lines, 1)]
    assert events[0].kind == "customer"
    assert sum(1 for e in events if e.kind == "message") == 5
