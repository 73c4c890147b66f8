"""Health computed from the store at any time: current reports, ``--as-of`` replays, fit rows.

Everything is a function of stored history and an ``as_of`` time, never the wall clock,
so the same history can be replayed and backtested.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tonewatch.store._models import Customer, EventRow

from ._replay import iter_histories
from ._state import HealthModel

__all__ = ["CustomerReport", "FitRows", "fit_rows", "reports_as_of"]

_IN_BATCH = 500


@dataclass(frozen=True, slots=True)
class CustomerReport:
    customer_id: str
    attributes: Mapping[str, Any]
    report: Any  # tonewatch.health.HealthReport


def _attributes(session: Session, ids: Iterable[str] | None) -> dict[str, dict[str, Any]]:
    q = select(Customer.id, Customer.attributes)
    if ids is None:
        return {cid: dict(a or {}) for cid, a in session.execute(q)}
    wanted = sorted(set(ids))
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(wanted), _IN_BATCH):
        for cid, a in session.execute(q.where(Customer.id.in_(wanted[i : i + _IN_BATCH]))):
            out[cid] = dict(a or {})
    return out


def reports_as_of(
    session: Session,
    model: HealthModel,
    as_of: datetime,
    *,
    customer_ids: Iterable[str] | None = None,
    replay: bool = False,
) -> list[CustomerReport]:
    """Each customer's report as of ``as_of``, most at risk first.

    From the stored state when it is not newer than ``as_of`` (fast); by replaying the
    stored history up to ``as_of`` when ``replay`` is set or the state holds later events.
    """
    ids = None if customer_ids is None else sorted(set(customer_ids))
    out: list[CustomerReport] = []
    to_replay: list[str] = []
    q = select(Customer).where(Customer.last_event_at.is_not(None))
    batches = [None] if ids is None else [ids[i : i + _IN_BATCH] for i in range(0, len(ids), _IN_BATCH)]
    for batch in batches:
        qb = q if batch is None else q.where(Customer.id.in_(batch))
        for c in session.scalars(qb.execution_options(yield_per=1000)):
            assert c.last_event_at is not None
            if replay or c.state is None or c.last_event_at > as_of:
                to_replay.append(c.id)
                continue
            attrs = dict(c.attributes or {})
            out.append(CustomerReport(c.id, attrs, model.report(model.restore(c.state), as_of, attrs)))
    if to_replay:
        attributes = _attributes(session, to_replay)
        for cid, history in iter_histories(session, to_replay, until=as_of):
            attrs = attributes.get(cid, {})
            state = model.replay(cid, attrs, history)
            out.append(CustomerReport(cid, attrs, model.report(state, as_of, attrs)))
    out.sort(key=lambda r: (r.report.health, r.customer_id))
    return out


@dataclass(slots=True)
class FitRows:
    """Training rows for ``tonewatch.health.fit_weights``: factor values and churn labels over time."""

    rows: list[tuple[dict[str, float], bool]]
    times: list[datetime]
    customers: int
    churned: int


def fit_rows(
    session: Session,
    model: HealthModel,
    *,
    horizon: timedelta,
    step: timedelta = timedelta(days=30),
) -> FitRows:
    """Sample every customer's factors every ``step`` and label whether they churned within ``horizon``.

    A sample at time t is labelled churned when a ``churned`` outcome follows in
    ``(t, t + horizon]``. Retained samples whose horizon runs past the end of the data are
    left out (their outcome is not known yet), as is everything after a churn.
    """
    from tonewatch.health import factor_features

    data_end = session.execute(select(func.max(EventRow.timestamp))).scalar_one_or_none()
    out = FitRows([], [], 0, 0)
    if data_end is None:
        return out
    attributes = _attributes(session, None)
    for cid, history in iter_histories(session):
        if not history:
            continue
        churn = next(
            (h.key[0] for h in history if h.event.kind == "outcome" and getattr(h.event, "outcome", None) == "churned"),
            None,
        )
        out.customers += 1
        out.churned += int(churn is not None)
        attrs = attributes.get(cid, {})
        state = model.new(cid, attrs)
        first = history[0].key[0]
        end = min(churn, data_end) if churn is not None else data_end
        t = first + step
        i = 0
        while t < end:
            while i < len(history) and history[i].key[0] <= t:
                h = history[i]
                state = model.fold(state, h.event, h.analysis, h.category)
                i += 1
            label = churn is not None and t < churn <= t + horizon
            if label or t + horizon <= data_end:
                out.rows.append((factor_features(model.report(state, t, attrs)), label))
                out.times.append(t)
            t += step
    order = sorted(range(len(out.times)), key=lambda k: out.times[k])
    out.rows = [out.rows[k] for k in order]
    out.times = [out.times[k] for k in order]
    return out
