"""``mask_pii``: replace personal data with typed placeholders before anything is stored or sent.

Detectors run on the original text in priority order (an email beats the name inside it,
a card beats the phone-shaped digits inside it) and a span is kept only if it does not
overlap one already kept. Only the entities are replaced, so everything else, including
the words that carry sentiment, reaches the scorer untouched. Placeholders contain no
digits, ``@`` or name-like words, so masking masked text finds nothing new (idempotent).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

from tonewatch._errors import InvalidTextError

from ._address import find_addresses
from ._entities import Entity, Masked, placeholder
from ._names import find_names
from ._source import Source
from ._structured import (
    find_cards,
    find_emails,
    find_ibans,
    find_ips,
    find_phones,
    find_secrets,
    find_ssns,
    find_url_tokens,
)

__all__ = ["mask_pii"]

Detector = Callable[[Source], list[tuple[int, int]]]

# What a text must contain for a detector to possibly match: anything, an ASCII digit,
# or a run of seven or more digits (see :class:`Source`).
_ALWAYS = 0
_DIGIT = 1
_NUMBER = 2

# (kind, detector, what the text needs), in priority order.
_DETECTORS: tuple[tuple[str, Detector, int], ...] = (
    ("EMAIL", find_emails, _ALWAYS),
    ("URL_TOKEN", find_url_tokens, _ALWAYS),
    ("SECRET", find_secrets, _ALWAYS),
    ("IBAN", find_ibans, _NUMBER),
    ("CARD", find_cards, _NUMBER),
    ("SSN", find_ssns, _NUMBER),
    ("IP", find_ips, _ALWAYS),
    ("PHONE", find_phones, _NUMBER),
    ("ADDRESS", find_addresses, _DIGIT),
    ("NAME", find_names, _ALWAYS),
)


def _longest_first(span: tuple[int, int]) -> tuple[int, int]:
    return (span[0] - span[1], span[0])


def _resolve(text: str) -> list[Entity]:
    """Run every detector and keep the non-overlapping spans, higher priority first."""
    starts: list[int] = []
    kept: list[Entity] = []
    src = Source(text)
    level = _NUMBER if src.has_number_run else _DIGIT if src.has_digit else _ALWAYS
    for kind, detect, needs in _DETECTORS:
        if needs > level:
            continue
        spans = detect(src)
        if not spans:
            continue
        if len(spans) > 1:
            # Within one kind, longer spans first so "+44 20 7946 0958" beats a shorter reading of it.
            spans.sort(key=_longest_first)
        for start, end in spans:
            if end <= start:
                continue
            i = bisect_left(starts, start)
            if (i > 0 and kept[i - 1].end > start) or (i < len(kept) and kept[i].start < end):
                continue
            starts.insert(i, start)
            kept.insert(i, Entity(kind, start, end))
    return kept


def mask_pii(text: str) -> Masked:
    """Mask emails, phones, cards, IBANs, SSNs, IPs, addresses, names and credentials in ``text``.

    Never raises on a ``str``; anything else is an :class:`InvalidTextError`.
    """
    if not isinstance(text, str):
        raise InvalidTextError(f"expected text as str, got {type(text).__name__}", field="text")
    entities = _resolve(text)
    if not entities:
        return Masked(text)
    parts: list[str] = []
    pos = 0
    for entity in entities:
        parts.append(text[pos : entity.start])
        parts.append(placeholder(entity.kind))
        pos = entity.end
    parts.append(text[pos:])
    return Masked("".join(parts), tuple(entities))
