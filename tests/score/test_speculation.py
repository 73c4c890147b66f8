"""One message's sentences read alone while its first pass runs: the same results, sooner, and stopped when unneeded."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError
from typing import Any

import pytest

from tonewatch.score import Analyzer
from tonewatch.score import _model as model_module

MIXED = [  # results that could be mixed: their sentences are read again alone
    "I love the product. But the shipping was a nightmare.",
    "The new dashboard is brilliant. The export has failed three times today and nobody answers.",
    "Thanks for the quick refund! Your app crashed again and I lost my whole afternoon.",
]
PLAIN = [  # several sentences, one way: the early reading is stopped
    "Hi team. The invoice is wrong again. Please fix it today.",
    "Hello. Could you tell me where the settings page is? Thanks.",
]


def _without_speculation(analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyzer, "_speculate", lambda *args, **kwargs: None)


def test_speculation_changes_no_result(analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch) -> None:
    with_it = [analyzer.analyze(t).to_dict() for t in MIXED + PLAIN]
    _without_speculation(analyzer, monkeypatch)
    without = [analyzer.analyze(t).to_dict() for t in MIXED + PLAIN]
    assert with_it == without  # the same batches give the same numbers, to the last digit
    assert any(r["label"] == "mixed" for r in with_it)


def _spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"started": [], "used": [], "cancelled": [], "runs": []}
    speculate, result, cancel = (
        model_module.OnnxModel.speculate,
        model_module.Speculative.result,
        model_module.Speculative.cancel,
    )
    run = model_module.OnnxModel.run

    def spy_speculate(self: Any, sequences: Any, batch_size: int = 32) -> Any:
        seen["started"].append(len(sequences))
        return speculate(self, sequences, batch_size)

    def spy_result(self: Any) -> Any:
        seen["used"].append(len(self.sequences))
        return result(self)

    def spy_cancel(self: Any) -> None:
        seen["cancelled"].append(len(self.sequences))
        cancel(self)

    def spy_run(self: Any, sequences: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("in_this_thread"):
            seen["runs"].append(len(sequences))
        return run(self, sequences, *args, **kwargs)

    monkeypatch.setattr(model_module.OnnxModel, "speculate", spy_speculate)
    monkeypatch.setattr(model_module.Speculative, "result", spy_result)
    monkeypatch.setattr(model_module.Speculative, "cancel", spy_cancel)
    monkeypatch.setattr(model_module.OnnxModel, "run", spy_run)
    return seen


def test_a_mixed_message_takes_its_sentences_from_the_early_reading(
    analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy(monkeypatch)
    assert analyzer.analyze(MIXED[0]).label == "mixed"
    assert seen["started"] == [2]  # its two sentences, started with the first pass
    assert seen["used"] == [2]
    assert seen["cancelled"] == []
    assert seen["runs"] == [1]  # the first pass alone: the early reading was the second


def test_a_one_sided_message_stops_the_early_reading(analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy(monkeypatch)
    result = analyzer.analyze(PLAIN[0])
    assert result.label != "mixed"
    assert seen["started"] == [3]
    assert seen["cancelled"] == [3]
    assert seen["used"] == []


def test_batches_and_single_sentences_never_speculate(analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy(monkeypatch)
    analyzer.analyze("The invoice is wrong again.")
    analyzer.analyze_batch(MIXED, batch_size=32)
    assert seen["started"] == []
    assert seen["runs"][0] == 1
    assert len(seen["runs"]) == 3  # the batch: a first pass, then its mixed messages' sentences in a second


def test_a_stopped_run_leaves_the_model_as_it_was(analyzer: Analyzer) -> None:
    model = analyzer._ensure_model()
    sequences = model.encode(["This is a fairly long sentence about an order that was late again."] * 64)
    before = model.run(sequences[:4])
    early = model.speculate(sequences, 32)
    early.cancel()
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail

    with pytest.raises((CancelledError, Fail)):  # dropped before it started, or stopped by onnxruntime
        early.result()
    after = model.run(sequences[:4])
    assert (before.sentiment == after.sentiment).all()


def test_concurrent_single_messages_get_their_own_results(analyzer: Analyzer) -> None:
    texts = MIXED + PLAIN
    expected = [analyzer.analyze(t).to_dict() for t in texts]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for k in range(10):
                i = (offset + k) % len(texts)
                assert analyzer.analyze(texts[i]).to_dict() == expected[i]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
