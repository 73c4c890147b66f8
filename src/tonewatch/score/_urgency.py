"""Urgency from what the text says and how the customer feels.

Support teams triage on urgency, and most of it is written in plain words: a deadline,
blocked work, a cancellation or legal threat, a repeated follow-up, "outstanding for 14
business days". Each urgency cue carries a weight (``CueRule.urgency`` times its
strength); weights of the same kind do not stack (the strongest counts), different kinds
combine by noisy-OR, and strong negative emotions add at most :data:`EMOTION_WEIGHT`:

    score = 1 - (1 - emotion_part) * prod over kinds (1 - max weight of that kind)

Levels: ``high`` from :data:`HIGH`, ``medium`` from :data:`MEDIUM`, else ``low``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ._analysis import Urgency, UrgencyLevel
from ._cues import CueMatch

__all__ = ["EMOTION_WEIGHT", "HIGH", "MEDIUM", "urgency"]

HIGH = 0.6
MEDIUM = 0.3
EMOTION_WEIGHT = 0.35
_URGENT_EMOTIONS = ("anger", "frustration", "worry")


def urgency(matches: Iterable[CueMatch], emotions: Mapping[str, float]) -> Urgency:
    """Combine the urgency cues of a text with its emotions into a level and a score."""
    by_kind: dict[str, float] = {}
    for m in matches:
        w = m.rule.urgency * m.strength
        if w > 0:
            by_kind[m.rule.kind] = max(by_kind.get(m.rule.kind, 0.0), w)
    keep = 1.0 - EMOTION_WEIGHT * max((emotions.get(e, 0.0) for e in _URGENT_EMOTIONS), default=0.0)
    for w in by_kind.values():
        keep *= 1.0 - min(w, 1.0)
    score = min(max(1.0 - keep, 0.0), 1.0)
    level: UrgencyLevel = "high" if score >= HIGH else "medium" if score >= MEDIUM else "low"
    return Urgency(level, score)
