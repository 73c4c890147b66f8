"""From the 28 GoEmotions labels to the support taxonomy.

GoEmotions is what the emotion head was trained on, but a support team thinks in
frustration, confusion, worry and gratitude. Each support emotion is a noisy-OR of the
GoEmotions labels that express it, with a weight for labels that only partly do (anger
is partly frustration, curiosity partly confusion):

    P(support) = 1 - prod(1 - w_i * p_i)

Before mapping, each GoEmotions probability is re-centred on the per-label decision
threshold tuned on GoEmotions dev (``calibration.goemotions_thresholds`` in the
manifest), so 0.5 means "at the tuned threshold" for every label and rare labels are not
drowned by common ones. The raw sigmoid outputs stay available as ``Analysis.goemotions``.
The support emotions are independent (multi-label) probabilities, not a distribution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ._analysis import EMOTIONS

__all__ = ["EMOTION_MAP", "recentre", "support_emotions", "top_emotion"]

EMOTION_MAP: Mapping[str, tuple[tuple[str, float], ...]] = {
    "frustration": (("annoyance", 1.0), ("anger", 0.5)),
    "anger": (("anger", 1.0), ("disgust", 0.5)),
    "confusion": (("confusion", 1.0), ("curiosity", 0.5)),
    "disappointment": (("disappointment", 1.0), ("sadness", 0.8), ("remorse", 0.5), ("grief", 0.8)),
    "worry": (("nervousness", 1.0), ("fear", 1.0)),
    "gratitude": (("gratitude", 1.0),),
    "joy": (
        ("joy", 1.0),
        ("admiration", 0.8),
        ("approval", 0.6),
        ("amusement", 0.6),
        ("excitement", 0.8),
        ("love", 0.8),
        ("optimism", 0.7),
        ("pride", 0.6),
        ("relief", 0.8),
    ),
    "neutral": (("neutral", 1.0),),
}
_TOP_MIN = 0.5


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def recentre(probs: Sequence[float], thresholds: Sequence[float]) -> list[float]:
    """Shift each probability in logit space so its tuned threshold lands on 0.5."""
    return [1.0 / (1.0 + math.exp(-(_logit(p) - _logit(t)))) for p, t in zip(probs, thresholds, strict=True)]


def support_emotions(goemotions: Mapping[str, float]) -> dict[str, float]:
    """The support taxonomy's probabilities from (re-centred) GoEmotions probabilities."""
    out: dict[str, float] = {}
    for name in EMOTIONS:
        keep = 1.0
        for label, weight in EMOTION_MAP[name]:
            keep *= 1.0 - weight * goemotions.get(label, 0.0)
        out[name] = 1.0 - keep
    return out


def top_emotion(emotions: Mapping[str, float]) -> str:
    """The strongest non-neutral support emotion, or ``neutral`` when none reaches 0.5."""
    best = max((e for e in emotions if e != "neutral"), key=lambda e: emotions[e], default="neutral")
    return best if emotions.get(best, 0.0) >= _TOP_MIN else "neutral"
