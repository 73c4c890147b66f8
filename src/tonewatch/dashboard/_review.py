"""The Review queue page: items with their evidence and draft, and a person's decisions on them.

Decisions go through :class:`tonewatch.review.ReviewQueue` (which validates the transition
and writes the audit entry in the same transaction) and announce themselves to webhook
subscribers exactly as ``POST /v1/review-queue/{id}/...`` does. Evidence passes through
:meth:`Viewer.scrub`, as in the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from tonewatch._errors import InputError

from ._common import customer_labels

if TYPE_CHECKING:
    from tonewatch.api._services import Services

    from ._access import Visitor

__all__ = [
    "MAX_ITEMS",
    "PAGE_SIZE",
    "STATUS_FILTERS",
    "VERBS",
    "ReviewPage",
    "StatusFilter",
    "Verb",
    "act_on_item",
    "build_review",
]

StatusFilter = Literal["open", "pending", "snoozed", "decided", "all"]
STATUS_FILTERS: tuple[StatusFilter, ...] = ("open", "pending", "snoozed", "decided", "all")
Verb = Literal["approve", "edit", "reject", "snooze", "decide"]
VERBS: tuple[Verb, ...] = ("approve", "edit", "reject", "snooze", "decide")
PAGE_SIZE = 20
MAX_ITEMS = 500
_DECIDED = ("approved", "edited", "sent", "rejected", "decided")
_MAX_TEXT = 20_000
_MAX_REASON = 2000


@dataclass
class ReviewPage:
    status: StatusFilter
    items: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    limit: int = PAGE_SIZE

    @property
    def more(self) -> bool:
        return self.total > len(self.items)

    @property
    def next_limit(self) -> int:
        return min(self.limit + PAGE_SIZE, MAX_ITEMS)


def build_review(
    services: Services, visitor: Visitor, *, status: StatusFilter, now: datetime, limit: int = PAGE_SIZE
) -> ReviewPage:
    """Overdue first, then by priority and deadline (the queue's order); ``limit`` items shown."""
    from tonewatch.api._visibility import redact_review_item
    from tonewatch.review import ReviewQueue

    wanted: str | list[str] | None
    wanted = None if status == "open" else (list(_DECIDED) if status == "decided" else status)
    page = ReviewPage(status, limit=limit)
    with services.store.session(readonly=True) as session:
        queue = ReviewQueue(session, services.settings)
        every = queue.items(status=wanted, now=now)
        every_open = every if status == "open" else queue.items(status=None, now=now)
        if status == "decided":
            every.sort(key=lambda i: i.updated_at, reverse=True)
        items = every[:limit]
        page.total = len(every)
        names = customer_labels(session, {i.customer_id for i in items})
    page.counts = {
        "open": len(every_open),
        "overdue": sum(1 for i in every_open if i.overdue(now)),
    }
    for item in items:
        data = item.to_dict(now)
        redact_review_item(visitor.viewer, data, item.action)
        data["customer_name"] = names.get(item.customer_id, {}).get("name")
        data["seconds_left"] = int((item.due - now).total_seconds())
        data["open"] = item.status in ("pending", "snoozed")
        page.items.append(data)
    return page


def _text(form: dict[str, str], name: str, limit: int, *, required: bool) -> str | None:
    value = (form.get(name) or "").strip()
    if not value:
        if required:
            raise InputError(f"{name} is required", field=name)
        return None
    if len(value) > limit:
        raise InputError(f"{name} is longer than {limit} characters", field=name)
    return value


def _snooze_until(form: dict[str, str], now: datetime) -> datetime:
    raw = (form.get("hours") or "").strip()
    try:
        hours = float(raw)
    except ValueError:
        raise InputError("choose for how many hours to snooze", field="hours") from None
    if not 0 < hours <= 24 * 365:
        raise InputError("snooze for between a minute and a year", field="hours")
    return now + timedelta(hours=hours)


def act_on_item(services: Services, visitor: Visitor, item_id: int, verb: Verb, form: dict[str, str]) -> dict[str, Any]:
    """Carry out one decision; raises the queue's errors (invalid transition, missing reason...)."""
    from tonewatch.api._hooks import review_announcement
    from tonewatch.api._webhooks import enqueue
    from tonewatch.review import ReviewQueue

    now = datetime.now(UTC)
    kwargs: dict[str, Any] = {"actor": visitor.actor}
    if verb == "approve":
        kwargs["reason"] = _text(form, "reason", _MAX_REASON, required=False)
    elif verb == "edit":
        kwargs["text"] = _text(form, "text", _MAX_TEXT, required=True)
        kwargs["reason"] = _text(form, "reason", _MAX_REASON, required=False)
    elif verb == "reject":
        kwargs["reason"] = _text(form, "reason", _MAX_REASON, required=True)
    elif verb == "snooze":
        kwargs["until"] = _snooze_until(form, now)
        kwargs["reason"] = _text(form, "reason", _MAX_REASON, required=False)
    else:
        kwargs["decision"] = _text(form, "decision", _MAX_TEXT, required=True)
        kwargs["reason"] = _text(form, "reason", _MAX_REASON, required=False)
        kwargs["message"] = _text(form, "message", _MAX_TEXT, required=False)
    with services.store.session() as session:
        item = getattr(ReviewQueue(session, services.settings), verb)(item_id, **kwargs)
        enqueue(session, "review.decision", {**review_announcement(item), "verb": verb})
        result: dict[str, Any] = item.to_dict(now)
    services.webhooks.wake()
    return result
