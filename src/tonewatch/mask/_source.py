"""The text to mask plus cheap views of it that let detectors skip work.

Masking runs on every message, most of which contain no personal data at all. Lowering
the text and collecting its words once lets each detector check for its trigger words
(a set intersection) before running any regex. Words are kept as UTF-8 bytes because
``bytes.translate`` splits them on ASCII punctuation several times faster than a regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Final

__all__ = ["Source", "keywords", "split_words"]

_PUNCTUATION: Final = bytes(c for c in range(128) if not (chr(c).isalnum() or chr(c) == "_"))
_TO_SPACE: Final = bytes.maketrans(_PUNCTUATION, b" " * len(_PUNCTUATION))


def split_words(text: str) -> list[str]:
    """Whitespace-separated words of a long literal (keeps word lists readable in the source)."""
    return text.split()


def keywords(words: Iterable[str]) -> frozenset[bytes]:
    """Trigger words in the form :attr:`Source.words` holds them."""
    return frozenset(w.lower().encode("utf-8") for w in words)


@cache
def _digit_re() -> re.Pattern[str]:
    return re.compile(r"[0-9]")


@cache
def _number_run_re() -> re.Pattern[str]:
    # Seven or more digits with at most one separator between them: the least any phone,
    # card, IBAN or SSN has. Most messages have none and skip those detectors entirely.
    return re.compile(r"[0-9](?:[ ().+\-/]?[0-9]){6}")


class Source:
    """``text`` with its lowercase form (same offsets), its lowercase words and what digits it has.

    Read-only by convention; a plain slotted class because it is built for every message.
    """

    __slots__ = ("has_digit", "has_number_run", "low", "text", "words")

    def __init__(self, text: str) -> None:
        low = text.lower()
        if len(low) != len(text):
            # A few characters lower to two ("İ"): keep those as they are so offsets match.
            low = "".join(lowered if len(lowered := ch.lower()) == 1 else ch for ch in text)
        self.text = text
        self.low = low
        self.words = frozenset(low.encode("utf-8", "surrogatepass").translate(_TO_SPACE).split())
        self.has_digit = _digit_re().search(text) is not None
        self.has_number_run = self.has_digit and _number_run_re().search(text) is not None

    def has_word(self, words: frozenset[bytes]) -> bool:
        """Whether any of ``words`` (see :func:`keywords`) occurs as a whole word."""
        return not self.words.isdisjoint(words)
