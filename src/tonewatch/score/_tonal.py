"""Applying the tonal layer: how a cue moves the model's probabilities.

Each cue moves probability mass between the three sentiment classes as its rule says
(``score/_cues.py``). The moves are computed from the probabilities as they stand before
that cue, so a rule never moves more than the fractions it declares, the result is
always a distribution, and the same text always moves the same way.

* Inside its own sentence a cue acts at full strength.
* Every move is scaled by the match's strength (a sarcasm pattern's strength is combined
  with the model's sarcasm head: two witnesses of the same thing).
* On the whole text a sentence-scope cue acts at ``sqrt(share)`` strength, where
  ``share`` is its sentence's part of the text's characters (greetings and sign-offs
  count as nothing): decisive in a one-line message, a nudge in one line of a long
  email. Text-scope cues (escalation, repeat contact, waits, threats) act fully.
* ``"dominant"`` (intensifiers, caps, "!!!") moves mass towards whichever of positive /
  negative already leads, and only when that polarity holds at least
  :data:`DOMINANCE_MIN` and is not below neutral: amplifiers sharpen a stance, they never
  turn a neutral text polar (on validation tweets that did more harm than good);
  otherwise the cue is reported with weight 0.
* A cue's reported ``weight`` is the probability mass it moved in its sentence (for cues
  that only raise urgency, their urgency contribution).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ._analysis import Cue, CueDirection
from ._cues import CueMatch, CueRule

__all__ = ["DOMINANCE_MIN", "SARCASM_HEAD_RULE", "Probs", "apply_rule", "boost", "cue_share", "to_cue"]

Probs = tuple[float, float, float]  # negative, neutral, positive (the model's order)
_INDEX = {"negative": 0, "neutral": 1, "positive": 2}
DOMINANCE_MIN = 0.3

# The model's sarcasm head, used when no sarcasm pattern matched a positive sentence: it
# moves up to 70% of the positive mass to negative, scaled by how far the head's
# probability exceeds the manifest's sarcasm threshold.
SARCASM_HEAD_RULE = CueRule(
    "sarcasm",
    "model-sarcasm-head",
    r"",
    "negative",
    (("positive", "negative", 0.7),),
    emotions=(("frustration", 0.2),),
)


def _dominant(p: Probs) -> CueDirection | None:
    """The polarity an amplifier sharpens: only one that already leads, so caps or "!!!" never create a side."""
    pol: CueDirection = "positive" if p[2] >= p[0] else "negative"
    strength = max(p[0], p[2])
    return pol if strength >= DOMINANCE_MIN and strength >= p[1] else None


def apply_rule(p: Probs, rule: CueRule, scale: float = 1.0) -> tuple[Probs, float, CueDirection]:
    """Apply ``rule`` to ``p`` at ``scale`` (0..1); return the new probabilities, mass moved, direction."""
    direction: CueDirection | None = rule.direction
    target: str | None = None
    if rule.direction is None or any(t[1] == "dominant" for t in rule.transfers):
        dom = _dominant(p)
        target = dom
        if rule.direction is None:
            direction = dom
    if direction is None:
        return p, 0.0, "neutral"
    out = list(p)
    moved = 0.0
    for source, dest, fraction in rule.transfers:
        to = target if dest == "dominant" else dest
        if to is None or to == source:
            continue
        amount = p[_INDEX[source]] * fraction * scale
        out[_INDEX[source]] -= amount
        out[_INDEX[to]] += amount
        moved += amount
    total = sum(out)
    new: Probs = (out[0] / total, out[1] / total, out[2] / total)
    return new, moved, direction


def cue_share(lengths: Sequence[int], unit: int) -> float:
    """``sqrt`` of the sentence's share of the text's (content) characters; 1.0 for a one-sentence text."""
    if len(lengths) <= 1:
        return 1.0
    total = sum(lengths)
    return math.sqrt(lengths[unit] / total) if total > 0 else 1.0


def boost(emotions: dict[str, float], rule: CueRule, direction: CueDirection, strength: float = 1.0) -> None:
    """Raise the support emotions a cue speaks for (noisy-OR), in place.

    Cues that follow the sentence's polarity (caps, "!!!") only speak for emotions when
    that polarity is negative: shouting "THANK YOU" is not anger.
    """
    if rule.direction is None and direction != "negative":
        return
    for name, amount in rule.emotions:
        if name in emotions:
            emotions[name] = 1.0 - (1.0 - emotions[name]) * (1.0 - amount * strength)


def to_cue(text: str, match: CueMatch, direction: CueDirection, moved: float) -> Cue:
    """The public evidence record for one match."""
    weight = moved if match.rule.transfers else match.rule.urgency * match.strength
    if match.rule.direction == "urgent":
        direction = "urgent"
        weight = match.rule.urgency * match.strength
    return Cue(match.rule.kind, text[match.start : match.end], match.start, match.end, direction, weight)
