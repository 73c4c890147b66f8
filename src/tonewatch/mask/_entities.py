"""The result of masking: the masked text and where each entity was in the original.

Offsets refer to the *original* text so a reviewer with access to the encrypted raw
text can see exactly what was hidden, while everything downstream only sees ``text``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Final, NamedTuple

__all__ = ["KINDS", "Entity", "Masked", "placeholder"]

KINDS: Final[tuple[str, ...]] = (
    "EMAIL",
    "URL_TOKEN",
    "SECRET",
    "IBAN",
    "CARD",
    "SSN",
    "IP",
    "PHONE",
    "ADDRESS",
    "NAME",
)


def placeholder(kind: str) -> str:
    """The typed placeholder that replaces an entity of ``kind``, e.g. ``<EMAIL>``."""
    return f"<{kind}>"


class Entity(NamedTuple):
    """One masked span: ``original[start:end]`` became ``placeholder(kind)``."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Masked:
    """Masked text plus the entities found, in order of their position."""

    text: str
    entities: tuple[Entity, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """How many entities of each kind were masked (kinds with none are absent)."""
        return dict(Counter(entity.kind for entity in self.entities))

    @property
    def changed(self) -> bool:
        """Whether anything was masked at all."""
        return bool(self.entities)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (never contains the original values)."""
        return {
            "text": self.text,
            "entities": [{"kind": e.kind, "start": e.start, "end": e.end} for e in self.entities],
            "counts": self.counts,
        }
