"""What a worker announces: per-message results and per-customer flags, plus webhook rows.

The hook runs inside the ingest transaction. Output records are collected on the session
and handed to ``emit`` just before it commits: if publishing fails the transaction rolls
back and the batch is retried, so nothing committed goes unannounced (at-least-once;
every record carries the ``event_id`` that caused it, for consumers to deduplicate).
Webhook rows go into the API's outbox in the same transaction, when that table exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from tonewatch.ingest import CustomerUpdate

__all__ = ["BAND_ORDER", "EmitFn", "FiringHook", "OutputHook", "analysis_record", "flag_record"]

EmitFn = Callable[[list[dict[str, Any]]], None]
BAND_ORDER: Mapping[str, int] = {"healthy": 0, "watch": 1, "at-risk": 2, "critical": 3}
_PENDING = "tonewatch_stream_outputs"
EnqueueFn = Callable[..., Any]


def _attr(report: Any, name: str) -> Any:
    if report is None:
        return None
    if isinstance(report, Mapping):
        return report.get(name)
    return getattr(report, name, None)


def analysis_record(update: CustomerUpdate) -> dict[str, Any] | None:
    """The result of scoring one customer message, or None for other updates."""
    ev = update.event
    a = update.analysis
    if ev is None or a is None or ev.kind != "message":
        return None
    return {
        "type": "analysis",
        "event_id": ev.event_id,
        "customer_id": update.customer_id,
        "timestamp": update.as_of.isoformat(),
        "label": a.label,
        "score": round(a.score, 4),
        "confidence": round(a.confidence, 4),
        "needs_review": a.needs_review,
        "urgency": a.urgency.level,
        "category": update.category,
        "model_version": a.model_version,
    }


def flag_record(update: CustomerUpdate) -> dict[str, Any] | None:
    """What got worse with this update (new flags or a worse band), or None."""
    report, previous = update.report, update.previous
    flags = [str(f) for f in (_attr(report, "flags") or ())]
    before = {str(f) for f in (_attr(previous, "flags") or ())}
    new_flags = [f for f in flags if f not in before]
    band = _attr(report, "band")
    old_band = _attr(previous, "band")
    worse = band is not None and BAND_ORDER.get(str(band), 0) > BAND_ORDER.get(str(old_band), 0)
    if not new_flags and not worse:
        return None
    ev = update.event
    health = _attr(report, "health")
    return {
        "type": "flag",
        "event_id": getattr(ev, "event_id", None),
        "customer_id": update.customer_id,
        "as_of": update.as_of.isoformat(),
        "health": None if health is None else float(health),
        "band": band,
        "previous_band": old_band,
        "new_flags": new_flags,
        "flags": flags,
    }


class FiringHook(Protocol):
    """A pipeline hook that keeps what it fired in ``fired`` (``triggers.TriggerHook``)."""

    fired: list[Any]

    def __call__(self, update: CustomerUpdate, /) -> None: ...


class OutputHook:
    """Pipeline hook collecting output records; ``emit`` receives them right before commit.

    ``enqueue`` is the webhook outbox's ``enqueue(session, event_type, data)``; flags are
    written there (in the transaction) when it is given. ``triggers`` (a playbook hook) runs
    first, in the same transaction, and each rule it fires becomes a ``trigger`` record.
    """

    def __init__(
        self,
        emit: EmitFn,
        *,
        enqueue: EnqueueFn | None = None,
        results: bool = True,
        triggers: FiringHook | None = None,
    ) -> None:
        self._emit = emit
        self._enqueue = enqueue
        self._results = results
        self._triggers = triggers

    def __call__(self, update: CustomerUpdate, /) -> None:
        records: list[dict[str, Any]] = []
        if self._triggers is not None:
            self._triggers(update)
            fired, self._triggers.fired[:] = list(self._triggers.fired), []
            event_id = getattr(update.event, "event_id", None)
            records += [{"type": "trigger", "event_id": event_id, **f.to_dict()} for f in fired]
        if update.source != "event":
            if records:
                self._pending(update.session).extend(records)
            return
        if self._results and (result := analysis_record(update)) is not None:
            records.append(result)
        if (flag := flag_record(update)) is not None:
            records.append(flag)
            if self._enqueue is not None:
                self._enqueue(update.session, "flag", {k: v for k, v in flag.items() if k != "type"})
        if records:
            self._pending(update.session).extend(records)

    def _pending(self, session: Session) -> list[dict[str, Any]]:
        pending: list[dict[str, Any]] | None = session.info.get(_PENDING)
        if pending is None:
            pending = session.info[_PENDING] = []
            emit = self._emit

            def before_commit(s: Session) -> None:
                records = s.info.pop(_PENDING, None)
                if records:
                    emit(records)

            sa_event.listen(session, "before_commit", before_commit, once=True)
        return pending
