"""The write half of the pipeline: one chunk of prepared events in one transaction.

Per chunk: one query loads (and on PostgreSQL row-locks) the customers involved, one finds
duplicates, events and their typed rows go in as bulk inserts, and each touched customer's
state is loaded once, folded with its new events in ``(timestamp, event_id)`` order (or
rebuilt from history when an event arrives older than the state), reported, snapshotted per
day and handed to hooks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from tonewatch.store._models import Customer, EventRow, HealthSnapshot, Message, Outcome, Survey, Ticket, Usage

from ._hooks import CustomerUpdate, Hook
from ._prepare import Prepared
from ._replay import StoredEvent, load_history
from ._rows import event_row, message_row, outcome_row, survey_row, usage_row
from ._state import HealthModel, snapshot_values
from .events import CustomerEvent, TicketEvent

__all__ = ["ChunkResult", "ChunkWriter", "in_batches", "save_snapshots"]

_IN_BATCH = 500
_RESOLVED = frozenset({"resolved", "closed"})


def _table(model: Any) -> Table:
    """The Core table of an ORM class (bulk inserts skip the ORM on the hot path)."""
    table: Table = model.__table__
    return table


def in_batches(values: Sequence[str], size: int = _IN_BATCH) -> Iterable[Sequence[str]]:
    """Split long ``IN (...)`` lists (SQLite caps bound parameters)."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


@dataclass(slots=True)
class ChunkResult:
    accepted: int = 0
    duplicate: int = 0
    customers: int = 0
    rebuilt: int = 0


def _key(p: Prepared) -> tuple[datetime, str]:
    assert p.timestamp is not None
    return p.timestamp, p.event_id


def save_snapshots(session: Session, snapshots: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Upsert one health snapshot per (customer, day), portable across backends (Core, no ORM objects)."""
    if not snapshots:
        return
    table = _table(HealthSnapshot)
    customers = sorted({c for c, _ in snapshots})
    days = sorted({d for _, d in snapshots})
    existing: dict[tuple[str, str], int] = {}
    for batch in in_batches(customers):
        q = select(table.c.id, table.c.customer_id, table.c.day).where(
            table.c.customer_id.in_(batch), table.c.day.in_(days)
        )
        for row_id, cid, day in session.execute(q):
            existing[(cid, day)] = row_id
    fresh: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for (cid, day), values in snapshots.items():
        row_id = existing.get((cid, day))
        if row_id is None:
            fresh.append({"customer_id": cid, "day": day, **values})
        else:
            changed.append({"row_id": row_id, **values})
    if changed:
        stmt = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({k: bindparam(k) for k in ("as_of", "health", "band", "level", "declining")})
        )
        session.connection().execute(stmt, changed)
    if fresh:
        session.execute(insert(table), fresh)


class ChunkWriter:
    """Applies prepared events to the store within ``session`` (the caller commits)."""

    def __init__(
        self,
        session: Session,
        model: HealthModel,
        hooks: Sequence[Hook],
        now: datetime,
        encrypt: Callable[[str], str] | None = None,
    ) -> None:
        self.session = session
        self.model = model
        self.hooks = tuple(hooks)
        self.now = now
        self.encrypt = encrypt
        self.snapshots: dict[tuple[str, str], dict[str, Any]] = {}
        # new state/report per customer, saved in one statement per chunk (see _save_customers)
        self.saved: dict[str, tuple[Customer, dict[str, Any]]] = {}

    def write(self, prepared: list[Prepared]) -> ChunkResult:
        result = ChunkResult()
        s = self.session
        # Lock the customers first: a concurrent writer of the same customers then waits for
        # this chunk, and the duplicate check below sees everything it committed.
        customers = self._lock_customers(sorted({p.customer_id for p in prepared}))
        existing: set[str] = set()
        for batch in in_batches([p.event_id for p in prepared]):
            existing.update(s.scalars(select(EventRow.event_id).where(EventRow.event_id.in_(batch))))
        fresh = [p for p in prepared if p.event_id not in existing]
        result.duplicate = len(prepared) - len(fresh)
        result.accepted = len(fresh)
        if not fresh:
            return result

        self._add_missing_customers(sorted({p.customer_id for p in fresh}), customers)
        changed_attributes = self._merge_attributes(fresh, customers)
        self._insert_rows(fresh)
        self._fold_tickets([p for p in fresh if p.kind == "ticket"])

        by_customer: dict[str, list[Prepared]] = defaultdict(list)
        for p in fresh:
            if p.kind != "customer":
                by_customer[p.customer_id].append(p)
        for cid in sorted(set(by_customer) | changed_attributes):
            events = sorted(by_customer.get(cid, ()), key=_key)
            customer = customers[cid]
            if customer.state is None and not events:
                continue
            rebuilt = self._apply(customer, events, rebuild=self._needs_rebuild(customer, events, changed_attributes))
            result.customers += 1
            result.rebuilt += int(rebuilt)
        s.flush()
        self._save_customers()
        save_snapshots(s, self.snapshots)
        s.flush()
        return result

    def _save_customers(self) -> None:
        """Write every customer's new state and report in one executemany UPDATE.

        The ORM would send one UPDATE per customer (a versioned row is never batched by it):
        on PostgreSQL that was a fifth of a chunk's time. The version check stays: each row
        is updated only at the version this chunk loaded, and a short count is the same
        conflict the ORM would raise.
        """
        if not self.saved:
            return
        table = _table(Customer)
        rows = [
            {"b_id": c.id, "b_version": c.version, "version": c.version + 1, **values}
            for c, values in self.saved.values()
        ]
        names = list(rows[0].keys() - {"b_id", "b_version"})
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
            .values({name: bindparam(name) for name in names})
        )
        result = self.session.connection().execute(stmt, rows)
        dialect = self.session.get_bind().dialect
        if dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
            raise StaleDataError(f"customers changed by another writer: updated {result.rowcount} of {len(rows)} rows")
        for c, values in self.saved.values():  # the session's objects now hold what was written
            for name, value in values.items():
                set_committed_value(c, name, value)
            set_committed_value(c, "version", c.version + 1)
        self.saved.clear()

    def _lock_customers(self, ids: list[str]) -> dict[str, Customer]:
        """Load the chunk's existing customers, row-locked on PostgreSQL (in id order: no deadlocks).

        On SQLite the write transaction is already exclusive. The version column still
        guards against writers that read outside such a lock (optimistic concurrency).
        """
        found: dict[str, Customer] = {}
        for batch in in_batches(ids):
            # The stored report is only ever replaced here, so it is not loaded.
            q = (
                select(Customer)
                .options(defer(Customer.report))
                .where(Customer.id.in_(batch))
                .order_by(Customer.id)
                .with_for_update()
            )
            for c in self.session.scalars(q):
                found[c.id] = c
        return found

    def _add_missing_customers(self, ids: list[str], found: dict[str, Customer]) -> None:
        """Customers seen for the first time (their customer event may come later)."""
        for cid in ids:
            if cid not in found:
                c = Customer(id=cid, attributes={}, created_at=self.now, updated_at=self.now, version=1)
                self.session.add(c)
                found[cid] = c
        self.session.flush()

    def _merge_attributes(self, fresh: list[Prepared], customers: dict[str, Customer]) -> set[str]:
        """Customer events merge attributes in arrival order (later wins)."""
        changed: set[str] = set()
        for p in fresh:
            if p.kind != "customer":
                continue
            c = customers[p.customer_id]
            assert isinstance(p.event, CustomerEvent)
            merged = {**(c.attributes or {}), **p.event.attributes}
            if merged != c.attributes:
                c.attributes = merged
                c.updated_at = self.now
                changed.add(c.id)
        return changed

    def _insert_rows(self, fresh: list[Prepared]) -> None:
        s = self.session
        # Core inserts (not ORM bulk): the rows are plain dicts and this is the hot path.
        s.execute(insert(_table(EventRow)), [event_row(p, self.now) for p in fresh])
        typed: list[tuple[Any, list[dict[str, Any]]]] = [
            (Message, [message_row(p, self.encrypt) for p in fresh if p.kind == "message"]),
            (Survey, [survey_row(p) for p in fresh if p.kind == "survey"]),
            (Usage, [usage_row(p) for p in fresh if p.kind == "usage"]),
            (Outcome, [outcome_row(p) for p in fresh if p.kind == "outcome"]),
        ]
        for table, rows in typed:
            if rows:
                s.execute(insert(_table(table)), rows)

    def _fold_tickets(self, events: list[Prepared]) -> None:
        """Current ticket state: the latest event's status wins, whatever the arrival order."""
        if not events:
            return
        ids = sorted({p.event.ticket_id for p in events if isinstance(p.event, TicketEvent)})
        tickets: dict[str, Ticket] = {}
        for batch in in_batches(ids):
            for t in self.session.scalars(select(Ticket).where(Ticket.ticket_id.in_(batch))):
                tickets[t.ticket_id] = t
        for p in sorted(events, key=_key):
            ev = p.event
            assert isinstance(ev, TicketEvent)
            ts = ev.timestamp
            found = tickets.get(ev.ticket_id)
            if found is None:
                t = Ticket(
                    ticket_id=ev.ticket_id,
                    customer_id=ev.customer_id,
                    status=ev.status,
                    subject=ev.subject,
                    category=ev.category,
                    opened_at=ts,
                    updated_at=ts,
                    resolved_at=ts if ev.status in _RESOLVED else None,
                    reopen_count=int(ev.status == "reopened"),
                )
                self.session.add(t)
                tickets[ev.ticket_id] = t
                continue
            t = found
            t.opened_at = min(t.opened_at, ts)
            t.reopen_count = (t.reopen_count or 0) + int(ev.status == "reopened")
            if ts >= t.updated_at:
                t.status = ev.status
                t.updated_at = ts
                t.resolved_at = ts if ev.status in _RESOLVED else None
                t.subject = ev.subject or t.subject
                t.category = ev.category or t.category
            else:
                t.subject = t.subject or ev.subject
                t.category = t.category or ev.category

    @staticmethod
    def _needs_rebuild(customer: Customer, events: list[Prepared], changed_attributes: set[str]) -> bool:
        if customer.state is None:
            return False
        if customer.id in changed_attributes:
            return True
        if not events or customer.last_event_at is None:
            return False
        return _key(events[0]) < (customer.last_event_at, customer.last_event_id or "")

    def _apply(self, customer: Customer, new: list[Prepared], *, rebuild: bool) -> bool:
        """Fold ``new`` into the customer's state; replay the full history when ``rebuild``."""
        cid = customer.id
        attrs = dict(customer.attributes or {})
        model = self.model
        previous: Any = None
        if rebuild:
            self.session.execute(delete(HealthSnapshot).where(HealthSnapshot.customer_id == cid))
            for key in [k for k in self.snapshots if k[0] == cid]:
                del self.snapshots[key]
            history = load_history(self.session, cid)
            state = model.new(cid, attrs)
            by_id = {p.event_id: p for p in new}
            steps: list[tuple[StoredEvent, Prepared | None]] = [(h, by_id.get(str(h.event.event_id))) for h in history]
        else:
            state = model.restore(customer.state) if customer.state is not None else model.new(cid, attrs)
            if self.hooks and customer.state is not None and customer.as_of is not None:
                previous = model.report(state, customer.as_of, attrs)
            steps = [(StoredEvent(p.event, p.analysis, p.category), p) for p in new]

        report: Any = None
        last: StoredEvent | None = None
        for i, (item, fresh) in enumerate(steps):
            state = model.fold(state, item.event, item.analysis, item.category)
            ts, _ = item.key
            day = ts.date().isoformat()
            end_of_day = i + 1 == len(steps) or steps[i + 1][0].key[0].date().isoformat() != day
            report = None
            if self.hooks and fresh is not None:
                report = model.report(state, ts, attrs)
                update = CustomerUpdate(
                    session=self.session,
                    customer_id=cid,
                    attributes=attrs,
                    state=state,
                    report=report,
                    event=item.event,
                    analysis=item.analysis if item.event.kind == "message" else None,
                    as_of=ts,
                    category=item.category,
                    previous=previous,
                )
                for hook in self.hooks:
                    hook(update)
                previous = report
            if end_of_day:
                report = report if report is not None else model.report(state, ts, attrs)
                self.snapshots[(cid, day)] = {"as_of": ts, **snapshot_values(report)}
            if self.hooks and fresh is None and i + 1 < len(steps) and steps[i + 1][1] is not None:
                previous = report if report is not None else model.report(state, ts, attrs)
            last = item
        if last is None:  # an attribute change on a customer with no events yet
            return rebuild
        ts, event_id = last.key
        if report is None:
            report = model.report(state, ts, attrs)
        values = snapshot_values(report)
        self.saved[cid] = (
            customer,
            {
                "state": state.to_state(),
                "report": report.to_dict(),
                "health": values["health"],
                "band": values["band"],
                "last_event_at": ts,
                "last_event_id": event_id,
                "as_of": ts,
                "updated_at": self.now,
            },
        )
        return rebuild
