"""Deterministic holdout assignment: the same customer is always in the same group.

Hashing the customer id (not drawing at random per firing) keeps a customer's group stable
across rules, restarts and replays, which is what makes the treated-vs-holdout comparison in
``tonewatch report impact`` a fair experiment.
"""

from __future__ import annotations

import hashlib

__all__ = ["HOLDOUT_SALT", "holdout_unit", "in_holdout"]

HOLDOUT_SALT = "tonewatch-holdout-v1"


def holdout_unit(customer_id: str, salt: str = HOLDOUT_SALT) -> float:
    """A stable number in [0, 1) for the customer."""
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_holdout(customer_id: str, fraction: float, salt: str = HOLDOUT_SALT) -> bool:
    """Whether the customer is held out (flagged, never acted on) at this fraction."""
    return fraction > 0 and holdout_unit(customer_id, salt) < fraction
