"""Recall and precision of PII masking on a corpus of realistic support-message lines.

Each line of ``pii_corpus.jsonl`` is ``{"text": ..., "pii": [[KIND, value], ...]}``; lines
with no PII are negatives (ticket numbers, order IDs, dates, amounts, versions, non-Luhn
numbers, bad checksums, audiences such as "Hi team") that must come out unchanged. A
gold entity counts as found when entities of its kind cover all of its characters.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tonewatch.mask import KINDS, Masked, mask_pii, placeholder

CORPUS = Path(__file__).with_name("pii_corpus.jsonl")

# Types with enough examples for a per-type floor; the rarer credential kinds count toward overall recall.
PER_TYPE = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "ADDRESS", "NAME")


@dataclass(frozen=True)
class Line:
    text: str
    gold: tuple[tuple[str, int, int], ...]


def _load() -> list[Line]:
    lines = []
    for raw in CORPUS.read_text(encoding="utf-8").splitlines():
        row = json.loads(raw)
        text = row["text"]
        seen: Counter[tuple[str, str]] = Counter()
        gold = []
        for kind, value in row["pii"]:
            start = -1
            for _ in range(seen[(kind, value)] + 1):  # the n-th repeat of a value is its n-th occurrence
                start = text.index(value, start + 1)
            seen[(kind, value)] += 1
            gold.append((kind, start, start + len(value)))
        lines.append(Line(text, tuple(gold)))
    return lines


LINES = _load()


@pytest.fixture(scope="module")
def results() -> list[tuple[Line, Masked]]:
    return [(line, mask_pii(line.text)) for line in LINES]


def _found(masked: Masked, kind: str, start: int, end: int) -> bool:
    covered: set[int] = set()
    for entity in masked.entities:
        if entity.kind == kind:
            covered.update(range(entity.start, entity.end))
    return set(range(start, end)) <= covered


def test_corpus_is_large_and_covers_every_type() -> None:
    assert len(LINES) >= 120
    kinds = Counter(kind for line in LINES for kind, _, _ in line.gold)
    for kind in PER_TYPE:
        assert kinds[kind] >= 7, kind
    assert all(kind in KINDS for kind in kinds)
    assert sum(1 for line in LINES if not line.gold) >= 40


def test_recall_per_type_and_overall(results: list[tuple[Line, Masked]]) -> None:
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed = []
    for line, masked in results:
        for kind, start, end in line.gold:
            total[kind] += 1
            if _found(masked, kind, start, end):
                found[kind] += 1
            else:
                missed.append((kind, line.text[start:end], masked.text))
    recall = {kind: found[kind] / total[kind] for kind in total}
    overall = sum(found.values()) / sum(total.values())
    assert overall >= 0.95, (overall, missed)
    for kind in PER_TYPE:
        assert recall[kind] >= 0.95, (kind, recall[kind], missed)


def test_negatives_are_left_alone(results: list[tuple[Line, Masked]]) -> None:
    wrongly_masked = [(line.text, masked.text) for line, masked in results if not line.gold and masked.entities]
    assert wrongly_masked == []


def test_precision_overall(results: list[tuple[Line, Masked]]) -> None:
    predicted = false_positives = 0
    for line, masked in results:
        for entity in masked.entities:
            predicted += 1
            if not any(k == entity.kind and entity.start < e and s < entity.end for k, s, e in line.gold):
                false_positives += 1
    assert predicted > 0
    assert 1 - false_positives / predicted >= 0.97


def test_masked_values_are_gone_and_placeholders_typed(results: list[tuple[Line, Masked]]) -> None:
    for line, masked in results:
        for kind, start, end in line.gold:
            assert placeholder(kind) in masked.text
            value = line.text[start:end]
            if len(value) >= 6 and kind != "NAME":
                assert value not in masked.text, (value, masked.text)


def test_corpus_masking_is_idempotent(results: list[tuple[Line, Masked]]) -> None:
    for _, masked in results:
        again = mask_pii(masked.text)
        assert again.text == masked.text
        assert again.entities == ()
