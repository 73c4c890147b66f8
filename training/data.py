"""Loaders for the labelled sets in ``../shared/datasets`` (never copied into the repo).

Every text passes through :func:`tonewatch.score._normalize.normalize_for_model`, the
same function the runtime applies, so training and inference see identical input.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from tonewatch.score._normalize import normalize_for_model

DATASETS = Path(os.environ.get("TONEWATCH_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))

SENTIMENT_LABELS = ("negative", "neutral", "positive")
GOEMOTIONS_LABELS = (
    tuple((DATASETS / "goemotions" / "original" / "labels.txt").read_text().split())
    if (DATASETS / "goemotions" / "original" / "labels.txt").exists()
    else ()
)

csv.field_size_limit(10_000_000)


@dataclass
class Split:
    """Texts with labels for one task and one split."""

    texts: list[str] = field(default_factory=list)
    labels: list[object] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def add(self, text: str, label: object, group: str = "") -> None:
        text = normalize_for_model(_unquote(text))
        if text:
            self.texts.append(text)
            self.labels.append(label)
            self.groups.append(group)

    def __len__(self) -> int:
        return len(self.texts)


def _unquote(text: str) -> str:
    """The reconstructed TweetEval file wraps some tweets in CSV-style triple quotes."""
    t = text.strip()
    while len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        t = t[1:-1].strip()
    return t.replace('""', '"')


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def tweeteval_sentiment() -> tuple[Split, Split]:
    """TweetEval sentiment: raw SemEval rows only (the lossy ``yzse_cleaned`` rows are left out)."""
    root = DATASETS / "tweeteval" / "sentiment"
    train = Split()
    with (root / "train_text_RECONSTRUCTED.tsv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["source"].startswith("semeval2017_raw") and row["text"].strip():
                train.add(row["text"], int(row["label"]), "tweeteval")
    val = Split()
    texts = _lines(root / "val_text.txt")
    labels = _lines(root / "val_labels.txt")
    for t, lab in zip(texts, labels, strict=False):
        if lab.strip():
            val.add(t, int(lab), "tweeteval")
    return train, val


def airline_is_holdout(tweet_id: str) -> bool:
    """Deterministic 20% hold-out by hash of the tweet id (stable across machines and orderings)."""
    return int(hashlib.sha256(tweet_id.encode()).hexdigest(), 16) % 5 == 0


def airline() -> tuple[Split, Split]:
    """Customer-service tweets to US airlines; our own 80/20 split (see :func:`airline_is_holdout`)."""
    train, hold = Split(), Split()
    mapping = {name: i for i, name in enumerate(SENTIMENT_LABELS)}
    with (DATASETS / "airline" / "train.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            target = hold if airline_is_holdout(row["tweet_id"]) else train
            target.add(row["text"], mapping[row["airline_sentiment"]], "airline")
    return train, hold


def goemotions() -> tuple[Split, Split]:
    """GoEmotions (original 28 labels), multi-label: each label is a list of label indices."""
    root = DATASETS / "goemotions" / "original"
    out = []
    for name in ("train", "dev"):
        split = Split()
        with (root / f"{name}.tsv").open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) >= 2:
                    split.add(row[0], [int(x) for x in row[1].split(",") if x], "goemotions")
        out.append(split)
    return out[0], out[1]


def sarcasm() -> tuple[Split, Split]:
    """TweetEval irony (train/val) plus iSarcasmEval author-labelled sarcasm (train only)."""
    root = DATASETS / "tweeteval" / "irony"
    train = Split()
    for t, lab in zip(_lines(root / "train_text.txt"), _lines(root / "train_labels.txt"), strict=False):
        if lab.strip():
            train.add(t, int(lab), "tweeteval_irony")
    with (DATASETS / "isarcasmeval" / "train.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("tweet") and row.get("sarcastic") in {"0", "1"}:
                train.add(row["tweet"], int(row["sarcastic"]), "isarcasmeval")
    val = Split()
    for t, lab in zip(_lines(root / "val_text.txt"), _lines(root / "val_labels.txt"), strict=False):
        if lab.strip():
            val.add(t, int(lab), "tweeteval_irony")
    return train, val


def sarcastic_rephrases() -> tuple[list[str], list[str]]:
    """iSarcasmEval's sarcastic tweets (train) and their authors' plain rephrasing of what each meant.

    The rephrase carries the sentiment the sarcastic text means, so a model's reading of the rephrase can
    label the tweet for the sentiment task (``training/train.py --sarcasm-rephrase``).
    """
    tweets, rephrases = [], []
    with (DATASETS / "isarcasmeval" / "train.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            tweet = normalize_for_model(_unquote(row.get("tweet") or ""))
            plain = normalize_for_model(_unquote(row.get("rephrase") or ""))
            if row.get("sarcastic") == "1" and tweet and plain:
                tweets.append(tweet)
                rephrases.append(plain)
    return tweets, rephrases


def umsab(language: str) -> tuple[Split, Split]:
    """Multilingual tweet sentiment from XLM-T (labels 0 negative, 1 neutral, 2 positive)."""
    root = DATASETS / "umsab" / language
    out = []
    for name in ("train", "val"):
        split = Split()
        for t, lab in zip(_lines(root / f"{name}_text.txt"), _lines(root / f"{name}_labels.txt"), strict=False):
            if lab.strip():
                split.add(t, int(lab), language)
        out.append(split)
    return out[0], out[1]


UMSAB_LANGUAGES = ("arabic", "english", "french", "german", "hindi", "italian", "portuguese", "spanish")
