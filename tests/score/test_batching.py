"""Batch planning and the concurrent batch runner of the ONNX model."""

from __future__ import annotations

import itertools
import os
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tonewatch.score import Analyzer
from tonewatch.score._model import plan_batches, spread


@given(st.lists(st.integers(1, 128), min_size=1, max_size=80).map(sorted), st.integers(1, 40))
def test_plan_batches_covers_every_sequence_once_within_the_batch_size(lengths: list[int], size: int) -> None:
    spans = plan_batches(lengths, size)
    assert spans[0][0] == 0
    assert spans[-1][1] == len(lengths)
    assert all(a < b and b - a <= size for a, b in spans)
    assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(spans))


@given(st.lists(st.integers(1, 128), min_size=1, max_size=80).map(sorted), st.integers(1, 8))
def test_spread_cuts_batches_for_every_worker_without_losing_rows(lengths: list[int], workers: int) -> None:
    spans = spread(plan_batches(lengths, 32), workers)
    assert [i for a, b in spans for i in range(a, b)] == list(range(len(lengths)))
    assert len(spans) >= min(workers, len(lengths))


def test_concurrent_batches_give_the_same_scores_as_one_thread() -> None:
    texts = [f"Order {i} is late again and nobody answers. Thanks for nothing." for i in range(40)]
    texts += ["I love the product, but the shipping was a nightmare.", "Great, thanks!"] * 10
    one = Analyzer(threads=1).analyze_batch(texts, batch_size=8)
    two = Analyzer(threads=2).analyze_batch(texts, batch_size=8)
    for a, b in zip(one, two, strict=True):
        assert a.label == b.label
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_forked_child_scores_with_its_own_thread_pool() -> None:
    analyzer = Analyzer(threads=2)
    before = analyzer.analyze_batch(["The app crashes.", "Thanks, fixed!", "Where is my refund?"])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's pool threads do not exist here
        try:
            labels = ",".join(
                a.label for a in analyzer.analyze_batch(["The app crashes.", "Thanks, fixed!", "Where is my refund?"])
            )
            os.write(write, labels.encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 1000).decode() == ",".join(a.label for a in before)


def test_score_alone_makes_a_score_independent_of_the_batch() -> None:
    """With ``score_alone`` a text scores the same by itself as among others (without it all 20 differ here)."""
    from tonewatch.score import Analyzer
    from tonewatch.settings import Settings

    texts = [
        "I guess the new dashboard works fine.",
        "Please advise on the status of ticket #4410, outstanding for 9 business days.",
        "Thank you so much, the refund arrived today!",
        "The app crashes every time I open the reports screen and we have a deadline on Friday. "
        "Nobody has answered my last three emails about it.",
        "ok",
    ] * 4
    alone = Analyzer.from_settings(Settings(score_alone=True), threads=2)
    together = alone.analyze_batch(texts)
    for text, result in zip(texts, together, strict=True):
        single = alone.analyze(text)
        assert single.probabilities == result.probabilities
        assert single.emotions == result.emotions
