"""What the generator knows and the pipeline must discover: each customer's archetype and fate.

The demo compares the health bands against this to show how well the product reads its
customers (e.g. the share of churners flagged at-risk before they left); tests use it to
check the generator itself.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["CustomerTruth", "GroundTruth"]


@dataclass(frozen=True, slots=True)
class CustomerTruth:
    """One customer as the generator made them; ``outcome`` is None when no outcome fell in the window."""

    customer_id: str
    name: str
    segment: str
    plan: str
    archetype: str
    language: str
    code_switching: bool
    at_risk: bool
    renewal_date: date
    outcome: str | None
    outcome_date: date | None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["renewal_date"] = self.renewal_date.isoformat()
        d["outcome_date"] = self.outcome_date.isoformat() if self.outcome_date else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CustomerTruth:
        return cls(
            customer_id=d["customer_id"],
            name=d["name"],
            segment=d["segment"],
            plan=d["plan"],
            archetype=d["archetype"],
            language=d["language"],
            code_switching=bool(d["code_switching"]),
            at_risk=bool(d["at_risk"]),
            renewal_date=date.fromisoformat(d["renewal_date"]),
            outcome=d.get("outcome"),
            outcome_date=date.fromisoformat(d["outcome_date"]) if d.get("outcome_date") else None,
        )


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """Every customer of one generated history, with the parameters that reproduce it."""

    company: str
    seed: int
    start: date
    end: date
    customers: tuple[CustomerTruth, ...]

    def by_id(self) -> dict[str, CustomerTruth]:
        return {c.customer_id: c for c in self.customers}

    @property
    def archetypes(self) -> Counter[str]:
        return Counter(c.archetype for c in self.customers)

    @property
    def languages(self) -> Counter[str]:
        return Counter(c.language for c in self.customers)

    def churned(self) -> list[CustomerTruth]:
        return [c for c in self.customers if c.outcome == "churned"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "archetypes": dict(sorted(self.archetypes.items())),
            "customers": [c.to_dict() for c in self.customers],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroundTruth:
        return cls(
            company=d["company"],
            seed=int(d["seed"]),
            start=date.fromisoformat(d["start"]),
            end=date.fromisoformat(d["end"]),
            customers=tuple(CustomerTruth.from_dict(c) for c in d["customers"]),
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> GroundTruth:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
