"""Sentence and clause splitting: offsets into the original text, full coverage, splits only at whitespace."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tonewatch.score import split_sentences


def _texts(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def test_sentence_ends_and_line_breaks() -> None:
    text = "My order is late. Where is it?\nPlease help!!! Thanks"
    assert _texts(text) == ["My order is late.", "Where is it?", "Please help!!!", "Thanks"]


def test_contrastive_clauses_are_split_where_polarity_turns() -> None:
    assert _texts("I love the product, but the shipping was a nightmare.") == [
        "I love the product,",
        "but the shipping was a nightmare.",
    ]
    assert _texts("The app is great; however the sync keeps failing") == [
        "The app is great;",
        "however the sync keeps failing",
    ]
    assert len(_texts("The staff were lovely but the room was freezing cold all night")) == 2


def test_no_split_inside_abbreviations_decimals_or_short_buts() -> None:
    assert _texts("Dr. Smith said the fee is 4.50 e.g. for returns.") == [
        "Dr. Smith said the fee is 4.50 e.g. for returns."
    ]
    assert _texts("It is anything but helpful") == ["It is anything but helpful"]
    assert _texts("Not only fast but also cheap and reliable overall") == [
        "Not only fast but also cheap and reliable overall"
    ]


def test_ellipsis_before_lowercase_is_a_pause() -> None:
    assert _texts("Well... it sort of works. OK") == ["Well... it sort of works.", "OK"]
    assert _texts("I waited... Nobody came.") == ["I waited...", "Nobody came."]


def test_punctuation_only_pieces_join_their_neighbour() -> None:
    assert _texts("Refund please\n!!!\n---") == ["Refund please\n!!!\n---"]


def test_whitespace_only_has_no_sentences() -> None:
    assert split_sentences("  \n\t ") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc ABC.,;!?…\n\t'\"-😀é")), max_size=120))
def test_spans_cover_every_visible_character_once_in_order(text: str) -> None:
    spans = split_sentences(text)
    covered = [0] * len(text)
    last_end = 0
    for a, b in spans:
        assert last_end <= a < b <= len(text)
        assert not text[a].isspace()
        assert not text[b - 1].isspace()
        if a > 0 and last_end > 0:
            assert text[a - 1].isspace()  # splits only at whitespace: word pieces concatenate
        for i in range(a, b):
            covered[i] += 1
        last_end = b
    for i, ch in enumerate(text):
        assert covered[i] == 1 if not ch.isspace() else covered[i] <= 1
