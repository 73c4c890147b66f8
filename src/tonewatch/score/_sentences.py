"""Sentence (and contrastive-clause) splitting with character offsets into the original text.

Support messages turn on their clauses ("I love the product, but the shipping was a
nightmare"), so besides sentence ends and line breaks we also split before contrastive
conjunctions: that is where a message's polarity changes, and per-sentence labels are what
``mixed`` is decided from. Splits only ever happen at whitespace, so the word pieces of the
sentences concatenate to those of the whole text and windows can be built without
re-tokenising. Every non-space character of the text lies in exactly one span.
"""

from __future__ import annotations

import functools
import re

__all__ = ["split_sentences"]

Span = tuple[int, int]

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    (
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "eg",
        "ie",
        "e.g",
        "i.e",
        "approx",
        "appt",
        "apt",
        "dept",
        "est",
        "inc",
        "ltd",
        "co",
        "corp",
        "no",
        "nos",
        "tel",
        "fig",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "a.m",
        "p.m",
        "am",
        "pm",
        "u.s",
        "u.k",
        "ref",
        "acct",
        "min",
        "max",
        "avg",
    )
)
_FAST_PATH = re.compile(r"[.!?…;\n\r,]|\bbut\b|\bhowever\b", re.IGNORECASE)
_CONTRAST = r"(?:but|however|although|though|yet|unfortunately|except|whereas|while|otherwise)"


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    # A run of terminal punctuation, optional closers, then whitespace: split after the closers.
    end = re.compile(r"[.!?…]+[\"'”’)\]»]*(?=\s)")
    # ", but" / "; however" / "- although": split before the conjunction.
    clause = re.compile(rf"(?:[,;:]|\s[-–—])\s+(?={_CONTRAST}\b)|;\s+", re.IGNORECASE)
    # A bare " but " between two clauses of >= 3 words each ("not only ... but also" excluded).
    bare_but = re.compile(r"(?<=\w)\s+(?=but\s+(?!also\b|rather\b|then\b)\w)", re.IGNORECASE)
    return end, clause, bare_but


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at ``dot`` closes an abbreviation or an initial, not a sentence."""
    if text[dot] != "." or (dot + 1 < len(text) and text[dot + 1] in ".…"):
        return False
    i = dot
    while i > 0 and (text[i - 1].isalpha() or text[i - 1] == "."):
        i -= 1
    word = text[i:dot].lower()
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return text[i].isupper()  # an initial: "J. Smith"
    return word.rstrip(".") in _ABBREVIATIONS


def _has_content(text: str) -> bool:
    """Letters, digits or emoji/symbols: something the model can read (not just punctuation)."""
    return any(ch.isalnum() or ord(ch) >= 0x2100 for ch in text)


def _word_count(text: str) -> int:
    return len(text.split())


def _cuts_in_line(line: str) -> list[int]:
    end, clause, bare_but = _patterns()
    cuts: set[int] = set()
    for m in end.finditer(line):
        last_punct = m.group().rstrip("\"'”’)]»")
        if last_punct.endswith(".") and len(last_punct) == 1 and _is_abbreviation(line, m.start()):
            continue
        if last_punct.endswith(("...", "…")):
            nxt = line[m.end() :].lstrip()[:1]
            if nxt and nxt.islower():
                continue  # "Well... I guess": a pause, not an end
        cuts.add(m.end())
    for m in clause.finditer(line):
        cuts.add(m.end())
    for m in bare_but.finditer(line):
        if _word_count(line[: m.start()].rsplit(".", 1)[-1]) >= 3 and _word_count(line[m.end() :]) >= 4:
            cuts.add(m.end())
    return sorted(cuts)


def split_sentences(text: str) -> list[Span]:
    """Spans ``(start, end)`` of the sentences/clauses of ``text``, in order, trimmed of whitespace."""
    whole = _trim(text, 0, len(text))
    if whole is None:
        return []
    if not _FAST_PATH.search(text):
        return [whole]
    spans: list[Span] = []
    pos = 0
    for line in re.split(r"(\r\n|\r|\n)", text):
        if line in ("\r\n", "\r", "\n"):
            pos += len(line)
            continue
        prev = 0
        for cut in [*_cuts_in_line(line), len(line)]:
            span = _trim(text, pos + prev, pos + cut)
            if span is not None:
                spans.append(span)
            prev = cut
        pos += len(line)
    merged: list[Span] = []
    for span in spans:
        if merged and not _has_content(text[span[0] : span[1]]):
            merged[-1] = (merged[-1][0], span[1])  # "!!!" or "---" on its own joins the sentence before
        elif merged and not _has_content(text[merged[-1][0] : merged[-1][1]]):
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    return merged
