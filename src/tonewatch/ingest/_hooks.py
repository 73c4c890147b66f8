"""The extension point of the pipeline: hooks see every customer update in its transaction.

A hook is any callable taking a :class:`CustomerUpdate`. It runs inside the ingest (or
sweep) transaction, so what it writes (trigger firings, review items, audit entries)
commits or rolls back together with the events that caused it. A hook that raises rolls
the whole chunk back; when a chunk is retried after a write conflict, hooks run again on
fresh state, so a hook must only have effects through ``update.session``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from .events import Event

__all__ = ["CustomerUpdate", "Hook", "UpdateSource"]

UpdateSource = Literal["event", "sweep"]


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    """One change of one customer's state, as a hook sees it.

    ``event`` is the (PII-masked) event just folded in, ``None`` for a sweep; ``analysis``
    and ``category`` are set for customer-authored messages; ``report`` is the health
    report as of ``as_of`` and ``previous`` the one before this update (``None`` for a
    customer's first event), so hooks can react to band and score changes. ``state`` is the
    live state object: read it during the call, do not keep or modify it.
    """

    session: Session
    customer_id: str
    attributes: Mapping[str, Any]
    state: Any
    report: Any
    event: Event | None
    analysis: Analysis | None
    as_of: datetime
    category: str | None = None
    previous: Any = None
    source: UpdateSource = "event"


class Hook(Protocol):
    """Anything callable with a :class:`CustomerUpdate` (e.g. ``triggers.TriggerHook``)."""

    def __call__(self, update: CustomerUpdate, /) -> None: ...
