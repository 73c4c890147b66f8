"""Words of stored (masked) message text, for vocabulary drift and near-duplicate detection.

Both the drift report and the labelling suggestions must count words the same way, or a word
"new" to one would be "seen" by the other; this module is that one way. It is deliberately
simple and model-free (the drift report must be computable from the store alone): lower-cased
letter/digit runs, apostrophes kept inside words, numbers and PII placeholders (``<EMAIL>``...)
dropped, and CJK characters one token each (those scripts do not separate words by spaces).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["jaccard", "normalise", "shingles", "words"]

_PLACEHOLDER = re.compile(r"<[A-Z_]{2,16}>")
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}](?:[^\W_{_CJK}]|['’](?=[^\W\d_]))*")
_SPACE = re.compile(r"\s+")


def words(text: str | None) -> list[str]:
    """The words of ``text`` in order (lower-cased; numbers, placeholders and one-letter words dropped)."""
    if not text:
        return []
    cleaned = _PLACEHOLDER.sub(" ", text)
    out: list[str] = []
    for match in _TOKEN.finditer(cleaned):
        token = match.group(0).lower().replace("’", "'")
        if token.isdigit():
            continue
        if len(token) < 2 and not re.match(rf"[{_CJK}]", token):
            continue
        out.append(token)
    return out


def normalise(text: str | None) -> str:
    """A key under which trivially different copies of a message are equal (case, digits, punctuation)."""
    if not text:
        return ""
    lowered = _PLACEHOLDER.sub(" ", text).lower()
    lowered = re.sub(r"\d+", "0", lowered)
    lowered = re.sub(r"[^\w\s]", " ", lowered)
    return _SPACE.sub(" ", lowered).strip()


def shingles(text: str | None, k: int = 3) -> frozenset[str]:
    """Word ``k``-grams of ``text`` (character ``k+2``-grams when it has fewer than ``k`` words).

    Near-duplicates (the same complaint with another order number, a template with one word
    changed) share most shingles while different messages share few.
    """
    tokens = normalise(text).split()
    if len(tokens) >= k:
        return frozenset(" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1))
    joined = " ".join(tokens)
    n = k + 2
    if len(joined) <= n:
        return frozenset({joined}) if joined else frozenset()
    return frozenset(joined[i : i + n] for i in range(len(joined) - n + 1))


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """Size of the intersection over size of the union (0 for two empty sets)."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return 0.0 if union == 0 else len(sa & sb) / union
