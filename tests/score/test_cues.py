"""The tonal layer's detectors: each cue kind fires on what it is for, with exact spans, and not on look-alikes."""

from __future__ import annotations

import pytest

from tonewatch.score import split_sentences
from tonewatch.score._cues import RULES, find_cues, is_courtesy


def cues(text: str) -> list[tuple[str, str]]:
    return [(c.rule.kind, text[c.start : c.end]) for c in find_cues(text, split_sentences(text))]


def kinds(text: str) -> set[str]:
    return {k for k, _ in cues(text)}


@pytest.mark.parametrize(
    ("text", "kind", "span"),
    [
        ("I guess the product works fine.", "hedge", "I guess"),
        ("It's kind of okay for the price", "hedge", "kind of"),
        ("Honestly it's nothing special", "hedge", "nothing special"),
        ("The new layout is not ideal", "understatement", "not ideal"),
        ("The update could have been better", "understatement", "could have been better"),
        ("I'm a bit disappointed with the refund", "understatement", "a bit disappointed"),
        ("No problems or complaints so far", "negation", "No problems"),
        ("Not the worst experience I've had", "negation", "Not the worst"),
        ("I can't complain about the service", "negation", "can't complain"),
        ("I'm not happy with this at all", "negation", "not happy"),
        ("Oh great, another delay.", "sarcasm", "Oh great"),
        ("Thanks for nothing.", "sarcasm", "Thanks for nothing"),
        ("I just love waiting two hours on hold", "sarcasm", "I just love waiting"),
        ('My so-called "express" delivery took eleven days', "sarcasm", '"express"'),
        ("Great job guys 🙄", "sarcasm", "🙄"),
        ("Please advise on the current status of my refund", "polite-escalation", "Please advise"),
        ("I would like to raise a formal complaint", "polite-escalation", "formal complaint"),
        ("This ticket has been outstanding for 14 business days", "wait-time", "outstanding for 14 business days"),
        ("Still no reply from anyone", "wait-time", "Still no"),
        ("This is the third time I'm writing about this", "repeat-contact", "third time I'm writing"),
        ("Late again, for the third time this month", "repeat-contact", "third time this month"),
        ("I have emailed you three times already", "repeat-contact", "emailed you three times"),
        ("I will cancel my subscription today", "cancellation", "cancel my subscription"),
        ("We're taking our business elsewhere", "cancellation", "taking our business elsewhere"),
        ("My lawyer will be in touch", "legal", "lawyer"),
        ("I'll dispute the charge with my bank", "legal", "dispute the charge"),
        ("I need this sorted by Friday", "deadline", "by Friday"),
        ("This is urgent", "deadline", "urgent"),
        ("Our whole team can't log in", "blocked", "can't log in"),
        ("The website is down again", "blocked", "website is down"),
        ("This is really bad", "intensifier", "really"),
        ("Sooo disappointed", "intensifier", "Sooo"),
        ("Why is this still not fixed???", "punctuation-run", "???"),
        ("Refund me now!!!", "punctuation-run", "!!!"),
        ("This is NOT what I ordered", "caps", "NOT"),
        ("I am FED UP with this", "caps", "FED UP"),
        ("Fine.", "brevity", "Fine."),
        ("Love the new app 😍", "emoji", "😍"),
        ("Still waiting 😡😡", "emoji", "😡😡"),
    ],
)
def test_each_kind_fires_with_its_span(text: str, kind: str, span: str) -> None:
    assert (kind, span) in cues(text)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("What kind of plan do I need for five users?", "hedge"),  # "kind of" as a noun
        ("Great, thanks for the quick fix!", "sarcasm"),  # genuine praise, no complaint nearby
        ("Oh wonderful, thank you so much!", "sarcasm"),
        ("I love how easy the new checkout is", "sarcasm"),
        ("We have never had a problem until now", "negation"),  # "until now" undoes the litotes
        ("My flight was cancelled", "cancellation"),  # an event, not a threat to leave
        ("Please reset my password via the API and send a PDF", "caps"),  # acronyms are not shouting
        ("Is this okay?", "punctuation-run"),
        ("Watching the whole series for the 7th time tonight", "repeat-contact"),  # not a contact
        ("Thanks so much, you saved my day", "brevity"),
    ],
)
def test_no_false_alarm_on_look_alikes(text: str, absent: str) -> None:
    assert absent not in kinds(text)


def test_all_caps_text_is_one_text_wide_cue() -> None:
    text = "THIS IS UNACCEPTABLE. I WANT MY MONEY BACK NOW"
    caps = [c for c in find_cues(text, split_sentences(text)) if c.rule.kind == "caps"]
    assert len(caps) == 1
    assert (caps[0].start, caps[0].end) == (0, len(text))
    assert caps[0].rule.scope == "text"


def test_wait_strength_grows_with_the_wait() -> None:
    def strength(text: str) -> float:
        return max(c.strength for c in find_cues(text, split_sentences(text)) if c.rule.kind == "wait-time")

    assert strength("on hold for 10 minutes") < strength("waiting for 2 days") < strength("outstanding for 3 weeks")


def test_sarcasm_is_stronger_next_to_a_complaint() -> None:
    def strength(text: str) -> float:
        return max(c.strength for c in find_cues(text, split_sentences(text)) if c.rule.kind == "sarcasm")

    assert strength("Oh great, another delay.") > strength("Oh great.")


def test_offsets_survive_curly_apostrophes_and_case_changing_characters() -> None:
    text = "İstanbul office here. I’m not happy, I can’t log in"
    found = cues(text)
    assert ("negation", "not happy") in found
    assert ("blocked", "can’t log in") in found


def test_courtesy_formulas() -> None:
    for s in ("Thanks in advance!", "Kind regards, Anna", "Hi team,", "Thank you for your help."):
        assert is_courtesy(s), s
    for s in ("Thanks so much, you saved my day", "Hi, my order never arrived"):
        assert not is_courtesy(s), s


def test_every_rule_is_bounded_and_named_once() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    for r in RULES:
        by_source: dict[str, float] = {}
        for src, _dst, frac in r.transfers:
            by_source[src] = by_source.get(src, 0.0) + frac
        assert all(0 < v <= 0.85 for v in by_source.values()), r.name
        assert 0 <= r.urgency <= 1
        assert 0 < r.strength <= 1
