"""The names a rule may use, so a typo is an error at load time rather than a rule that never fires."""

from __future__ import annotations

from tonewatch.health import FLAGS

__all__ = [
    "ANALYSIS_FIELDS",
    "BANDS",
    "COUNT_FIELDS",
    "EMOTIONS",
    "KNOWN_FLAGS",
    "LABELS",
    "SENTIMENTS",
    "TREND_FIELDS",
    "TRIGGERS",
    "URGENCY_LEVELS",
    "analysis_vocabulary",
    "known_flags",
]

ANALYSIS_FIELDS: frozenset[str] = frozenset(
    {
        "label",
        "confidence",
        "score",
        "needs_review",
        "review_reasons",
        "emotions",
        "goemotions",
        "sarcasm",
        "urgency",
        "urgency_score",
        "cues",
        "language",
        "probabilities",
        "model_version",
    }
)
TREND_FIELDS: frozenset[str] = frozenset({"level", "slope", "declining"})
BANDS: tuple[str, ...] = ("healthy", "watch", "at-risk", "critical")
URGENCY_LEVELS: tuple[str, ...] = ("low", "medium", "high")
TRIGGERS: tuple[str, ...] = ("message", "ticket", "survey", "usage", "outcome", "customer", "sweep")
# The flags a health report can carry: the health stage owns the list.
KNOWN_FLAGS: frozenset[str] = frozenset(FLAGS)

# Fields a count's ``where`` may filter on, per counted kind.
_MESSAGE_FIELDS = frozenset(
    {"channel", "author", "category", "label", "score", "ticket_id", "conversation_id", "language", "agent_id"}
)
COUNT_FIELDS: dict[str, frozenset[str]] = {
    "messages": _MESSAGE_FIELDS,
    "contacts": _MESSAGE_FIELDS,
    "tickets": frozenset({"status", "category", "ticket_id"}),
    "surveys": frozenset({"survey", "score", "normalized"}),
    "usage": frozenset({"metric", "value"}),
    "outcomes": frozenset({"outcome"}),
}


def known_flags() -> frozenset[str]:
    """Our flag names plus any the health stage declares (``tonewatch.health.FLAGS``)."""
    import importlib

    try:
        health = importlib.import_module("tonewatch.health")
    except ImportError:  # pragma: no cover - the health stage is part of the package
        return KNOWN_FLAGS
    extra = getattr(health, "FLAGS", ())
    return KNOWN_FLAGS | frozenset(str(f) for f in extra)


# The scoring stage's closed vocabularies (``score/_analysis.py``), mirrored so that reading a
# playbook never imports the model runtime; tests/triggers check the two stay equal.
LABELS: tuple[str, ...] = ("positive", "neutral", "negative", "mixed")
SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative")
EMOTIONS: tuple[str, ...] = (
    "frustration",
    "anger",
    "confusion",
    "disappointment",
    "worry",
    "gratitude",
    "joy",
    "neutral",
)


def analysis_vocabulary() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(labels, sentiments, emotions) an analysis can carry."""
    return LABELS, SENTIMENTS, EMOTIONS
