"""Issue category of a customer message from a configurable, weighted keyword taxonomy.

The category is what "repeat contact about the same issue" and the product report group
by, so it must be deterministic, explainable and editable by an operator without
retraining anything: each category lists weighted keywords and regex phrases (English plus
basic Spanish, French and German in the bundled ``taxonomy.yaml``); a message scores the sum
of the weights of the distinct terms it contains; the best score wins, ties go to the
category listed first, and below ``min_score`` the message is the ``default`` ("other").
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from tonewatch._errors import InputError

__all__ = ["Taxonomy", "TermMatch", "categorize", "normalize_for_matching"]

_BUNDLED: Final = Path(__file__).with_name("taxonomy.yaml")
_TOP_LEVEL: Final = frozenset({"version", "default", "min_score", "categories"})
_CATEGORY_KEYS: Final = frozenset({"keywords", "patterns"})
_MAX_NAME_WORDS: Final = 3
_MAX_NAME_CHARS: Final = 40
_APOSTROPHES: Final = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})


@cache
def _combining_re() -> re.Pattern[str]:
    return re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def normalize_for_matching(text: str) -> str:
    """Casefolded, accent-free text with straight apostrophes: "Rückerstattung" -> "ruckerstattung"."""
    folded = text.casefold().translate(_APOSTROPHES)
    if folded.isascii():
        return folded
    return _combining_re().sub("", unicodedata.normalize("NFKD", folded))


def _invalid(message: str, field: str) -> InputError:
    return InputError(f"invalid taxonomy: {field}: {message}", code="invalid_taxonomy", field=field)


@dataclass(frozen=True, slots=True)
class TermMatch:
    """One keyword or pattern of ``category`` found in a message, and its weight."""

    category: str
    term: str
    weight: float


@dataclass(frozen=True, slots=True)
class _Term:
    category: int
    term: str
    weight: float


class _Trie:
    __slots__ = ("children", "exact", "wildcard")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.exact = False
        self.wildcard = False

    def insert(self, key: str, *, wildcard: bool) -> None:
        node = self
        for ch in key:
            node = node.children.setdefault(ch, _Trie())
        if wildcard:
            node.wildcard = True
        else:
            node.exact = True

    def render(self) -> str:
        alternatives = [
            (r"\s+" if ch == " " else re.escape(ch)) + child.render() for ch, child in sorted(self.children.items())
        ]
        if self.wildcard:
            alternatives.append(r"\w*")  # tried last: explicit longer keywords win
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if self.exact and not self.wildcard else body


class _KeywordIndex:
    """Every keyword of every category in one trie-shaped regex, plus lookup tables.

    One scan of the text finds the longest keyword at each position; the keywords that are
    prefixes of it (``account`` in ``account locked``, ``charg*`` in ``charged``) are then
    looked up, so a message is read once however many categories there are.
    """

    __slots__ = ("exact", "regex", "wildcard")

    def __init__(self, keywords: list[_Term]) -> None:
        self.exact: dict[str, list[_Term]] = {}
        self.wildcard: dict[str, list[_Term]] = {}
        trie = _Trie()
        for term in keywords:
            key = " ".join(normalize_for_matching(term.term.rstrip("*")).split())
            wildcard = term.term.endswith("*")
            (self.wildcard if wildcard else self.exact).setdefault(key, []).append(term)
            trie.insert(key, wildcard=wildcard)
        self.regex = re.compile(rf"(?<!\w)(?:{trie.render()})(?!\w)") if keywords else None

    def find(self, normalized: str) -> list[_Term]:
        if self.regex is None:
            return []
        found: list[_Term] = []
        for m in self.regex.finditer(normalized):
            words = m.group().split()
            for k in range(1, len(words) + 1):
                head = " ".join(words[: k - 1])
                head = head + " " if head else ""
                last = words[k - 1]
                found.extend(self.exact.get(head + last, ()))
                for j in range(1, len(last) + 1):
                    found.extend(self.wildcard.get(head + last[:j], ()))
        return found


def _weight(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise _invalid(f"weight must be a positive number, got {value!r}", field)
    return float(value)


def _terms(raw: Any, field: str) -> list[tuple[str, float]]:
    """``{term: weight}`` or a list of terms (weight 1) -> ``[(term, weight)]``."""
    if raw is None:
        return []
    if isinstance(raw, list):
        raw = dict.fromkeys(raw, 1.0) if all(isinstance(t, str) for t in raw) else raw
    if not isinstance(raw, Mapping):
        raise _invalid(f"expected a mapping of term to weight, got {type(raw).__name__}", field)
    terms = []
    for term, weight in raw.items():
        if not isinstance(term, str) or not term.strip() or term.strip() == "*":
            raise _invalid(f"a term must be a non-empty string, got {term!r}", field)
        terms.append((term, _weight(weight, f"{field}.{term}")))
    return terms


@dataclass(frozen=True, slots=True)
class _Category:
    name: str
    keywords: tuple[tuple[str, float], ...]
    patterns: tuple[tuple[str, float, re.Pattern[str]], ...]


def _parse_category(name: str, raw: Any) -> _Category:
    field = f"categories.{name}"
    words = name.split()
    if not words or len(words) > _MAX_NAME_WORDS or len(name) > _MAX_NAME_CHARS or name != name.strip():
        raise _invalid(f"a category name is 1 to {_MAX_NAME_WORDS} words and at most {_MAX_NAME_CHARS} chars", field)
    if not isinstance(raw, Mapping):
        raise _invalid(f"expected a mapping with keywords and/or patterns, got {type(raw).__name__}", field)
    for key in raw:
        if key not in _CATEGORY_KEYS:
            raise _invalid(f"unknown key {key!r} (expected keywords, patterns)", f"{field}.{key}")
    keywords = _terms(raw.get("keywords"), f"{field}.keywords")
    patterns = _terms(raw.get("patterns"), f"{field}.patterns")
    if not keywords and not patterns:
        raise _invalid("a category needs at least one keyword or pattern", field)
    compiled = []
    for pattern, weight in patterns:
        try:
            compiled.append((pattern, weight, re.compile(pattern)))
        except re.error as exc:
            raise _invalid(f"not a valid regular expression: {exc}", f"{field}.patterns.{pattern}") from exc
    return _Category(name, tuple(keywords), tuple(compiled))


class Taxonomy:
    """An ordered set of categories with weighted keywords and patterns; immutable once built."""

    __slots__ = ("_default", "_index", "_min_score", "_names", "_patterns")

    def __init__(self, categories: tuple[_Category, ...], *, default: str = "other", min_score: float = 1.0):
        self._names = tuple(c.name for c in categories)
        self._default = default
        self._min_score = min_score
        self._index = _KeywordIndex(
            [_Term(i, term, weight) for i, c in enumerate(categories) for term, weight in c.keywords]
        )
        self._patterns = tuple(
            (_Term(i, term, weight), regex) for i, c in enumerate(categories) for term, weight, regex in c.patterns
        )

    @classmethod
    def from_dict(cls, data: Any) -> Taxonomy:
        """Build and validate; an :class:`InputError` (code ``invalid_taxonomy``) names the bad field."""
        if not isinstance(data, Mapping):
            raise _invalid(f"expected a mapping at the top level, got {type(data).__name__}", "taxonomy")
        for key in data:
            if key not in _TOP_LEVEL:
                raise _invalid(f"unknown key {key!r} (expected {', '.join(sorted(_TOP_LEVEL))})", str(key))
        if data.get("version", 1) != 1:
            raise _invalid(f"unsupported version {data.get('version')!r} (expected 1)", "version")
        default = data.get("default", "other")
        if not isinstance(default, str) or not default.strip() or len(default.split()) > _MAX_NAME_WORDS:
            raise _invalid(f"default must be a category name of 1 to {_MAX_NAME_WORDS} words", "default")
        min_score = _weight(data.get("min_score", 1.0), "min_score")
        raw_categories = data.get("categories")
        if not isinstance(raw_categories, Mapping) or not raw_categories:
            raise _invalid("expected a non-empty mapping of category name to rules", "categories")
        categories = []
        for name, raw in raw_categories.items():
            if not isinstance(name, str):
                raise _invalid(f"a category name must be a string, got {name!r}", f"categories.{name}")
            categories.append(_parse_category(name, raw))
        return cls(tuple(categories), default=default, min_score=min_score)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Taxonomy:
        """Load a taxonomy file (see the bundled ``taxonomy.yaml`` for the format)."""
        import yaml

        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            message = f"cannot read taxonomy file {path}: {exc.strerror}"
            raise InputError(message, code="invalid_taxonomy", field="path") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise _invalid(f"not valid YAML ({exc})", "taxonomy") from exc
        return cls.from_dict(data)

    @classmethod
    def default(cls) -> Taxonomy:
        """The bundled taxonomy, loaded once per process."""
        with _DEFAULT_LOCK:
            if not _DEFAULT:
                _DEFAULT.append(cls.from_yaml(_BUNDLED))
            return _DEFAULT[0]

    @property
    def names(self) -> tuple[str, ...]:
        """Category names in priority (tie-break) order, without the default."""
        return self._names

    @property
    def default_category(self) -> str:
        return self._default

    @property
    def min_score(self) -> float:
        return self._min_score

    def _terms_in(self, text: str) -> list[_Term]:
        normalized = normalize_for_matching(text)
        found = self._index.find(normalized)
        found.extend(term for term, regex in self._patterns if regex.search(normalized))
        seen: set[tuple[int, str]] = set()
        distinct = []
        for term in found:
            key = (term.category, term.term)
            if key not in seen:
                seen.add(key)
                distinct.append(term)
        return distinct

    def matches(self, text: str) -> list[TermMatch]:
        """Every distinct term found in ``text`` (each counted once): the evidence behind :meth:`categorize`."""
        return [TermMatch(self._names[t.category], t.term, t.weight) for t in self._terms_in(text)]

    def scores(self, text: str) -> dict[str, float]:
        """Score per category (0 for categories with no match), in taxonomy order."""
        totals = [0.0] * len(self._names)
        for term in self._terms_in(text):
            totals[term.category] += term.weight
        return dict(zip(self._names, totals, strict=True))

    def categorize(self, text: str) -> str:
        """The best-scoring category; ties go to the one listed first; below ``min_score``, the default."""
        best_name, best_score = self._default, 0.0
        for name, score in self.scores(text).items():
            if score > best_score:
                best_name, best_score = name, score
        return best_name if best_score >= self._min_score else self._default


_DEFAULT: list[Taxonomy] = []
_DEFAULT_LOCK: Final = threading.Lock()


def categorize(text: str, taxonomy: Taxonomy | None = None) -> str:
    """A short issue category for ``text`` (e.g. ``billing``, ``login/access``, ``other``)."""
    return (taxonomy or Taxonomy.default()).categorize(text)
