"""Long texts: refused with a clear error over the limit, and scored whole (every sentence) under it."""

from __future__ import annotations

import pytest

from tonewatch import TextTooLongError
from tonewatch.score import Analyzer

PARAGRAPH = (
    "Hi team, I wanted to follow up on the outage we had last week. The status page said everything was fine "
    "while our users could not log in for almost three hours. To be fair, once I reached your on-call engineer "
    "the fix was quick and he was very helpful. However, we only found out because our own customers complained, "
    "and nobody from your side told us anything.\n\n"
)


def _megabyte() -> str:
    """Exactly 1,000,000 characters of a long email thread, ending in a sentence of its own."""
    text = PARAGRAPH * (1_000_000 // len(PARAGRAPH) + 1)
    tail = "\n\nPS: the invoice for March is wrong too."
    return text[: 1_000_000 - len(tail)] + tail


def test_a_megabyte_is_refused_by_default(analyzer: Analyzer) -> None:
    assert analyzer.max_text_chars == 200_000
    with pytest.raises(TextTooLongError) as err:
        analyzer.analyze(_megabyte())
    assert "1,000,000" in err.value.message
    assert "never truncates" in err.value.message


def test_a_long_text_under_the_limit_is_read_to_the_last_sentence(analyzer: Analyzer) -> None:
    text = PARAGRAPH * 30 + "One more thing: I will cancel my subscription if this happens again."
    a = analyzer.analyze(text)
    assert a.sentences[-1].end == len(text)
    assert any(c.kind == "cancellation" for c in a.cues)


@pytest.mark.slow
def test_a_megabyte_is_scored_whole_when_the_limit_allows() -> None:
    text = _megabyte()
    a = Analyzer(threads=2, max_text_chars=2_000_000).analyze(text)
    assert a.sentences[0].start == 0
    assert a.sentences[-1].end == len(text)
    assert a.sentences[-1].text == "PS: the invoice for March is wrong too."
    assert sum(len(s.text) for s in a.sentences) > 0.95 * len(text.replace("\n\n", ""))
