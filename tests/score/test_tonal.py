"""The tonal layer's arithmetic: bounded moves that keep a distribution, and hard cases it settles for any model.

These properties hold whatever the neural model says, so they pin down the cue layer's
guarantees independently of the bundled weights: a hedge can never leave praise positive,
a litotes can never leave a text negative, polite escalation always leans negative.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tonewatch.score import split_sentences
from tonewatch.score._analyzer import _APPLY_ORDER
from tonewatch.score._cues import RULES, find_cues
from tonewatch.score._tonal import Probs, apply_rule, cue_share

weights = st.tuples(*(st.floats(min_value=0.001, max_value=1.0) for _ in range(3)))


def _probs(w: tuple[float, float, float]) -> Probs:
    total = sum(w)
    return (w[0] / total, w[1] / total, w[2] / total)


def _after_cues(text: str, p: Probs) -> Probs:
    """What the analyzer does to a one-sentence text's probabilities (sarcasm head silent)."""
    matches = sorted(find_cues(text, split_sentences(text)), key=lambda m: (_APPLY_ORDER.get(m.rule.kind, 99), m.start))
    for m in matches:
        p, _, _ = apply_rule(p, m.rule, m.strength)
    return p


def _label(p: Probs) -> str:
    return ("negative", "neutral", "positive")[max(range(3), key=lambda i: p[i])]


@settings(max_examples=300, deadline=None)
@given(weights, st.sampled_from(RULES), st.floats(min_value=0.0, max_value=1.0))
def test_every_rule_keeps_a_distribution_and_moves_at_most_its_fractions(
    w: tuple[float, float, float], rule: object, scale: float
) -> None:
    from tonewatch.score._cues import CueRule

    assert isinstance(rule, CueRule)
    p = _probs(w)
    q, moved, _ = apply_rule(p, rule, scale)
    assert abs(sum(q) - 1.0) < 1e-9
    assert all(0.0 <= v <= 1.0 for v in q)
    assert moved <= 0.85 * max(p) * 2 + 1e-9
    assert sum(abs(a - b) for a, b in zip(p, q, strict=True)) <= 2 * moved + 1e-9


@settings(max_examples=200, deadline=None)
@given(weights)
def test_a_hedge_never_leaves_praise_positive(w: tuple[float, float, float]) -> None:
    for text in ("I guess the product works fine.", "It's good enough I suppose", "Nothing special, it works"):
        assert _label(_after_cues(text, _probs(w))) != "positive", text


@settings(max_examples=200, deadline=None)
@given(weights)
def test_litotes_never_leaves_a_text_negative(w: tuple[float, float, float]) -> None:
    for text in ("No problems or complaints so far", "Not the worst experience I've had", "Can't complain really"):
        assert _label(_after_cues(text, _probs(w))) != "negative", text


@settings(max_examples=200, deadline=None)
@given(weights)
def test_polite_formal_escalation_always_leans_negative(w: tuple[float, float, float]) -> None:
    text = "Please advise on the current status of ticket #44821 as this has now been outstanding for 14 business days"
    p = _after_cues(text, _probs(w))
    assert p[0] > p[2]


@settings(max_examples=200, deadline=None)
@given(weights)
def test_sarcasm_pattern_turns_positive_mass_negative(w: tuple[float, float, float]) -> None:
    p = _probs(w)
    q = _after_cues("Oh great, another delay.", p)
    assert q[2] < 0.25 * p[2] + 1e-9
    assert q[0] > p[0]


def test_amplifiers_follow_the_leading_polarity_and_stay_quiet_when_none_leads() -> None:
    caps = next(r for r in RULES if r.name == "caps/words")
    neg, _, d_neg = apply_rule((0.6, 0.3, 0.1), caps)
    assert d_neg == "negative"
    assert neg[0] > 0.6
    pos, _, d_pos = apply_rule((0.1, 0.3, 0.6), caps)
    assert d_pos == "positive"
    assert pos[2] > 0.6
    flat, moved, _ = apply_rule((0.1, 0.8, 0.1), caps)
    assert moved == 0.0
    assert flat == (0.1, 0.8, 0.1)
    neutral_lead, moved, _ = apply_rule((0.05, 0.5, 0.45), caps)  # amplifiers never turn a neutral text polar
    assert moved == 0.0
    assert neutral_lead == (0.05, 0.5, 0.45)


def test_share_gives_a_long_email_line_a_nudge_not_a_verdict() -> None:
    assert cue_share([40], 0) == 1.0
    assert cue_share([40, 0], 0) == 1.0  # the other sentence is a sign-off
    assert 0.2 < cue_share([40] * 10, 3) < 0.4
