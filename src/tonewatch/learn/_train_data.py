"""A team's labelled messages for ``tonewatch train``: read, validated, split.

The format is what ``tonewatch label export`` writes: one JSON object a line with ``id``,
``text`` and ``label`` (negative, neutral, positive; ``mixed`` lines are skipped and
counted; extra fields are ignored). Texts pass through the same normalisation the runtime
applies. A bad line stops the run with its line number rather than being silently dropped:
labels are expensive, and a file that half-parses usually means the wrong file.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tonewatch._errors import InputError
from tonewatch.score._model import file_sha256
from tonewatch.score._normalize import normalize_for_model

__all__ = [
    "MIN_PER_CLASS",
    "SENTIMENT_LABELS",
    "LabelledData",
    "parse_prior",
    "read_labelled",
    "stratified_split",
]

SENTIMENT_LABELS = ("negative", "neutral", "positive")
# Below this a held-out split of 20 % has too few messages of a class to stop on or calibrate with.
MIN_PER_CLASS = 50
_SKIPPED = "mixed"


@dataclass(frozen=True, slots=True)
class LabelledData:
    """Validated examples (texts normalised for the model, labels as class indices) and their provenance."""

    path: Path
    sha256: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    labels: tuple[int, ...]
    skipped_mixed: int
    duplicates: int

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> dict[str, int]:
        """Examples per class, in label order."""
        return {name: sum(1 for y in self.labels if y == i) for i, name in enumerate(SENTIMENT_LABELS)}


def _bad(field: str, path: Path, line: int, message: str, code: str = "invalid_line") -> InputError:
    return InputError(f"{path} line {line}: {message}", code=code, field=field)


def read_labelled(path: Path, *, field: str = "data", min_per_class: int = MIN_PER_CLASS) -> LabelledData:
    """Read and validate a labelled JSONL file; ``field`` names the option it came from in errors."""
    if not path.is_file():
        raise InputError(f"labelled data file {path} does not exist", code="file_not_found", field=field)
    index = {name: i for i, name in enumerate(SENTIMENT_LABELS)}
    ids: list[str] = []
    texts: list[str] = []
    labels: list[int] = []
    seen: set[str] = set()
    mixed = duplicates = 0
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise _bad(field, path, n, f"not valid UTF-8 (byte {exc.start})") from None
            except ValueError as exc:
                raise _bad(field, path, n, f"not valid JSON ({exc})") from None
            if not isinstance(obj, dict):
                raise _bad(field, path, n, "expected a JSON object with id, text and label")
            text = obj.get("text")
            if not isinstance(text, str) or not text.strip():
                raise _bad(field, path, n, "no 'text' (a non-empty string)", "missing_text")
            raw_label = obj.get("label")
            if not isinstance(raw_label, str):
                raise _bad(field, path, n, "no 'label' (negative, neutral or positive)", "missing_label")
            label = raw_label.strip().lower()
            if label == _SKIPPED:
                mixed += 1
                continue
            if label not in index:
                raise _bad(
                    field,
                    path,
                    n,
                    f"unknown label {raw_label!r}: expected negative, neutral or positive ('mixed' lines are skipped)",
                    "unknown_label",
                )
            norm = normalize_for_model(text)
            if not norm:
                raise _bad(field, path, n, "the text is empty once normalised", "missing_text")
            if norm in seen:
                duplicates += 1  # the same message twice would leak between the training and held-out splits
                continue
            seen.add(norm)
            ids.append(str(obj.get("id", n)))
            texts.append(norm)
            labels.append(index[label])
    data = LabelledData(path, file_sha256(path), tuple(ids), tuple(texts), tuple(labels), mixed, duplicates)
    short = {name: c for name, c in data.counts().items() if c < min_per_class}
    if short:
        have = ", ".join(f"{name} has {c}" for name, c in short.items())
        raise InputError(
            f"{path}: training needs at least {min_per_class} examples of each class (a few hundred is better); {have}",
            code="too_few_examples",
            field=field,
        )
    return data


def stratified_split(labels: Sequence[int], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of the training and held-out parts: ``fraction`` of every class held out, chosen by ``seed``."""
    rng = random.Random(seed)
    train: list[int] = []
    held: list[int] = []
    for cls in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == cls]
        rng.shuffle(members)
        k = max(1, round(fraction * len(members))) if len(members) > 1 else 0
        held += members[:k]
        train += members[k:]
    return sorted(train), sorted(held)


def parse_prior(text: str) -> tuple[float, float, float]:
    """Class shares of a team's traffic from ``negative=0.6,neutral=0.25,positive=0.15`` (normalised to sum 1)."""
    shares: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        try:
            share = float(value)
        except ValueError:
            share = -1.0
        if not sep or name not in SENTIMENT_LABELS or name in shares or not 0 < share < float("inf"):
            raise InputError(
                f"--prior {text!r}: expected negative=SHARE,neutral=SHARE,positive=SHARE with positive shares",
                code="invalid_prior",
                field="prior",
            )
        shares[name] = share
    if set(shares) != set(SENTIMENT_LABELS):
        missing = ", ".join(n for n in SENTIMENT_LABELS if n not in shares)
        raise InputError(f"--prior {text!r}: no share for {missing}", code="invalid_prior", field="prior")
    total = sum(shares.values())
    neg, neu, pos = (shares[n] / total for n in SENTIMENT_LABELS)
    return neg, neu, pos
