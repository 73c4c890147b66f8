"""What one ingestion did: counts plus a reason for every rejected line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["IngestReport", "Rejection", "SweepReport"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """One event refused as a whole; ``line`` is the file line (or 1-based position)."""

    line: int | None
    event_id: str | None
    code: str
    reason: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "event_id": self.event_id,
            "code": self.code,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass(slots=True)
class IngestReport:
    """Counts of one :meth:`Pipeline.ingest` call (or of several, merged with ``+=``)."""

    accepted: int = 0
    duplicate: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    customers: int = 0
    rebuilt: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.accepted + self.duplicate + len(self.rejected)

    @property
    def ok(self) -> bool:
        """True when nothing was rejected (the CLI's exit status)."""
        return not self.rejected

    @property
    def events_per_second(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def __iadd__(self, other: IngestReport) -> IngestReport:
        self.accepted += other.accepted
        self.duplicate += other.duplicate
        self.rejected.extend(other.rejected)
        self.customers += other.customers
        self.rebuilt += other.rebuilt
        self.seconds += other.seconds
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": [r.to_dict() for r in self.rejected],
            "customers_updated": self.customers,
            "rebuilt": self.rebuilt,
            "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class SweepReport:
    """What one :meth:`Pipeline.sweep` did."""

    customers: int = 0
    persisted: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"customers": self.customers, "persisted": self.persisted, "seconds": round(self.seconds, 3)}
