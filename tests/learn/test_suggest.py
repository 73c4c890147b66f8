"""Which messages to label next: uncertain, overruled by the tonal layer, or full of new words; no near-duplicates.

A constructed store on SQLite and PostgreSQL: a reference month of ordinary traffic, then a
current week mixing confident messages with the kinds of messages a label teaches most.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import typer
from learn_fixtures import NOW, add_message, days, probabilities
from typer.testing import CliRunner

from tonewatch._errors import InputError
from tonewatch.cli._label import register
from tonewatch.learn import record_label, suggest_labels
from tonewatch.learn._suggest import layer_disagreement, uncertainty
from tonewatch.settings import Settings
from tonewatch.store import Store

AS_OF = NOW + days(1)
SETTINGS = Settings(_env_file=None, drift_current_days=7, drift_reference_days=28)

_ORDINARY = [
    "Thanks for the quick help with my order, the delivery arrived today.",
    "My invoice shows the right amount now, thank you.",
    "The app works fine again after the update, thanks.",
    "Can you confirm my delivery address for the next order please?",
    "The support team was helpful, the refund arrived.",
    "Please send me a copy of my invoice for last month.",
    "Thank you, the delivery and the invoice arrived.",
]


def _seed(store: Store) -> None:
    with store.session() as s:
        for i in range(30):  # the reference window: ordinary words, confident readings
            add_message(
                s,
                f"ref-{i}",
                _ORDINARY[i % len(_ORDINARY)],
                when=NOW - days(10 + i % 20),
                customer=f"r{i % 7}",
                label="positive",
                confidence=0.95,
            )
        for i in range(6):  # current, confident and ordinary: the least worth labelling
            add_message(
                s,
                f"sure-{i}",
                _ORDINARY[i] + f" Order {1000 + i}.",
                when=NOW - days(i * 0.5),
                customer=f"s{i}",
                label="positive",
                confidence=0.97,
            )
        add_message(
            s,
            "sure-known",
            "My order and my invoice arrived, thank you.",
            when=NOW - days(0.2),
            customer="s9",
            label="positive",
            confidence=0.97,
        )
        add_message(
            s,
            "unsure",
            "The delivery was fine, I suppose, but the invoice is odd.",
            when=NOW - days(1),
            customer="u1",
            label="neutral",
            confidence=0.36,
            probs={"positive": 0.33, "neutral": 0.36, "negative": 0.31},
        )
        for n in range(3):  # near-duplicates of the uncertain one: one lesson, not four
            add_message(
                s,
                f"unsure-copy-{n}",
                "The delivery was fine, I suppose, but the invoice is odd!!",
                when=NOW - days(1.1 + n * 0.01),
                customer=f"u{n + 2}",
                label="neutral",
                confidence=0.37,
                probs={"positive": 0.33, "neutral": 0.37, "negative": 0.30},
            )
        add_message(
            s,
            "sarcasm",
            "Oh great, the update deleted my files. Fantastic work.",
            when=NOW - days(2),
            customer="x1",
            label="negative",
            confidence=0.7,
            reasons=("sarcasm_flipped",),
            cues=(
                {"kind": "sarcasm", "span": "Oh great", "start": 0, "end": 8, "direction": "negative", "weight": 0.5},
            ),
        )
        add_message(
            s,
            "slang",
            "The zorbix dongle is blorptastic, skibidi vibes with the quantumsync.",
            when=NOW - days(3),
            customer="x2",
            label="positive",
            confidence=0.8,
        )
        add_message(
            s,
            "already-labelled",
            "Honestly no idea whether this is good or bad.",
            when=NOW - days(1),
            customer="x3",
            label="neutral",
            confidence=0.34,
            probs={"positive": 0.33, "neutral": 0.34, "negative": 0.33},
        )
        record_label(s, "already-labelled", label="neutral", actor="ana", now=NOW)


def test_uncertainty_is_one_for_a_coin_flip_and_small_for_a_confident_reading() -> None:
    assert uncertainty({"positive": 1 / 3, "neutral": 1 / 3, "negative": 1 / 3}, 1 / 3) == pytest.approx(1.0)
    assert uncertainty(probabilities("positive", 0.98), 0.98) < 0.1
    assert uncertainty(probabilities("negative", 0.6), 0.6) > uncertainty(probabilities("negative", 0.9), 0.9)
    assert uncertainty({}, None) == pytest.approx(0.5)  # nothing known about the spread, no confidence: unsure


def test_layer_disagreement_reads_sarcasm_flips_mixed_readings_and_moved_mass() -> None:
    assert layer_disagreement({})[0] == 0.0
    flipped, why = layer_disagreement({"review_reasons": ["sarcasm_flipped"], "cues": []})
    assert flipped == 1.0
    assert "sarcasm flipped" in why[0]
    assert layer_disagreement({"review_reasons": ["mixed_sentiment"]})[0] == pytest.approx(0.6)
    cues = [
        {"direction": "negative", "weight": 0.15},
        {"direction": "urgent", "weight": 0.9},  # urgency-only cues move no sentiment
        {"direction": "neutral", "weight": 0.05},
    ]
    moved, why = layer_disagreement({"cues": cues})
    assert moved == pytest.approx(0.4)
    assert why == ["cues moved 0.20 of the probability mass"]


def test_suggest_picks_uncertain_overruled_and_drifted_messages_over_confident_ones(store: Store) -> None:
    _seed(store)
    with store.session(readonly=True) as s:
        run = suggest_labels(s, SETTINGS, limit=3, as_of=AS_OF)
        everything = suggest_labels(s, SETTINGS, limit=100, as_of=AS_OF)
    picked = [x.event_id for x in run.suggestions]
    assert set(picked) == {"unsure", "sarcasm", "slang"}
    ranked = [x.event_id for x in everything.suggestions]
    assert ranked[:3] == picked
    for rest in everything.suggestions[3:]:  # everything after the picks is confident and ordinary
        assert rest.event_id.startswith(("sure-", "ref-")), rest.event_id
        assert rest.components["uncertainty"] < 0.2
        assert rest.components["layers"] == 0.0
    assert not any(x.startswith("unsure-copy") for x in ranked)  # near-duplicates of a pick
    assert "already-labelled" not in ranked
    # the copies of "unsure", and the ordinary texts repeated with an order number or in the reference
    assert everything.duplicates >= 3 + 30 - 7
    assert len(set(ranked)) == len(ranked)
    by_id = {x.event_id: x for x in everything.suggestions}
    slang = by_id["slang"]
    assert slang.components["vocabulary"] > 0.5
    assert {"zorbix", "blorptastic"} <= set(slang.new_words)
    assert any("new words" in r for r in slang.reasons)
    assert any("sarcasm flipped" in r for r in by_id["sarcasm"].reasons)
    assert any(r.startswith("uncertain (confidence 0.36)") for r in by_id["unsure"].reasons)
    assert by_id["sure-known"].components["vocabulary"] == 0.0  # every word was seen in the reference
    assert all(0.0 <= x.priority <= 1.0 for x in everything.suggestions)
    priorities = [x.priority for x in everything.suggestions]
    assert priorities == sorted(priorities, reverse=True)


def test_suggest_on_an_empty_store_and_bad_limits(store: Store) -> None:
    with store.session(readonly=True) as s:
        run = suggest_labels(s, SETTINGS, limit=5)
        assert (run.suggestions, run.pool) == ([], 0)
        with pytest.raises(InputError):
            suggest_labels(s, SETTINGS, limit=0)


def test_suggest_command_prints_the_reasons_and_writes_jsonl_ready_to_label(store: Store, tmp_path: Path) -> None:
    _seed(store)
    app = typer.Typer()
    register(app)
    out = tmp_path / "to-label.jsonl"
    url = store.engine.url.render_as_string(hide_password=False)
    args = ["label", "suggest", "--limit", "3", "--out", str(out), "--as-of", AS_OF.isoformat(), "--db", url]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "wrote 3 suggestions" in result.stderr
    flat = " ".join(result.stdout.split())
    assert "near-duplicates skipped" in flat
    assert "sarcasm" in result.stdout
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {d["id"] for d in lines} == {"unsure", "sarcasm", "slang"}
    first = lines[0]
    assert set(first) >= {"id", "text", "model_label", "priority", "reasons", "components"}
    assert "label" not in first  # nobody has labelled these yet: not to be mistaken for gold data
    assert all(math.isfinite(d["priority"]) for d in lines)
