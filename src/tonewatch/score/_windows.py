"""Cutting texts into model-sized pieces without dropping a word.

The encoder reads at most ``max_tokens`` tokens (128). Longer sentences are packed word
by word into pieces that fit; longer texts are packed sentence by sentence into windows
that fit. Every size is checked against the real tokenizer after packing, and a piece
that still overflows is halved until it fits, so nothing is ever truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache

from ._normalize import normalize_for_model
from ._sentences import Span

__all__ = ["Encoder", "fit_pieces", "pack_windows"]

Encoder = Callable[[Sequence[str]], list[list[int]]]
WordCounter = Callable[[Sequence[str]], list[int]]
_CHAR_CHUNK = 24


@cache
def _word_re() -> re.Pattern[str]:
    return re.compile(r"\S+")


def _halve(text: str, span: Span) -> list[Span]:
    a, b = span
    words = [(m.start(), m.end()) for m in _word_re().finditer(text, a, b)]
    if len(words) > 1:
        mid = words[len(words) // 2][0]
        return [(a, words[len(words) // 2 - 1][1]), (mid, b)]
    cut = a + (b - a) // 2
    return [(a, cut), (cut, b)]


def _verify(text: str, spans: list[Span], encode: Encoder, limit: int) -> list[tuple[Span, list[int]]]:
    """Encode each span; halve the ones over ``limit`` tokens until all fit."""
    out: list[tuple[Span, list[int]]] = []
    todo = spans
    while todo:
        ids = encode([normalize_for_model(text[a:b]) for a, b in todo])
        retry: list[Span] = []
        for span, seq in zip(todo, ids, strict=True):
            if len(seq) <= limit or span[1] - span[0] <= 1:
                out.append((span, seq))
            else:
                retry.extend(_halve(text, span))
        todo = retry
    out.sort(key=lambda item: item[0])
    return out


def fit_pieces(
    text: str, span: Span, encode: Encoder, count_words: WordCounter, limit: int
) -> list[tuple[Span, list[int]]]:
    """Split one over-long sentence into consecutive pieces of at most ``limit`` tokens."""
    a, b = span
    words = [(m.start(), m.end()) for m in _word_re().finditer(text, a, b)]
    counts = count_words([normalize_for_model(text[s:e]) or text[s:e] for s, e in words])
    budget = limit - 2
    pieces: list[Span] = []
    start: int | None = None
    end = a
    used = 0
    for (s, e), n in zip(words, counts, strict=True):
        if n > budget:
            if start is not None:
                pieces.append((start, end))
                start, used = None, 0
            pieces.extend((c, min(c + _CHAR_CHUNK, e)) for c in range(s, e, _CHAR_CHUNK))
            continue
        if start is not None and used + n > budget:
            pieces.append((start, end))
            start, used = None, 0
        if start is None:
            start = s
        end = e
        used += n
    if start is not None:
        pieces.append((start, end))
    return _verify(text, pieces, encode, limit)


def pack_windows(
    text: str, pieces: Sequence[tuple[Span, int]], encode: Encoder, limit: int
) -> list[tuple[Span, list[int]]]:
    """Pack consecutive pieces (span, token count) into windows of at most ``limit`` tokens."""
    windows: list[Span] = []
    start: int | None = None
    end = 0
    used = 2
    for (s, e), n in pieces:
        inner = n - 2
        if start is not None and used + inner > limit:
            windows.append((start, end))
            start, used = None, 2
        if start is None:
            start = s
        end = e
        used += inner
    if start is not None:
        windows.append((start, end))
    return _verify(text, windows, encode, limit)
