"""The hard cases of the product brief, scored end to end by the bundled model plus the tonal layer.

Assertions are what a good model with the cue layer must satisfy (e.g. a hedged remark is
"not positive" rather than a specific label), so they hold for any sound retraining.
"""

from __future__ import annotations

from tonewatch.score import Analysis, Analyzer, top_emotion


def _kinds(a: Analysis) -> set[str]:
    return {c.kind for c in a.cues}


def test_hedge_is_not_praise(analyzer: Analyzer) -> None:
    a = analyzer.analyze("I guess the product works fine.")
    assert a.label != "positive"
    assert "hedge" in _kinds(a)
    hedge = next(c for c in a.cues if c.kind == "hedge")
    assert (hedge.span, hedge.start, hedge.end, hedge.direction) == ("I guess", 0, 7, "neutral")


def test_sarcasm_is_negative(analyzer: Analyzer) -> None:
    a = analyzer.analyze("Oh great, another delay.")
    assert a.label == "negative"
    assert "sarcasm" in _kinds(a)
    assert a.sarcasm >= 0.5


def test_negated_negatives_are_not_negative(analyzer: Analyzer) -> None:
    for text in ("No problems or complaints so far", "Not the worst experience I've had"):
        a = analyzer.analyze(text)
        assert a.label != "negative", text
        assert any(c.kind == "negation" and c.direction == "positive" for c in a.cues), text


def test_polite_formal_escalation_is_urgent_and_leans_negative(analyzer: Analyzer) -> None:
    a = analyzer.analyze(
        "Please advise on the current status of ticket #44821 as this has now been outstanding for 14 business days"
    )
    assert a.urgency.level == "high"
    assert a.score < 0
    assert a.label != "positive"
    assert {"polite-escalation", "wait-time"} <= _kinds(a)


def test_mixed_sentiment(analyzer: Analyzer) -> None:
    a = analyzer.analyze("I love the product, but the shipping was a nightmare")
    assert a.label == "mixed"
    assert [s.label for s in a.sentences] == ["positive", "negative"]
    assert "mixed_sentiment" in a.review_reasons


def test_emoji_carry_sentiment(analyzer: Analyzer) -> None:
    happy = analyzer.analyze("Thanks so much, you saved my day 😊")
    angry = analyzer.analyze("Still waiting for my refund 😡")
    assert happy.label == "positive"
    assert angry.label == "negative"
    assert happy.score > angry.score
    assert any(c.kind == "emoji" and c.span == "😡" for c in angry.cues)


def test_all_caps_shouting(analyzer: Analyzer) -> None:
    a = analyzer.analyze("THIS IS UNACCEPTABLE. I WANT MY MONEY BACK NOW!!!")
    assert a.label == "negative"
    assert "caps" in _kinds(a)
    assert a.urgency.level in ("medium", "high")


def test_repeat_contact_and_threats_raise_urgency(analyzer: Analyzer) -> None:
    calm = analyzer.analyze("Can you send me a copy of last month's receipt please?")
    angry = analyzer.analyze(
        "This is the third time I'm writing. If this isn't fixed by Friday I will cancel my subscription."
    )
    assert calm.urgency.level == "low"
    assert angry.urgency.level == "high"
    assert angry.label == "negative"
    assert {"repeat-contact", "deadline", "cancellation"} <= _kinds(angry)


def test_genuine_praise_stays_positive(analyzer: Analyzer) -> None:
    a = analyzer.analyze("Thank you so much for sorting out my refund so quickly, the agent on chat was brilliant!")
    assert a.label == "positive"
    assert "sarcasm" not in _kinds(a)
    assert top_emotion(a.emotions) in ("gratitude", "joy")


LONG_EMAIL = """Hi team,

I wanted to follow up on the outage we had last week. The status page said everything was fine while our
users could not log in for almost three hours, and our support inbox filled up within minutes.

To be fair, once I reached your on-call engineer the fix was quick and he was very helpful. He explained
what went wrong and stayed on the call until everything was back.

However, we only found out because our own customers complained, and nobody from your side told us
anything. This is the second incident this quarter, and both times the communication was poor.

We need a proper incident report and a plan to make sure this doesn't happen again. Please treat this
as urgent: our renewal is due at the end of the month and I have to brief our leadership before then.

I also noticed that the invoice for March lists two seats we removed in February. Could you correct it?

Thanks,
Priya
"""


def test_long_email_is_scored_whole(analyzer: Analyzer) -> None:
    text = LONG_EMAIL * 3  # well over one 128-token window
    a = analyzer.analyze(text)
    covered = [False] * len(text)
    for s in a.sentences:
        assert text[s.start : s.end] == s.text
        assert abs(sum(s.probabilities.values()) - 1) < 1e-6
        for i in range(s.start, s.end):
            assert not covered[i]
            covered[i] = True
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
    assert a.label in ("negative", "mixed")
    assert a.urgency.level != "low"
    assert {"deadline", "blocked", "repeat-contact"} <= _kinds(a)
    assert max(c.end for c in a.cues) > len(text) - len(LONG_EMAIL)  # cues found in the last copy too
