"""The API's pipeline hook: live-stream items and webhook outbox rows for each customer update.

The hook runs inside the ingest transaction. Webhook rows are written there (so they
commit with the change they announce), while stream items are held until the session
commits and dropped if it rolls back: nobody is told about an event that was not stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ._broadcast import Broadcaster, StreamEvent
from ._visibility import Viewer
from ._webhooks import enqueue

if TYPE_CHECKING:
    from tonewatch.ingest import CustomerUpdate

__all__ = ["ApiHook", "flag_change", "review_announcement"]

_BAND_ORDER = {"healthy": 0, "watch": 1, "at-risk": 2, "critical": 3}
_PENDING_KEY = "tonewatch_api_stream"
_WAKE_KEY = "tonewatch_api_wake"
_WATCH_KEY = "tonewatch_api_watch"
_REVIEWS_KEY = "tonewatch_api_reviews"


def _as_dict(report: Any) -> dict[str, Any] | None:
    if report is None:
        return None
    if isinstance(report, Mapping):
        return dict(report)
    result: dict[str, Any] = report.to_dict()
    return result


def review_announcement(item: Any) -> dict[str, Any]:
    """What a webhook receiver learns about a review item: ids and the decision, never texts or evidence."""
    return {
        "id": item.id,
        "customer_id": item.customer_id,
        "rule": item.rule,
        "tier": item.tier,
        "action": item.action,
        "status": item.status,
        "priority": item.priority,
        "due": item.due.isoformat(),
        "decision": item.decision,
        "reason": item.reason,
        "decided_by": item.decided_by,
    }


def flag_change(report: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What got worse between two reports (new flags, a worse band), or None."""
    flags = list(report.get("flags") or [])
    before = set((previous or {}).get("flags") or [])
    new_flags = [f for f in flags if f not in before]
    band = report.get("band")
    old_band = (previous or {}).get("band")
    worse = band is not None and _BAND_ORDER.get(str(band), 0) > _BAND_ORDER.get(str(old_band), 0)
    if not new_flags and not worse:
        return None
    return {
        "customer_id": report.get("customer_id"),
        "health": report.get("health"),
        "band": band,
        "previous_band": old_band,
        "new_flags": new_flags,
        "flags": flags,
        "factors": list(report.get("factors") or [])[:5],
    }


class ApiHook:
    """``Pipeline`` hook feeding the live stream and the webhook outbox.

    Put it first in the hook list: on its first call in a transaction it starts watching
    for review items that later hooks (the triggers) create, to announce them too.
    """

    def __init__(
        self,
        broadcaster: Broadcaster,
        on_outbox: Callable[[], None] | None = None,
        *,
        receivers: Viewer | None = None,
    ) -> None:
        self._broadcaster = broadcaster
        self._on_outbox = on_outbox
        self._receivers = receivers

    def _for_receivers(self, session: Session, customer_id: str, change: dict[str, Any]) -> dict[str, Any]:
        """A flag as webhook receivers may see it: the policy applies to what leaves the system too."""
        viewer = self._receivers
        if viewer is None or viewer.sees_everything:
            return change
        from ._lookup import has_open_ticket

        health = change.get("health")
        centred = (float(health) - 50.0) / 50.0 if isinstance(health, int | float) else None
        closed = None if viewer.policy != "post_conversation" else not has_open_ticket(session, customer_id)
        return viewer.summary(change, score=centred, closed=closed)

    def __call__(self, update: CustomerUpdate, /) -> None:
        session = update.session
        self._watch(session)
        ev = update.event
        channel = getattr(ev, "channel", None)
        if update.analysis is not None and ev is not None and getattr(ev, "kind", None) == "message":
            self._pending(session).append(
                StreamEvent(
                    "analysis",
                    update.customer_id,
                    {
                        "customer_id": update.customer_id,
                        "event_id": getattr(ev, "event_id", None),
                        "ticket_id": getattr(ev, "ticket_id", None),
                        "channel": channel,
                        "timestamp": update.as_of.isoformat(),
                        "category": update.category,
                        "analysis": update.analysis.to_dict(),
                    },
                    channel,
                )
            )
        report = _as_dict(update.report)
        change = flag_change(report, _as_dict(update.previous)) if report is not None else None
        if change is not None:
            change["as_of"] = update.as_of.isoformat()
            change["event_id"] = getattr(ev, "event_id", None) if ev is not None else None
            self._pending(session).append(StreamEvent("flag", update.customer_id, change, channel))
            if enqueue(session, "flag", self._for_receivers(session, update.customer_id, change)):
                session.info[_WAKE_KEY] = True

    @staticmethod
    def _pending(session: Session) -> list[StreamEvent]:
        pending: list[StreamEvent] = session.info.setdefault(_PENDING_KEY, [])
        return pending

    def _watch(self, session: Session) -> None:
        """Register this transaction's listeners once per session."""
        if session.info.get(_WATCH_KEY):
            return
        session.info[_WATCH_KEY] = True
        broadcaster, on_outbox = self._broadcaster, self._on_outbox

        def collect_reviews(sess: Session, _ctx: Any) -> None:
            from tonewatch.review import ReviewItemRow

            new = [o for o in sess.new if isinstance(o, ReviewItemRow)]
            if new:
                sess.info.setdefault(_REVIEWS_KEY, []).extend(new)

        def announce_reviews(sess: Session) -> None:
            from tonewatch.review import ReviewItem

            for row in sess.info.pop(_REVIEWS_KEY, []):
                data = review_announcement(ReviewItem.from_row(row))
                sess.info.setdefault(_PENDING_KEY, []).append(StreamEvent("review", row.customer_id, data))
                if enqueue(sess, "review.created", data):
                    sess.info[_WAKE_KEY] = True

        def publish(sess: Session) -> None:
            held = sess.info.pop(_PENDING_KEY, [])
            wake = sess.info.pop(_WAKE_KEY, False)
            if held:
                broadcaster.publish(held)
            if wake and on_outbox is not None:
                on_outbox()

        def drop(sess: Session, *_: Any) -> None:
            for key in (_PENDING_KEY, _WAKE_KEY, _REVIEWS_KEY):
                sess.info.pop(key, None)

        sa_event.listen(session, "after_flush", collect_reviews)
        sa_event.listen(session, "before_commit", announce_reviews)
        sa_event.listen(session, "after_commit", publish)
        sa_event.listen(session, "after_rollback", drop)
