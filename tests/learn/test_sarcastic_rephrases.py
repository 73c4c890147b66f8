"""The sarcastic-tweet loader behind ``training/train.py --sarcasm-rephrase``."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from training import data


def test_only_sarcastic_tweets_with_a_rephrase_are_kept_both_normalised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "isarcasmeval"
    folder.mkdir()
    rows = [
        ("I love waiting on hold 😀", "1", "I hate waiting on hold."),
        ("Great weather today", "0", ""),  # not sarcastic
        ("Oh sure, @bob, that went well", "1", ""),  # no rephrase
        ("   ", "1", "empty tweet"),  # nothing to read
        ('"Best. Airline. Ever. http://t.co/x"', "1", "The airline was awful."),
    ]
    with (folder / "train.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["", "tweet", "sarcastic", "rephrase"])
        for i, row in enumerate(rows):
            w.writerow([i, *row])
    monkeypatch.setattr(data, "DATASETS", tmp_path)
    tweets, plain = data.sarcastic_rephrases()
    assert plain == ["I hate waiting on hold.", "The airline was awful."]
    assert len(tweets) == 2
    assert tweets[0] == data.normalize_for_model("I love waiting on hold 😀")  # the runtime's own normalisation
    assert tweets[1] == data.normalize_for_model("Best. Airline. Ever. http://t.co/x")  # CSV-style quotes removed
    assert tweets[1].startswith("Best.")
