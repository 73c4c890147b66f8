"""review stage: the queue where proposed actions wait for a person.

Approve-tier items (drafted check-ins, account-manager alerts) are sent only after a person
approves or edits them; human-tier items (retention offers, discounts, executive escalations)
carry a summary and a recommendation, and a person records the decision. Every transition is
validated and audited.
"""

from ._gauges import queue_gauges
from ._models import ReviewItemRow
from ._queue import MESSAGE_ACTIONS, ReviewItem, ReviewQueue
from ._states import FINAL, OPEN, STATUSES, TRANSITIONS, Status, check_transition

__all__ = [
    "FINAL",
    "MESSAGE_ACTIONS",
    "OPEN",
    "STATUSES",
    "TRANSITIONS",
    "ReviewItem",
    "ReviewItemRow",
    "ReviewQueue",
    "Status",
    "check_transition",
    "queue_gauges",
]
