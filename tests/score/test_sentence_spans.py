"""Sentences pooled from their text's forward pass (``span_mask``) instead of read again on their own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tonewatch import ModelError
from tonewatch.score import Analysis, Analyzer
from tonewatch.score._analyzer import _could_be_mixed
from tonewatch.score._model import BUNDLED_MODEL_DIR
from tonewatch.score._normalize import normalize_for_model


def _folder(tmp: Path, read: str | None, screen: float | None = None) -> Path:
    """A copy of the bundled model whose manifest says how sentences are read (None: says nothing)."""
    folder = tmp / f"model-{read}-{screen}"
    shutil.copytree(BUNDLED_MODEL_DIR, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("sentences", None)
    if read is not None:
        manifest["sentences"] = {"read": read}
    if screen is not None:
        manifest["sentences"]["screen"] = screen
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def in_context(tmp_path_factory: pytest.TempPathFactory) -> Analyzer:
    return Analyzer(_folder(tmp_path_factory.mktemp("spans"), "in_context"), threads=2).load()


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> Analyzer:
    return Analyzer(_folder(tmp_path_factory.mktemp("alone"), None), threads=2).load()


def test_span_rows_follow_the_whole_rows(in_context: Analyzer) -> None:
    model = in_context._ensure_model()
    first, second = model.encode(["The app crashes. Thanks for nothing.", "ok"])
    out = model.run([first, second], spans=[[(1, 5), (5, len(first) - 1)], []])
    assert out.span_rows == (2, 4)  # sequence 0's spans follow the two whole rows; sequence 1 has none
    assert out.sentiment.shape == (4, 3)
    plain = model.run([first, second])
    np.testing.assert_allclose(out.sentiment[:2], plain.sentiment, atol=0.02)  # int8: per-run scales
    assert not np.allclose(out.sentiment[2], out.sentiment[0], atol=1e-3)  # a part is not the whole
    assert not np.allclose(out.sentiment[3], out.sentiment[2], atol=1e-3)
    with pytest.raises(ModelError):
        model.run([first], spans=[[], []])


def test_the_bundled_model_reads_sentences_through_its_span_reader(in_context: Analyzer) -> None:
    # span 0 is the plain mean of the last layer; a further span over the very same tokens goes through the
    # reader (trained to read a sentence pooled in context as if read alone), so it is not the plain reading
    assert in_context.manifest["span_reader"]["layers"] == [0, 1, 2, 3, 4, 5, 6]
    model = in_context._ensure_model()
    (ids,) = model.encode(["The app crashes. Thanks for nothing."])
    out = model.run([ids], spans=[[(0, len(ids))]])
    assert not np.allclose(out.sentiment[1], out.sentiment[0], atol=1e-2)
    np.testing.assert_allclose(out.emotions[0], model.run([ids]).emotions[0], atol=0.05)


def test_spans_do_not_change_the_whole_reading(in_context: Analyzer) -> None:
    model = in_context._ensure_model()
    seqs = model.encode(["I love the product, but the shipping was a nightmare.", "Where is my refund?"])
    plain = model.run(seqs)
    pooled = model.run(seqs, spans=[[(1, 6), (6, len(seqs[0]) - 1)], [(1, 3)]])
    # the int8 heads quantise their input with one scale per run, spans included: a few thousandths
    np.testing.assert_allclose(pooled.sentiment[:2], plain.sentiment, atol=0.02)


_PIECES = st.sampled_from(
    [
        "Hi @maria_s,",
        "see https://example.com/a?b=1 now.",
        "I love it 😍 but",
        "ÇA NE MARCHE PAS!!!",
        "東京の注文はまだです。",
        "don't—won't…",
        "café au lait",
        "Thanks!!",
        "ok",
        "#ticket 4410 (urgent)",
        "😡😡",
        "It's fine, I guess.",
        "However the refund never came.",
        "\n\nRegards,\nAnna",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_PIECES, min_size=1, max_size=6).map(" ".join))
def test_joined_sentence_pieces_are_the_whole_texts_own_tokens(in_context: Analyzer, text: str) -> None:
    model = in_context._ensure_model()
    (plan,) = in_context._plan(model, [text])
    if plan.whole is None:
        return
    assert plan.whole == model.encode([normalize_for_model(text)])[0]
    assert len(plan.spans) == (len(plan.units) if len(plan.units) > 1 else 0)
    assert not plan.pieces  # nothing read twice
    for (a, b), (start, end) in zip(plan.units, plan.spans, strict=False):
        assert plan.whole[start:end] == model.encode([normalize_for_model(text[a:b])])[0][1:-1]


def test_a_model_not_trained_for_it_reads_sentences_alone(alone: Analyzer, in_context: Analyzer) -> None:
    text = "I love the product, but the shipping was a nightmare."
    assert not alone.reads_sentences_in_context
    assert in_context.reads_sentences_in_context
    (old,) = alone._plan(alone._ensure_model(), [text])
    (new,) = in_context._plan(in_context._ensure_model(), [text])
    assert len(old.pieces) == 2
    assert not old.spans
    assert len(new.spans) == 2
    assert not new.pieces
    assert old.whole == new.whole


def test_long_texts_are_read_as_windows_of_sentences_read_alone(in_context: Analyzer) -> None:
    text = " ".join(f"Sentence {i} says the order is late and nobody answers." for i in range(40))
    (plan,) = in_context._plan(in_context._ensure_model(), [text])
    assert plan.whole is None
    assert plan.windows
    assert len(plan.pieces) == len(plan.units)
    assert not plan.spans
    result = in_context.analyze(text)
    assert len(result.sentences) == len(plan.units)
    assert result.label == "negative"


def test_a_batch_mixing_both_readings_keeps_every_result_in_place(in_context: Analyzer) -> None:
    long = " ".join(f"Point {i}: the invoice is wrong again." for i in range(40))
    texts = ["Thanks, it works now!", long, "I love the app. The billing page is a nightmare.", "ok"]
    together = in_context.analyze_batch(texts)
    for text, result in zip(texts, together, strict=True):
        single = in_context.analyze(text)
        assert single.label == result.label
        assert [s.label for s in single.sentences] == [s.label for s in result.sentences]
        assert single.probabilities == pytest.approx(result.probabilities, abs=0.1)  # int8: per-run scales


def test_the_sentence_temperature_calibrates_pooled_sentences_only(in_context: Analyzer, tmp_path: Path) -> None:
    # a model with a span reader has its own temperature for sentences pooled in context (the export
    # matches it on validation pairs: training/spans.py); it must touch those readings and nothing else
    assert in_context.manifest["calibration"]["sentence_temperature"] < 2.0  # the bundled model's own
    folder = _folder(tmp_path, "in_context")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["calibration"]["sentence_temperature"] = 100.0
    (folder / "manifest.json").write_text(json.dumps(manifest))
    hot = Analyzer(folder, threads=2).load()
    text = "Thank you for the quick reply. Unfortunately the app still crashes every time I open it."
    flat, usual = hot.analyze(text), in_context.analyze(text)
    assert flat.probabilities == pytest.approx(usual.probabilities, abs=1e-6)  # the whole text: untouched
    assert all(max(s.probabilities.values()) < 0.4 for s in flat.sentences)  # its sentences: flattened
    assert max(max(s.probabilities.values()) for s in usual.sentences) > 0.6  # in context, at the usual one
    assert [s.start for s in flat.sentences] == [s.start for s in usual.sentences]


_CHECKED_TEXTS = [
    "I love the app. The billing page is a nightmare.",
    "The app crashes every time. Nobody answers my emails.",  # one-sided as a whole
    "Thank you so much for the quick refund! Maria was brilliant.",  # one-sided as a whole
    "Hi, my order still hasn't arrived. Can you check? Thanks.",
    "Great support as always. But the invoice is wrong again and I was charged twice.",
    "ok",
    " ".join(f"Point {i}: the invoice is wrong again." for i in range(40)),
]


def _same(a: list[Analysis], b: list[Analysis]) -> None:
    for x, y in zip(a, b, strict=True):
        assert x.label == y.label
        assert [(s.start, s.label) for s in x.sentences] == [(s.start, s.label) for s in y.sentences]
        for s, t in zip(x.sentences, y.sentences, strict=True):
            assert dict(s.probabilities) == pytest.approx(
                dict(t.probabilities), abs=0.1
            )  # int8: per-run scales (as above)
        assert dict(x.probabilities) == pytest.approx(dict(y.probabilities), abs=0.1)


def test_checked_reading_is_alone_where_the_screen_sends_everything_and_in_context_where_it_sends_nothing(
    tmp_path: Path, in_context: Analyzer, alone: Analyzer
) -> None:
    everything = Analyzer(_folder(tmp_path, "checked", 0.0), threads=2).load()
    nothing = Analyzer(_folder(tmp_path, "checked", 1.01), threads=2).load()
    assert everything.sentence_reading == nothing.sentence_reading == "checked"
    assert everything.reads_sentences_in_context
    assert (everything.sentence_screen, nothing.sentence_screen) == (0.0, 1.01)
    # even a screen of 0 sends only texts whose whole reading is two-sided (weaker polarity >= 0.05, as mixed
    # needs): of these, the first two are one-sided (0.02, 0.03) and stay in context; the long text has no spans
    one_sided = [1, 2]
    got = everything.analyze_batch(_CHECKED_TEXTS)
    _same([got[i] for i in one_sided], [in_context.analyze(_CHECKED_TEXTS[i]) for i in one_sided])
    two_sided = [i for i in range(len(_CHECKED_TEXTS)) if i not in one_sided]
    _same([got[i] for i in two_sided], [alone.analyze(_CHECKED_TEXTS[i]) for i in two_sided])
    _same(nothing.analyze_batch(_CHECKED_TEXTS), in_context.analyze_batch(_CHECKED_TEXTS))


def test_checked_reading_reads_again_alone_only_the_texts_that_could_be_mixed(
    tmp_path: Path, in_context: Analyzer, alone: Analyzer
) -> None:
    checked = Analyzer(_folder(tmp_path, "checked", 0.3), threads=2).load()
    mixed, plain = "I love the app. The billing page is a nightmare.", "The app crashes every time. Nobody answers."
    plans = in_context._plan(in_context._ensure_model(), [mixed, plain])
    first = in_context.analyze_batch([mixed, plain])  # what the checked reading composes first
    assert [_could_be_mixed(p, r, 0.3) for p, r in zip(plans, first, strict=True)] == [True, False]
    assert not _could_be_mixed(plans[0], first[0], 0.99)
    both = checked.analyze_batch([mixed, plain, mixed])
    assert both[0].label == both[2].label == alone.analyze(mixed).label == "mixed"
    _same([both[0]], [alone.analyze(mixed)])  # its sentences as read alone
    _same([both[1]], [in_context.analyze(plain)])  # its sentences as pooled in context
    assert both[0] == checked.analyze(mixed) or both[0].label == checked.analyze(mixed).label


def test_a_checked_manifest_without_a_screen_uses_the_default(tmp_path: Path) -> None:
    from tonewatch.score._analyzer import SCREEN_DEFAULT

    assert Analyzer(_folder(tmp_path, "checked"), threads=2).sentence_screen == SCREEN_DEFAULT
    assert Analyzer(_folder(tmp_path, "sideways"), threads=2).sentence_reading == "alone"
