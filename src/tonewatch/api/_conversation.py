"""Conversation-level reading of per-turn analyses: where it started, ended, and broke.

Only customer turns carry the customer's sentiment; agent turns are scored (and returned)
so tone can be reviewed, but they do not move the summary. Later turns weigh more in the
conversation label (1x for the first customer turn up to 2x for the last): how a
conversation ends matters more than how it began. The escalation risk is a transparent sum
of named factors, so a reviewer can see why it is high.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from tonewatch.score._analysis import Analysis

__all__ = ["ESCALATION_CUES", "summarize_conversation"]

ESCALATION_CUES = frozenset({"polite-escalation", "repeat-contact", "threat", "escalation", "cancel-threat"})
_WEIGHTS = {"closing_negativity": 0.35, "sharpest_drop": 0.2, "anger": 0.2, "urgency": 0.15, "escalation_cues": 0.1}


def _point(index: int, a: Analysis) -> dict[str, Any]:
    return {"turn": index, "score": round(a.score, 4), "label": a.label}


def summarize_conversation(turns: Sequence[tuple[str, Analysis]]) -> dict[str, Any]:
    """Opening vs closing sentiment, the sharpest drop, label, emotions and escalation risk."""
    customer = [(i, a) for i, (speaker, a) in enumerate(turns) if speaker == "customer"]
    if not customer:
        return {
            "customer_turns": 0,
            "opening": None,
            "closing": None,
            "sharpest_drop": None,
            "label": None,
            "mean_score": None,
            "emotions": None,
            "escalation_risk": None,
        }
    n = len(customer)
    weights = [1.0 + (k / (n - 1) if n > 1 else 1.0) for k in range(n)]
    total = sum(weights)
    probs = {
        k: sum(w * a.probabilities.get(k, 0.0) for w, (_, a) in zip(weights, customer, strict=True)) / total
        for k in ("positive", "neutral", "negative")
    }
    emotion_names = sorted({e for _, a in customer for e in a.emotions})
    emotions = {
        e: round(sum(w * a.emotions.get(e, 0.0) for w, (_, a) in zip(weights, customer, strict=True)) / total, 4)
        for e in emotion_names
    }
    if probs["positive"] >= 0.3 and probs["negative"] >= 0.3:
        label = "mixed"
    else:
        label = max(probs, key=lambda k: probs[k])
    mean_score = probs["positive"] - probs["negative"]

    drop: dict[str, Any] | None = None
    for (i0, a0), (i1, a1) in pairwise(customer):
        delta = a1.score - a0.score
        if delta < 0 and (drop is None or delta < drop["delta"]):
            drop = {
                "from_turn": i0,
                "to_turn": i1,
                "from_score": round(a0.score, 4),
                "to_score": round(a1.score, 4),
                "delta": round(delta, 4),
            }

    closing = customer[-1][1]
    anger = max(max(a.emotions.get("anger", 0.0), a.emotions.get("frustration", 0.0)) for _, a in customer)
    urgency = max(a.urgency.score for _, a in customer)
    cues = sorted({c.kind for _, a in customer for c in a.cues if c.kind in ESCALATION_CUES or c.direction == "urgent"})
    parts = {
        "closing_negativity": (max(0.0, -closing.score), f"closing sentiment {closing.score:+.2f}"),
        "sharpest_drop": (
            min(1.0, -drop["delta"]) if drop else 0.0,
            f"drop of {drop['delta']:+.2f} between turns {drop['from_turn']} and {drop['to_turn']}"
            if drop
            else "no drop",
        ),
        "anger": (anger, f"peak anger/frustration {anger:.2f}"),
        "urgency": (urgency, f"peak urgency {urgency:.2f}"),
        "escalation_cues": (1.0 if cues else 0.0, ("cues: " + ", ".join(cues)) if cues else "no escalation cues"),
    }
    factors: list[dict[str, Any]] = [
        {"name": name, "points": round(_WEIGHTS[name] * value, 4), "reason": reason}
        for name, (value, reason) in parts.items()
    ]
    risk = min(1.0, sum(f["points"] for f in factors))
    level = "high" if risk >= 0.6 else "medium" if risk >= 0.35 else "low"
    return {
        "customer_turns": n,
        "opening": _point(*customer[0]),
        "closing": _point(*customer[-1]),
        "sharpest_drop": drop,
        "label": label,
        "mean_score": round(mean_score, 4),
        "emotions": emotions,
        "escalation_risk": {
            "score": round(risk, 4),
            "level": level,
            "factors": sorted(factors, key=lambda f: -f["points"]),
        },
    }
