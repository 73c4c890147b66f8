"""The emotional-outreach guardrail: text about a customer's feelings is never sent automatically.

Telling a customer "we noticed you seem frustrated" is only acceptable when a person has read the
conversation and chosen those words; sent by a machine it reads as surveillance. Any outreach
whose text names feelings or emotional state must be approved by a person, whatever a rule or a
tier setting says. The check is deliberately broad: a false positive costs one review.
"""

from __future__ import annotations

import re

__all__ = ["FEELING_WORDS", "PROMISE_WORDS", "mentions_feelings", "promises_compensation"]

FEELING_WORDS: tuple[str, ...] = (
    r"frustrat\w*",
    r"disappoint\w*",
    r"upset\w*",
    r"angr\w*",
    r"anger",
    r"annoy\w*",
    r"irritat\w*",
    r"furious",
    r"unhappy",
    r"sad(?:ness|dened)?",
    r"feel(?:s|ing|ings)?(?!\s+free)",
    r"felt",
    r"emotion\w*",
    r"sentiment\w*",
    r"mood",
    r"stress\w*",
    r"worr(?:y|ied|ies|ying)",
    r"anxi\w*",
    r"confus\w*",
    r"dissatisf\w*",
    r"satisf(?:ied|action)",
    r"hurt",
    r"tone",
    r"mad",
)
_FEELINGS = re.compile(r"\b(?:" + "|".join(FEELING_WORDS) + r")\b", re.IGNORECASE)

PROMISE_WORDS: tuple[str, ...] = (
    r"discount\w*",
    r"coupon\w*",
    r"voucher\w*",
    r"refund\w*",
    r"credit(?:s|ed)?",
    r"free\s+(?:month|months|upgrade|year|period|seat|seats)",
    r"\d+\s*%\s*off",
    r"waive\w*",
    r"complimentary",
    r"price\s+(?:cut|reduction|match)",
)
_PROMISES = re.compile(r"\b(?:" + "|".join(PROMISE_WORDS) + r")", re.IGNORECASE)


def mentions_feelings(text: str) -> list[str]:
    """The words in ``text`` that refer to feelings or emotional state (empty when none)."""
    return [m.group(0) for m in _FEELINGS.finditer(text)]


def promises_compensation(text: str) -> list[str]:
    """Words that offer money or a concession; only a person may add these to outreach."""
    return [m.group(0) for m in _PROMISES.finditer(text)]
