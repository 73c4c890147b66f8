"""Build one regex alternation from many lowercase words, factored as a trie.

``hi|hiya|hello|hey`` becomes ``h(?:i(?:ya)?|e(?:llo|y))``: the engine then rejects a
position after comparing one character per branch instead of trying every word, which
keeps greeting and sign-off detection cheap on every sentence of every message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["word_union"]

_Trie = dict[str, "_Trie"]
_END = ""


def _insert(trie: _Trie, word: str) -> None:
    node = trie
    for ch in word:
        node = node.setdefault(ch, {})
    node[_END] = {}


def _char(ch: str) -> str:
    return r"[ \t]+" if ch == " " else re.escape(ch)


def _render(node: _Trie) -> str:
    optional = _END in node
    branches = [_char(ch) + _render(child) for ch, child in sorted(node.items()) if ch != _END]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if optional:
        return f"(?:{body})?"
    return body


def word_union(words: Iterable[str]) -> str:
    """A regex matching exactly the given words (spaces match runs of blanks), as a trie."""
    trie: _Trie = {}
    for word in words:
        if word:
            _insert(trie, word)
    return _render(trie)
