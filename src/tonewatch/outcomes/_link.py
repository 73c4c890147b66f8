"""Tie what happened to what we did: outcome events and CSAT answers linked to earlier firings.

An outcome (renewed, churned, downgraded, expanded) is linked to every firing of the customer
since their previous outcome (within a lookback), treated and holdout alike, with what became
of each action. A CSAT answer is linked to the firings of the weeks before it ("CSAT after
outreach"). Links are idempotent (unique per event and firing) and each is audited, so the
impact report can be rebuilt and checked at any time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tonewatch.review._models import ReviewItemRow
from tonewatch.store._models import Outcome, Survey
from tonewatch.triggers._models import FiringRow

from ._models import OutcomeLinkRow

if TYPE_CHECKING:
    from tonewatch.ingest import CustomerUpdate

__all__ = ["OutcomeHook", "OutcomeLinker"]


class OutcomeLinker:
    """Creates outcome links in the caller's session."""

    def __init__(
        self,
        session: Session,
        *,
        lookback: timedelta = timedelta(days=365),
        csat_window: timedelta = timedelta(days=30),
    ) -> None:
        self.session = session
        self.lookback = lookback
        self.csat_window = csat_window

    def _actions(self, firing: FiringRow) -> list[dict[str, Any]]:
        """The firing's actions with the current status of any review item they became."""
        out: list[dict[str, Any]] = []
        for action in firing.actions or []:
            entry = dict(action)
            ref = entry.get("ref")
            if entry.get("status") == "queued" and isinstance(ref, int):
                item = self.session.get(ReviewItemRow, ref)
                entry["review_status"] = None if item is None else item.status
            out.append(entry)
        return out

    def _previous_outcome(self, customer_id: str, before: datetime, event_id: str) -> datetime | None:
        return self.session.execute(
            select(Outcome.timestamp)
            .where(Outcome.customer_id == customer_id, Outcome.timestamp < before, Outcome.event_id != event_id)
            .order_by(Outcome.timestamp.desc())
            .limit(1)
        ).scalar_one_or_none()

    def _link(
        self,
        firings: list[FiringRow],
        *,
        customer_id: str,
        event_id: str,
        kind: str,
        outcome: str,
        value: float | None,
        occurred_at: datetime,
    ) -> list[OutcomeLinkRow]:
        from tonewatch.audit import AuditLog

        audit = AuditLog(self.session)
        made: list[OutcomeLinkRow] = []
        for firing in firings:
            exists = self.session.execute(
                select(OutcomeLinkRow.id).where(
                    OutcomeLinkRow.event_id == event_id, OutcomeLinkRow.firing_id == firing.id
                )
            ).first()
            if exists is not None:
                continue
            row = OutcomeLinkRow(
                customer_id=customer_id,
                event_id=event_id,
                kind=kind,
                outcome=outcome,
                value=value,
                occurred_at=occurred_at,
                firing_id=firing.id,
                rule_id=firing.rule_id,
                fired_at=firing.fired_at,
                holdout=firing.holdout,
                actions=self._actions(firing),
                lead_days=round((occurred_at - firing.fired_at).total_seconds() / 86400.0, 3),
                linked_at=datetime.now(UTC),
            )
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                    self.session.flush()
            except IntegrityError:
                continue
            audit.record(
                "tonewatch",
                "outcome.linked",
                f"customer:{customer_id}",
                {
                    "event": event_id,
                    "kind": kind,
                    "outcome": outcome,
                    "value": value,
                    "firing": firing.id,
                    "rule": firing.rule_id,
                    "holdout": firing.holdout,
                    "lead_days": row.lead_days,
                },
            )
            made.append(row)
        return made

    def link_outcome(
        self, customer_id: str, event_id: str, outcome: str, occurred_at: datetime
    ) -> list[OutcomeLinkRow]:
        """Link an outcome to the firings since the customer's previous outcome (within the lookback)."""
        since = occurred_at - self.lookback
        previous = self._previous_outcome(customer_id, occurred_at, event_id)
        if previous is not None and previous > since:
            since = previous
        firings = list(
            self.session.execute(
                select(FiringRow)
                .where(
                    FiringRow.customer_id == customer_id,
                    FiringRow.fired_at > since,
                    FiringRow.fired_at <= occurred_at,
                )
                .order_by(FiringRow.fired_at)
            ).scalars()
        )
        return self._link(
            firings,
            customer_id=customer_id,
            event_id=event_id,
            kind="outcome",
            outcome=outcome,
            value=None,
            occurred_at=occurred_at,
        )

    def link_csat(
        self, customer_id: str, event_id: str, normalized: float, occurred_at: datetime
    ) -> list[OutcomeLinkRow]:
        """Link a CSAT answer to the firings of the ``csat_window`` before it."""
        firings = list(
            self.session.execute(
                select(FiringRow)
                .where(
                    FiringRow.customer_id == customer_id,
                    FiringRow.fired_at >= occurred_at - self.csat_window,
                    FiringRow.fired_at <= occurred_at,
                )
                .order_by(FiringRow.fired_at)
            ).scalars()
        )
        return self._link(
            firings,
            customer_id=customer_id,
            event_id=event_id,
            kind="csat",
            outcome="csat",
            value=float(normalized),
            occurred_at=occurred_at,
        )

    def link_event(self, event: Any) -> list[OutcomeLinkRow]:
        """Link one ingested v1 event if it is an outcome or a CSAT survey."""
        kind = getattr(event, "kind", None)
        if kind == "outcome":
            return self.link_outcome(event.customer_id, event.event_id, event.outcome, event.timestamp)
        if kind == "survey" and getattr(event, "survey", None) == "csat":
            return self.link_csat(event.customer_id, event.event_id, float(event.normalized), event.timestamp)
        return []

    def relink(self) -> int:
        """Link every stored outcome and CSAT answer (idempotent; for history ingested before the rules ran)."""
        made = 0
        for o in self.session.execute(select(Outcome).order_by(Outcome.timestamp)).scalars().all():
            made += len(self.link_outcome(o.customer_id, o.event_id, o.outcome, o.timestamp))
        surveys = self.session.execute(select(Survey).where(Survey.survey == "csat").order_by(Survey.timestamp))
        for s in surveys.scalars().all():
            made += len(self.link_csat(s.customer_id, s.event_id, s.normalized, s.timestamp))
        return made


class OutcomeHook:
    """A pipeline hook that links outcomes and CSAT answers as they are ingested."""

    def __init__(
        self, *, lookback: timedelta = timedelta(days=365), csat_window: timedelta = timedelta(days=30)
    ) -> None:
        self.lookback = lookback
        self.csat_window = csat_window

    def __call__(self, update: CustomerUpdate, /) -> None:
        if update.event is None:
            return
        OutcomeLinker(update.session, lookback=self.lookback, csat_window=self.csat_window).link_event(update.event)
