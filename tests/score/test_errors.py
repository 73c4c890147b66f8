"""Bad input fails fast with the documented error tree and a machine-readable code; nothing is truncated."""

from __future__ import annotations

import pytest

from tonewatch import EmptyTextError, InputError, InvalidTextError, TextTooLongError, TonewatchError
from tonewatch.score import Analyzer


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n", "\u200b\u200b"])
def test_empty_or_invisible_text(analyzer: Analyzer, text: str) -> None:
    with pytest.raises(EmptyTextError) as err:
        analyzer.analyze(text)
    assert err.value.code == "empty_text"


@pytest.mark.parametrize("value", [None, 42, 3.5, ["a list"], {"text": "a dict"}])
def test_non_text(analyzer: Analyzer, value: object) -> None:
    with pytest.raises(InvalidTextError) as err:
        analyzer.analyze(value)  # type: ignore[arg-type]
    assert err.value.code == "invalid_text"
    assert isinstance(err.value, InputError)
    assert isinstance(err.value, TonewatchError)


def test_bytes_must_be_valid_utf8(analyzer: Analyzer) -> None:
    ok = analyzer.analyze("Thanks, all sorted ✓".encode())  # type: ignore[arg-type]
    assert ok.sentences[0].text == "Thanks, all sorted ✓"
    with pytest.raises(InvalidTextError) as err:
        analyzer.analyze(b"caf\xe9 is closed")  # type: ignore[arg-type]
    assert "UTF-8" in err.value.message


def test_lone_surrogates_are_refused(analyzer: Analyzer) -> None:
    with pytest.raises(InvalidTextError):
        analyzer.analyze("broken \udce9 text")


def test_too_long_is_refused_not_truncated() -> None:
    small = Analyzer(threads=2, max_text_chars=50)
    with pytest.raises(TextTooLongError) as err:
        small.analyze("x" * 51)
    assert err.value.code == "text_too_long"
    assert err.value.status == 413
    assert "50" in err.value.message
    assert small.analyze("y" * 10 + " ok").sentences[-1].end == 13


def test_batch_names_the_item_at_fault(analyzer: Analyzer) -> None:
    with pytest.raises(EmptyTextError) as err:
        analyzer.analyze_batch(["fine", "ok", "  "])
    assert err.value.field == "texts[2]"
    with pytest.raises(InputError):
        analyzer.analyze_batch("a single string is not a batch")
    with pytest.raises(InputError):
        analyzer.analyze_batch(["a", "b"], languages=["en"])
    assert analyzer.analyze_batch([]) == []
