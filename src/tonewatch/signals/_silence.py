"""Silence: after a negative interaction, after an agent's reply, and against the customer's rhythm.

Definitions, all as of ``as_of``:

- ``silent_after_negative``: the customer's last interaction (message or survey) was negative
  (see ``signals._base.is_negative``; a survey at or below 0.4 normalised) and they have been
  silent for at least ``negative_days`` (default 7) since — and, once they have ``min_contacts``
  contacts on record, for at least their typical gap between contacts (the chronic complainer
  who writes every three weeks is not "silent" after two). Evidence: its date and a quote.
- ``unanswered``: an agent wrote after the customer's last message and the customer has not
  answered for ``unanswered_days`` (default 7) up to ``unanswered_max_days`` (default 60).
- ``gone_quiet``: with at least ``min_contacts`` contacts on record, the days since the last
  contact are at least ``quiet_days`` (default 21) and ``quiet_ratio`` (default 3) times the
  customer's typical gap between contacts (first to last contact over the number of gaps):
  silence measured against their own rhythm, not an absolute number of days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from tonewatch.trajectory._time import DAY, iso_date, to_epoch

from ._base import CONTACT_GAP_HOURS, contact_key, is_negative, quote

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from ._base import AnyEvent

__all__ = ["Silence", "SilenceResult"]

_NEGATIVE_SURVEY = 0.4


@dataclass(frozen=True, slots=True)
class SilenceResult:
    last_interaction: float | None
    days_silent: float | None
    typical_gap_days: float | None
    quiet_ratio: float | None
    gone_quiet: bool
    negative_at: float | None
    negative_quote: str | None
    silent_after_negative: bool
    agent_reply_at: float | None
    days_unanswered: float | None
    unanswered: bool
    contacts: int

    def to_dict(self) -> dict[str, Any]:
        def d(ts: float | None) -> str | None:
            return None if ts is None else iso_date(ts)

        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 1)

        return {
            "last_interaction": d(self.last_interaction),
            "days_silent": r(self.days_silent),
            "typical_gap_days": r(self.typical_gap_days),
            "quiet_ratio": r(self.quiet_ratio),
            "gone_quiet": self.gone_quiet,
            "negative_at": d(self.negative_at),
            "negative_quote": self.negative_quote,
            "silent_after_negative": self.silent_after_negative,
            "agent_reply_at": d(self.agent_reply_at),
            "days_unanswered": r(self.days_unanswered),
            "unanswered": self.unanswered,
            "contacts": self.contacts,
        }


class Silence:
    """When the customer last spoke, whether that was negative, and what has been left unanswered."""

    name = "silence"
    __slots__ = (
        "_agent",
        "_cfg",
        "_first_contact",
        "_last",
        "_last_contact",
        "_last_customer",
        "_n_contacts",
        "_negative",
    )

    def __init__(
        self,
        *,
        negative_days: float = 7.0,
        unanswered_days: float = 7.0,
        unanswered_max_days: float = 60.0,
        quiet_days: float = 21.0,
        quiet_ratio: float = 3.0,
        min_contacts: int = 3,
    ) -> None:
        self._cfg: dict[str, float] = {
            "negative_days": float(negative_days),
            "unanswered_days": float(unanswered_days),
            "unanswered_max_days": float(unanswered_max_days),
            "quiet_days": float(quiet_days),
            "quiet_ratio": float(quiet_ratio),
            "min_contacts": float(min_contacts),
        }
        self._last: tuple[float, str] | None = None  # contact de-duplication
        self._n_contacts = 0
        self._first_contact: float | None = None
        self._last_contact: float | None = None
        self._last_customer: float | None = None
        self._negative: tuple[float, str] | None = None  # last interaction, when negative
        self._agent: float | None = None  # last agent message after the customer's last one

    def update(self, event: AnyEvent, analysis: Analysis | None = None, category: str | None = None) -> Self:
        if event.kind == "message":
            ts = event.timestamp.timestamp()
            if event.author == "agent":
                if self._last_customer is None or ts >= self._last_customer:
                    self._agent = ts
                return self
            key = contact_key(event)
            last = self._last
            self._last = (ts, key)
            if not (last is not None and last[1] == key and 0 <= ts - last[0] <= CONTACT_GAP_HOURS * 3600):
                self._n_contacts += 1
                if self._first_contact is None:
                    self._first_contact = ts
                self._last_contact = ts
            negative = analysis is not None and is_negative(analysis)
            self._interaction(ts, (ts, quote(event.text, analysis)) if negative else None)
        elif event.kind == "survey":
            ts = event.timestamp.timestamp()
            negative = event.normalized <= _NEGATIVE_SURVEY or (analysis is not None and is_negative(analysis))
            text = f"{event.survey.upper()} {event.score:g}" + (f": {event.comment}" if event.comment else "")
            self._interaction(ts, (ts, quote(text, None)) if negative else None)
        return self

    def _interaction(self, ts: float, negative: tuple[float, str] | None) -> None:
        if self._last_customer is not None and ts < self._last_customer:
            return  # a late, older interaction does not change what the customer did last
        self._last_customer = ts
        self._negative = negative
        self._agent = None

    def at(self, as_of: datetime) -> SilenceResult:
        c = self._cfg
        now = to_epoch(as_of)
        last = self._last_customer
        days = None if last is None else max(now - last, 0.0) / DAY
        gap: float | None = None
        ratio: float | None = None
        if self._n_contacts >= 2 and self._first_contact is not None and self._last_contact is not None:
            gap = (self._last_contact - self._first_contact) / DAY / (self._n_contacts - 1)
            if days is not None:
                ratio = days / max(gap, 1.0)
        quiet = (
            self._n_contacts >= c["min_contacts"]
            and days is not None
            and ratio is not None
            and days >= c["quiet_days"]
            and ratio >= c["quiet_ratio"]
        )
        neg = self._negative
        after_negative = (
            neg is not None
            and days is not None
            and days >= c["negative_days"]
            and (gap is None or self._n_contacts < c["min_contacts"] or days >= gap)
        )
        unanswered = False
        waiting: float | None = None
        if self._agent is not None:
            waiting = max(now - self._agent, 0.0) / DAY
            unanswered = c["unanswered_days"] <= waiting <= c["unanswered_max_days"]
        return SilenceResult(
            last_interaction=last,
            days_silent=days,
            typical_gap_days=gap,
            quiet_ratio=ratio,
            gone_quiet=quiet,
            negative_at=None if neg is None else neg[0],
            negative_quote=None if neg is None else neg[1],
            silent_after_negative=after_negative,
            agent_reply_at=self._agent,
            days_unanswered=waiting,
            unanswered=unanswered,
            contacts=self._n_contacts,
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "config": dict(self._cfg),
            "last": None if self._last is None else list(self._last),
            "n_contacts": self._n_contacts,
            "first_contact": self._first_contact,
            "last_contact": self._last_contact,
            "last_customer": self._last_customer,
            "negative": None if self._negative is None else list(self._negative),
            "agent": self._agent,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        cfg = state["config"]
        obj = cls(
            negative_days=float(cfg["negative_days"]),
            unanswered_days=float(cfg["unanswered_days"]),
            unanswered_max_days=float(cfg["unanswered_max_days"]),
            quiet_days=float(cfg["quiet_days"]),
            quiet_ratio=float(cfg["quiet_ratio"]),
            min_contacts=int(cfg["min_contacts"]),
        )

        def opt(v: Any) -> float | None:
            return None if v is None else float(v)

        last, neg = state["last"], state["negative"]
        obj._last = None if last is None else (float(last[0]), str(last[1]))
        obj._n_contacts = int(state["n_contacts"])
        obj._first_contact = opt(state["first_contact"])
        obj._last_contact = opt(state["last_contact"])
        obj._last_customer = opt(state["last_customer"])
        obj._negative = None if neg is None else (float(neg[0]), str(neg[1]))
        obj._agent = opt(state["agent"])
        return obj
