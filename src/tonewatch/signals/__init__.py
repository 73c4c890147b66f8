"""Behavioural signals: small streaming objects, each fed every event of one customer in order.

Each signal has ``update(event, analysis=None, category=None) -> Self``, reads itself as of a
time with ``at(as_of)`` (a frozen result with ``to_dict()``), and persists with
``to_state()``/``from_state()``. Definitions and windows are in each module's docstring.

Windows are measured back from ``as_of``, never from the wall clock. ``as_of`` is expected at or
after the last event applied; for an earlier time, replay the history up to it (the pipeline does).
"""

from ._base import CONTACT_GAP_HOURS, NEGATIVE_SCORE, Signal, SignalResult, contact_key, is_negative, quote
from ._channel_escalation import ChannelEscalation, ChannelEscalationResult
from ._contact_frequency import ContactFrequency, ContactFrequencyResult
from ._follow_ups import FollowUps, FollowUpsResult
from ._negative_messages import NegativeMessages, NegativeMessagesResult
from ._outcomes import Outcomes, OutcomesResult
from ._renewal import Renewal, RenewalResult
from ._repeat_contact import RepeatContact, RepeatContactResult
from ._silence import Silence, SilenceResult
from ._surveys import SurveyResult, SurveyTrend
from ._tenure import Tenure, TenureResult
from ._tickets import TicketResult, Tickets
from ._urgency import POLITE_ESCALATION, UrgencyResult, UrgencySignal
from ._usage import MetricUsage, UsageDecline, UsageResult

__all__ = [
    "CONTACT_GAP_HOURS",
    "NEGATIVE_SCORE",
    "POLITE_ESCALATION",
    "ChannelEscalation",
    "ChannelEscalationResult",
    "ContactFrequency",
    "ContactFrequencyResult",
    "FollowUps",
    "FollowUpsResult",
    "MetricUsage",
    "NegativeMessages",
    "NegativeMessagesResult",
    "Outcomes",
    "OutcomesResult",
    "Renewal",
    "RenewalResult",
    "RepeatContact",
    "RepeatContactResult",
    "Signal",
    "SignalResult",
    "Silence",
    "SilenceResult",
    "SurveyResult",
    "SurveyTrend",
    "Tenure",
    "TenureResult",
    "TicketResult",
    "Tickets",
    "UrgencyResult",
    "UrgencySignal",
    "UsageDecline",
    "UsageResult",
    "contact_key",
    "is_negative",
    "quote",
]
