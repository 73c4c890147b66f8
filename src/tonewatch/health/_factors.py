"""From what the trajectory and signals read as of a time to factor values, reasons and flags.

Every factor is a number (mostly 0..1, see ``HealthWeights`` for the scale of each), a one-line
reason a support lead can read, and evidence (dates, counts, quotes of the masked text).
Flags are the named conditions triggers and dashboards filter on; a flag is raised by a
signal's own definition, so flags do not depend on the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tonewatch.signals import (
    ChannelEscalationResult,
    ContactFrequencyResult,
    FollowUpsResult,
    NegativeMessagesResult,
    OutcomesResult,
    RenewalResult,
    RepeatContactResult,
    SilenceResult,
    SurveyResult,
    TenureResult,
    TicketResult,
    UrgencyResult,
    UsageResult,
)
from tonewatch.trajectory import Trend, iso_date

__all__ = ["FLAGS", "Draft", "Reading", "draft_factors", "flags_of"]

# Every flag a report can carry, in display order.
FLAGS: tuple[str, ...] = (
    "churned",
    "declining",
    "polite_escalation",
    "urgent",
    "follow_ups",
    "repeat_contact",
    "channel_escalation",
    "contact_spike",
    "silent_after_negative",
    "unanswered_reply",
    "gone_quiet",
    "usage_decline",
    "csat_drop",
    "low_survey",
    "reopened_ticket",
    "stale_ticket",
    "downgraded",
    "renewal_soon",
    "new_customer",
)

_SIGNIFICANT_T = 2.0


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything the trajectory and the signals say as of one time."""

    trend: Trend
    contacts: ContactFrequencyResult
    repeat: RepeatContactResult
    channels: ChannelEscalationResult
    silence: SilenceResult
    negative: NegativeMessagesResult
    tickets: TicketResult
    follow_ups: FollowUpsResult
    surveys: SurveyResult
    usage: UsageResult
    urgency: UrgencyResult
    renewal: RenewalResult
    tenure: TenureResult
    outcomes: OutcomesResult

    def signals(self) -> dict[str, dict[str, Any]]:
        """The ``signals`` object of a health report."""
        return {
            "sentiment": self.trend.details(),
            "contact_frequency": self.contacts.to_dict(),
            "repeat_contact": self.repeat.to_dict(),
            "channel_escalation": self.channels.to_dict(),
            "silence": self.silence.to_dict(),
            "negative_messages": self.negative.to_dict(),
            "tickets": self.tickets.to_dict(),
            "follow_ups": self.follow_ups.to_dict(),
            "surveys": self.surveys.to_dict(),
            "usage": self.usage.to_dict(),
            "urgency": self.urgency.to_dict(),
            "renewal": self.renewal.to_dict(),
            "tenure": self.tenure.to_dict(),
            "outcomes": self.outcomes.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Draft:
    """One factor before weighting: its value, reason and evidence."""

    name: str
    value: float
    reason: str
    evidence: dict[str, Any]


def _d(ts: float | None) -> str:
    return "?" if ts is None else iso_date(ts)


def _clip01(x: float) -> float:
    return 0.0 if x <= 0 else (1.0 if x >= 1 else x)


def _sentiment(r: Reading) -> list[Draft]:
    t = r.trend
    if t.level is None or t.last_scored is None:
        return []
    out: list[Draft] = []
    last = iso_date(t.last_scored.timestamp())
    ev: dict[str, Any] = {"level": round(t.level, 3), "messages": t.n, "last_message": last}
    if t.freshness < 0.999:
        ev["freshness"] = round(t.freshness, 3)
    worst = r.negative.worst
    if t.level < 0:
        reason = f"sentiment level {t.level:+.2f} over {t.n} messages (last {last})"
        if worst is not None:
            reason += f'; worst recent, {iso_date(worst[0])}: "{worst[2]}"'
            ev["worst"] = {"date": iso_date(worst[0]), "score": round(worst[1], 3), "quote": worst[2]}
            ev["negative_messages_30d"] = r.negative.count
        out.append(Draft("negative_sentiment", _clip01(-t.level) * t.freshness, reason, ev))
    elif t.level > 0:
        reason = f"sentiment level {t.level:+.2f} over {t.n} messages (last {last})"
        out.append(Draft("positive_sentiment", _clip01(t.level) * t.freshness, reason, ev))
    fit = t.slope
    fall = -fit.change if fit is not None and fit.t_stat <= -_SIGNIFICANT_T and fit.change < 0 else 0.0
    drop = max(t.drop, fall)
    if drop > 0:
        if fall >= t.drop and fit is not None:
            reason = (
                f"sentiment fell {fall:.2f} between {iso_date(fit.first.timestamp())} and "
                f"{iso_date(fit.last.timestamp())} ({fit.slope:+.2f}/week over {fit.n} messages)"
            )
            evd: dict[str, Any] = {"fall": round(fall, 3), **fit.to_dict()}
        else:
            ref = t.reference if t.reference is not None else 0.0
            own = t.baseline if t.baseline is not None else ref
            peers = "segment" if t.segment_baseline is not None else "neutral"
            reason = (
                f"sentiment {t.level:+.2f} is {t.drop:.2f} below its reference {ref:+.2f} "
                f"(own baseline {own:+.2f} over {t.n} messages, shrunk toward the {peers} baseline)"
                if abs(ref - own) >= 0.05
                else f"sentiment {t.level:+.2f} is {t.drop:.2f} below the customer's baseline {ref:+.2f}"
            )
            evd = {"level": round(t.level, 3), "reference": round(ref, 3), "baseline": t.details()["baseline"]}
        out.append(Draft("sentiment_drop", _clip01(drop) * t.freshness, reason, evd))
    if t.declining:
        out.append(Draft("declining", 1.0, "declining: " + "; ".join(t.reasons), {"reasons": list(t.reasons)}))
    return out


def _contacts(r: Reading) -> list[Draft]:
    out: list[Draft] = []
    c = r.contacts
    if c.spike and c.ratio is not None and c.typical is not None:
        out.append(
            Draft(
                "contact_spike",
                _clip01((c.ratio - 1.0) / 4.0),
                f"{c.recent} contacts in the last {c.window_days:g} days vs a typical {c.typical:.1f}",
                {"recent": c.recent, "typical": round(c.typical, 2), "ratio": round(c.ratio, 2)},
            )
        )
    rc = r.repeat
    if rc.active:
        out.append(
            Draft(
                "repeat_contact",
                1.0,
                f"{rc.count} contacts about {rc.category} between {_d(rc.first)} and {_d(rc.last)}",
                {"category": rc.category, "count": rc.count, "first": _d(rc.first), "last": _d(rc.last)},
            )
        )
    ch = r.channels
    if ch.active:
        steps = " -> ".join(f"{c} ({iso_date(t)})" for t, c in ch.chain)
        out.append(Draft("channel_escalation", 1.0, f"moved to higher-effort channels: {steps}", ch.to_dict()))
    return out


def _silence(r: Reading) -> list[Draft]:
    out: list[Draft] = []
    s = r.silence
    days = s.days_silent or 0.0
    if s.silent_after_negative and s.negative_at is not None:
        reply = "" if s.agent_reply_at is None else f", agent replied {iso_date(s.agent_reply_at)}"
        out.append(
            Draft(
                "silent_after_negative",
                _clip01(days / 21.0),
                f"silent {days:.0f} days since a negative message on {iso_date(s.negative_at)}{reply}: "
                f'"{s.negative_quote}"',
                {"days": round(days, 1), "date": iso_date(s.negative_at), "quote": s.negative_quote},
            )
        )
    if s.unanswered and s.agent_reply_at is not None and s.days_unanswered is not None:
        out.append(
            Draft(
                "unanswered_reply",
                _clip01(s.days_unanswered / 30.0),
                f"agent reply of {iso_date(s.agent_reply_at)} unanswered for {s.days_unanswered:.0f} days",
                {"date": iso_date(s.agent_reply_at), "days": round(s.days_unanswered, 1)},
            )
        )
    if s.gone_quiet and s.quiet_ratio is not None and s.typical_gap_days is not None:
        out.append(
            Draft(
                "gone_quiet",
                _clip01((s.quiet_ratio - 1.0) / 5.0),
                f"no contact for {days:.0f} days (since {_d(s.last_interaction)}), "
                f"{s.quiet_ratio:.1f}x their usual gap of {s.typical_gap_days:.0f} days",
                {
                    "days": round(days, 1),
                    "since": _d(s.last_interaction),
                    "typical_gap_days": round(s.typical_gap_days, 1),
                    "contacts": s.contacts,
                },
            )
        )
    return out


def _tickets(r: Reading) -> list[Draft]:
    out: list[Draft] = []
    tk = r.tickets
    if tk.oldest_age_days is not None and tk.oldest_age_days >= 7:
        out.append(
            Draft(
                "open_ticket_age",
                _clip01(tk.oldest_age_days / 30.0),
                f"ticket {tk.oldest_ticket} open for {tk.oldest_age_days:.0f} days (since {_d(tk.oldest_opened)}); "
                f"{tk.open} open in all",
                {"ticket": tk.oldest_ticket, "days": round(tk.oldest_age_days, 1), "open": tk.open},
            )
        )
    if tk.reopened:
        out.append(
            Draft(
                "reopened_tickets",
                _clip01(tk.reopened / 2.0),
                f"{tk.reopened} ticket reopening(s) in 90 days, "
                f"last {tk.last_reopened_ticket} on {_d(tk.last_reopened)}",
                {"count": tk.reopened, "ticket": tk.last_reopened_ticket, "date": _d(tk.last_reopened)},
            )
        )
    fu = r.follow_ups
    if fu.follow_ups >= 1:
        out.append(
            Draft(
                "follow_ups",
                _clip01(fu.follow_ups / 3.0),
                f"{fu.follow_ups} follow-up(s) on unresolved ticket {fu.ticket} between {_d(fu.first)} and "
                f'{_d(fu.last)}: "{fu.quote}"',
                {"ticket": fu.ticket, "count": fu.follow_ups, "first": _d(fu.first), "last": _d(fu.last)},
            )
        )
    return out


def _urgency(r: Reading) -> list[Draft]:
    out: list[Draft] = []
    u = r.urgency
    if u.urgent and u.last_urgent is not None:
        t, _, q = u.last_urgent
        out.append(
            Draft(
                "urgency",
                _clip01(u.urgent / 2.0),
                f'{u.urgent} high-urgency message(s) in 14 days, last {iso_date(t)}: "{q}"',
                {"count": u.urgent, "last": iso_date(t), "quote": q},
            )
        )
    if u.polite and u.last_polite is not None:
        t, cue, q = u.last_polite
        out.append(
            Draft(
                "polite_escalation",
                1.0,
                f'polite escalation on {iso_date(t)} ("{cue}"): "{q}"',
                {"count": u.polite, "last": iso_date(t), "cue": cue, "quote": q},
            )
        )
    return out


def _surveys(r: Reading) -> list[Draft]:
    out: list[Draft] = []
    sv = r.surveys
    if sv.latest is None:
        return out
    when = _d(sv.latest_at)
    ev: dict[str, Any] = {"latest": sv.latest_label, "date": when, "normalized": round(sv.latest, 3)}
    if sv.latest < 0.6:
        out.append(Draft("survey_low", (0.6 - sv.latest) / 0.6, f"latest survey {sv.latest_label} on {when}", ev))
    elif sv.latest > 0.7:
        out.append(
            Draft("survey_positive", _clip01((sv.latest - 0.7) / 0.3), f"latest survey {sv.latest_label} on {when}", ev)
        )
    if sv.dropped and sv.drop is not None:
        before = ", ".join(sv.previous_labels)
        out.append(
            Draft(
                "survey_drop",
                _clip01(sv.drop / 0.5),
                f"survey fell from {before} to {sv.latest_label} on {when}",
                {**ev, "previous": list(sv.previous_labels), "drop": round(sv.drop, 3)},
            )
        )
    return out


def _account(r: Reading) -> list[Draft]:
    out: list[Draft] = []
    w = r.usage.worst
    if w is not None and w.change is not None and w.change <= -0.2 and w.recent is not None and w.baseline is not None:
        out.append(
            Draft(
                "usage_decline",
                _clip01(-w.change),
                f"{w.metric} down {-w.change:.0%} (average {w.recent:g} in the last 14 days vs {w.baseline:g} before)",
                {"metric": w.metric, **w.to_dict()},
            )
        )
    rn = r.renewal
    if rn.days is not None and 0 <= rn.days <= 90:
        out.append(
            Draft(
                "renewal_soon",
                1.0 - rn.days / 90.0,
                f"renewal on {rn.renewal_date}, in {rn.days} days",
                {"renewal_date": rn.renewal_date, "days": rn.days},
            )
        )
    tn = r.tenure
    if tn.days is not None:
        ev = {"since": tn.since, "days": round(tn.days, 1)}
        if tn.days < 180:
            out.append(
                Draft("new_customer", 1.0 - tn.days / 180.0, f"customer since {tn.since} ({tn.days:.0f} days)", ev)
            )
        if tn.days >= 30:
            out.append(
                Draft(
                    "tenure",
                    _clip01(tn.days / 1095.0),
                    f"customer for {tn.days / 365.25:.1f} years (since {tn.since})",
                    ev,
                )
            )
    oc = r.outcomes
    if oc.renewals:
        out.append(
            Draft(
                "renewals",
                min(oc.renewals, 3) / 3.0,
                f"renewed or expanded {oc.renewals} time(s), last on {_d(oc.last_renewal)}",
                {"count": oc.renewals, "last": _d(oc.last_renewal)},
            )
        )
    if oc.downgraded:
        out.append(Draft("downgraded", 1.0, f"downgraded on {_d(oc.last_downgrade)}", {"date": _d(oc.last_downgrade)}))
    return out


def draft_factors(reading: Reading) -> list[Draft]:
    """Every factor with a non-zero value, before weighting."""
    drafts: list[Draft] = []
    for part in (_sentiment, _contacts, _silence, _tickets, _urgency, _surveys, _account):
        drafts.extend(d for d in part(reading) if d.value > 0)
    return drafts


def flags_of(r: Reading) -> tuple[str, ...]:
    """The flags raised as of the reading, in ``FLAGS`` order."""
    raised = {
        "churned": r.outcomes.churned,
        "declining": r.trend.declining,
        "polite_escalation": r.urgency.polite > 0,
        "urgent": r.urgency.urgent > 0,
        "follow_ups": r.follow_ups.chasing,
        "repeat_contact": r.repeat.active,
        "channel_escalation": r.channels.active,
        "contact_spike": r.contacts.spike,
        "silent_after_negative": r.silence.silent_after_negative,
        "unanswered_reply": r.silence.unanswered,
        "gone_quiet": r.silence.gone_quiet,
        "usage_decline": r.usage.declined,
        "csat_drop": r.surveys.dropped,
        "low_survey": r.surveys.latest is not None and r.surveys.latest <= 0.4,
        "reopened_ticket": r.tickets.recently_reopened,
        "stale_ticket": r.tickets.stale,
        "downgraded": r.outcomes.downgraded,
        "renewal_soon": r.renewal.soon,
        "new_customer": r.tenure.new,
    }
    return tuple(name for name in FLAGS if raised[name])
