"""A tiny template language so a few hundred lines of phrases yield many thousands of messages.

``[a|b|c]`` picks one alternative (alternatives nest and may be empty: ``[really |]``),
``{slot}`` is filled from a mapping of slot values (a string, a list to pick from, or a
callable taking the random generator). Every choice goes through the caller's
``random.Random``, so the same seed always renders the same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from random import Random
from typing import TypeAlias

__all__ = ["SlotValue", "Slots", "pick", "render", "tidy"]

SlotValue: TypeAlias = str | Sequence[str] | Callable[[Random], str]
Slots: TypeAlias = Mapping[str, SlotValue]

# A parsed template is a sequence of literals, slot references and choices of sequences.
_Node: TypeAlias = "str | _SlotRef | _Choice"
_Seq: TypeAlias = tuple[_Node, ...]


class _SlotRef:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Choice:
    __slots__ = ("options",)

    def __init__(self, options: tuple[_Seq, ...]) -> None:
        self.options = options


def _parse_seq(src: str, i: int, *, nested: bool) -> tuple[list[_Seq], int]:
    """Parse alternatives up to the closing bracket (or the end of the template)."""
    options: list[_Seq] = []
    seq: list[_Node] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            seq.append("".join(buf))
            buf.clear()

    while i < len(src):
        ch = src[i]
        if ch == "[":
            flush()
            inner, i = _parse_seq(src, i + 1, nested=True)
            seq.append(_Choice(tuple(inner)))
            continue
        if ch == "]" and nested:
            flush()
            options.append(tuple(seq))
            return options, i + 1
        if ch == "|" and nested:
            flush()
            options.append(tuple(seq))
            seq = []
            i += 1
            continue
        if ch == "{":
            end = src.index("}", i)
            flush()
            seq.append(_SlotRef(src[i + 1 : end]))
            i = end + 1
            continue
        buf.append(ch)
        i += 1
    if nested:
        raise ValueError(f"unclosed '[' in template: {src!r}")
    flush()
    options.append(tuple(seq))
    return options, i


@lru_cache(maxsize=8192)
def _parse(template: str) -> _Seq:
    return _parse_seq(template, 0, nested=False)[0][0]


def pick(rng: Random, value: SlotValue) -> str:
    """One concrete string from a slot value."""
    if isinstance(value, str):
        return value
    if callable(value):
        return value(rng)
    return value[rng.randrange(len(value))]


def _render(seq: _Seq, rng: Random, slots: Slots, out: list[str]) -> None:
    for node in seq:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _SlotRef):
            value = slots.get(node.name)
            if value is None:
                raise KeyError(f"template slot {{{node.name}}} has no value")
            text = pick(rng, value)
            # Slot values may themselves be templates (a phrase bank entry with choices).
            if "[" in text or "{" in text:
                _render(_parse(text), rng, slots, out)
            else:
                out.append(text)
        else:
            _render(node.options[rng.randrange(len(node.options))], rng, slots, out)


_SPACES = re.compile(r"[ \t]+")
_BEFORE_PUNCT = re.compile(r" +([,.!?;:)])")
_DOUBLE_PUNCT = re.compile(r"(?<=[!?])\.|(?<![.])\.(?=\.(?!\.))")
_LINE_EDGES = re.compile(r" *\n *")


def tidy(text: str) -> str:
    """Clean the seams left by empty alternatives: doubled spaces, space before punctuation."""
    text = _SPACES.sub(" ", text)
    text = _BEFORE_PUNCT.sub(r"\1", text)
    text = _DOUBLE_PUNCT.sub("", text)
    text = _LINE_EDGES.sub("\n", text).strip().lstrip(",;: ")
    return text[:1].upper() + text[1:] if text else text


def render(template: str, rng: Random, slots: Slots | None = None) -> str:
    """Expand one template; the result is tidied but not otherwise changed."""
    out: list[str] = []
    _render(_parse(template), rng, slots or {}, out)
    return tidy("".join(out))
