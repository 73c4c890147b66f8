"""The analyzer's contract: result shape, batching, calibration inputs, language, review flags, shared loading."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

import tonewatch
from tonewatch import InputError
from tonewatch.score import BUNDLED_MODEL_DIR, EMOTIONS, Analysis, Analyzer, get_analyzer
from tonewatch.score import _model as model_module
from tonewatch.settings import Settings

TEXTS = [
    "Where is my order? It was due on Monday.",
    "Absolutely love the new update, great work!",
    "The invoice is wrong again and nobody answers.",
    "ok",
    "I love the product, but the shipping was a nightmare",
]


def test_result_shape_and_ranges(analyzer: Analyzer) -> None:
    for a in analyzer.analyze_batch(TEXTS):
        assert a.label in ("positive", "neutral", "negative", "mixed")
        assert set(a.probabilities) == {"positive", "neutral", "negative"}
        assert abs(sum(a.probabilities.values()) - 1) < 1e-6
        assert -1 <= a.score <= 1
        assert a.score == pytest.approx(a.probabilities["positive"] - a.probabilities["negative"])
        assert 0 <= a.confidence <= 1
        if a.label != "mixed":
            assert a.confidence == pytest.approx(a.probabilities[a.label])
        assert tuple(a.emotions) == EMOTIONS
        assert all(0 <= v <= 1 for v in a.emotions.values())
        assert len(a.goemotions) == 28
        assert 0 <= a.sarcasm <= 1
        assert 0 <= a.urgency.score <= 1
        assert a.model_version == analyzer.model_version == analyzer.manifest["version"]
        assert a.needs_review == bool(a.review_reasons)


def test_batch_equals_one_by_one_in_input_order(analyzer: Analyzer) -> None:
    # int8 dynamic quantisation scales activations per batch tensor, so batch-mates move results a little
    batch = analyzer.analyze_batch(TEXTS, batch_size=2)
    for text, b in zip(TEXTS, batch, strict=True):
        one = analyzer.analyze(text)
        assert [s.text for s in one.sentences] == [s.text for s in b.sentences]
        assert [c.to_dict()["span"] for c in one.cues] == [c.to_dict()["span"] for c in b.cues]
        for k in one.probabilities:
            assert one.probabilities[k] == pytest.approx(b.probabilities[k], abs=0.06)


def test_round_trip_through_json_form(analyzer: Analyzer) -> None:
    a = analyzer.analyze(TEXTS[2])
    back = Analysis.from_dict(a.to_dict())
    assert back.label == a.label
    assert back.cues == tuple(type(c)(c.kind, c.span, c.start, c.end, c.direction, round(c.weight, 4)) for c in a.cues)
    assert back.to_dict() == a.to_dict()


def test_the_tonal_layer_is_what_moves_hedges(analyzer: Analyzer) -> None:
    plain = Analyzer(threads=2, tonal=False)
    text = "I guess the product works fine."
    with_cues, without = analyzer.analyze(text), plain.analyze(text)
    assert without.cues == ()
    assert with_cues.probabilities["positive"] < without.probabilities["positive"]


def test_low_confidence_is_sent_to_review() -> None:
    strict = Analyzer(threads=2, review_threshold=1.0)
    lenient = Analyzer(threads=2, review_threshold=0.0)
    text = "The parcel arrived on Tuesday."
    assert "low_confidence" in strict.analyze(text).review_reasons
    assert "low_confidence" not in lenient.analyze(text).review_reasons


def test_language_detection_override_and_review(analyzer: Analyzer) -> None:
    assert analyzer.analyze("Where is my parcel? It should have arrived yesterday.").language == "en"
    fr = analyzer.analyze("Bonjour, ma commande n'est toujours pas arrivée et personne ne répond.")
    assert fr.language == "fr"
    assert fr.label == "negative"  # read by the multilingual layer, validated above the accuracy line
    assert not {"unvalidated_language", "low_accuracy_language"} & set(fr.review_reasons)
    nl = analyzer.analyze("Mijn bestelling is nog steeds niet aangekomen en niemand reageert.", language="nl")
    assert "unvalidated_language" in nl.review_reasons  # no validated figure for Dutch at all
    hi = analyzer.analyze("मेरा ऑर्डर अभी तक नहीं आया और कोई जवाब नहीं दे रहा है।", language="hi")
    assert "low_accuracy_language" in hi.review_reasons  # scored, but validated under the line: a human decides
    french = analyzer.language_macro_f1("fr")
    assert french is not None
    strict = Analyzer(threads=2, language_min_f1=min(french + 0.01, 1.0))
    assert "low_accuracy_language" in strict.analyze("Ma commande est arrivée cassée.", language="fr").review_reasons
    assert analyzer.analyze("ok", language="de").language == "de"
    assert "unvalidated_language" not in analyzer.analyze("ok", language="en-GB").review_reasons
    with pytest.raises(InputError) as err:
        analyzer.analyze("ok", language="english!")
    assert err.value.code == "invalid_language"
    quiet = Analyzer(threads=2, unvalidated_language_action="score")
    dutch = quiet.analyze("Goedemorgen, waar is mijn pakket?", language="nl")
    assert "unvalidated_language" not in dutch.review_reasons


def test_lazy_loading_is_thread_safe_and_happens_once(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(BUNDLED_MODEL_DIR, folder)
    fresh = Analyzer(folder, threads=1)
    assert not fresh.loaded
    before = model_module.LOADS
    barrier = threading.Barrier(8)
    results: list[Analysis] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            results.append(fresh.analyze("The app keeps crashing when I upload a photo."))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert model_module.LOADS - before == 1
    assert len({r.to_dict()["probabilities"]["negative"] for r in results}) == 1


def test_get_analyzer_shares_one_instance_per_configuration() -> None:
    s = Settings(threads=2)
    assert get_analyzer(s) is get_analyzer(Settings(threads=2))
    assert get_analyzer(Settings(threads=2, review_threshold=0.9)) is not get_analyzer(s)


def test_the_default_analyzer_follows_the_environment_settings_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``get_analyzer()`` keeps its analyzer while the environment is unchanged, and reads it again when not."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TONEWATCH_THREADS", "2")
    first = get_analyzer()
    assert get_analyzer() is first
    assert first.review_threshold == Settings().review_threshold
    monkeypatch.setenv("tonewatch_review_threshold", "0.8")  # names are read case-insensitively
    assert get_analyzer().review_threshold == 0.8
    monkeypatch.delenv("tonewatch_review_threshold")
    assert get_analyzer() is first
    (tmp_path / ".env").write_text("TONEWATCH_REVIEW_THRESHOLD=0.70\n", encoding="utf-8")
    assert get_analyzer().review_threshold == 0.7
    (tmp_path / ".env").write_text("TONEWATCH_REVIEW_THRESHOLD=0.75\n", encoding="utf-8")  # same size, same tick
    assert get_analyzer().review_threshold == 0.75
    (tmp_path / ".env").unlink()
    assert get_analyzer() is first
    # a relative model folder resolves against the working directory, so moving changes the analyzer
    monkeypatch.setenv("TONEWATCH_MODEL_DIR", "model")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    assert get_analyzer().model_dir.resolve() == (tmp_path / "a" / "model").resolve()
    monkeypatch.chdir(tmp_path / "b")
    assert get_analyzer().model_dir.resolve() == (tmp_path / "b" / "model").resolve()


def test_top_level_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONEWATCH_THREADS", "2")
    a = tonewatch.analyze("Thank you, that fixed it!")
    assert isinstance(a, tonewatch.Analysis)
    batch = tonewatch.analyze_batch(["Thank you, that fixed it!", "Still broken."], batch_size=8)
    assert next(b.label for b in batch) == a.label
