"""The review item life cycle, in one table so every path through it is checked the same way.

    pending  -> approved | edited | rejected | snoozed | decided
    snoozed  -> pending  | approved | edited | rejected | decided
    approved -> sent        (messages only; other approved actions are done when approved)
    edited   -> sent

``approve``/``edit`` apply to the approve tier (and to automatic actions routed to a person);
``decide`` to the human tier, where the system only recommends. ``rejected``, ``sent`` and
``decided`` are final.
"""

from __future__ import annotations

from typing import Literal

from tonewatch._errors import InvalidTransitionError

__all__ = ["FINAL", "OPEN", "STATUSES", "TRANSITIONS", "Status", "check_transition"]

Status = Literal["pending", "approved", "edited", "sent", "rejected", "snoozed", "decided"]
STATUSES: tuple[Status, ...] = ("pending", "approved", "edited", "sent", "rejected", "snoozed", "decided")
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"approved", "edited", "rejected", "snoozed", "decided"}),
    "snoozed": frozenset({"pending", "approved", "edited", "rejected", "decided"}),
    "approved": frozenset({"sent"}),
    "edited": frozenset({"sent"}),
    "sent": frozenset(),
    "rejected": frozenset(),
    "decided": frozenset(),
}
OPEN: frozenset[str] = frozenset({"pending", "snoozed"})
FINAL: frozenset[str] = frozenset({"sent", "rejected", "decided"})


def check_transition(item_id: int, current: str, target: str, verb: str) -> None:
    """Raise :class:`InvalidTransitionError` unless ``current -> target`` is allowed."""
    if target not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransitionError(
            f"cannot {verb} review item {item_id}: it is {current}"
            + (
                " (final)"
                if current in FINAL
                else f"; from {current} it can go to: {', '.join(sorted(TRANSITIONS[current])) or 'nothing'}"
            ),
            field="status",
        )
