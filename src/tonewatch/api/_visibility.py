"""The one place that decides who may read a sentiment score, and hides it otherwise.

Every route that returns scores receives a :class:`Viewer` (a dependency built from the
caller's key and the organisation's ``visibility_policy``) and passes each scored object
through it. Hidden fields come back as ``null`` (lists empty) with ``redacted`` naming the
policy, so clients can tell "hidden" from "absent" and the response schema stays the same.

Policies:

- ``full``: everyone sees every score.
- ``supervisor``: leads, QA and admins see scores; agents and analysts do not.
- ``post_conversation``: a message's scores only once its ticket is resolved or closed; a
  customer's health only while they have no open ticket.
- ``aggregate``: no individual score for anyone; only aggregates over groups of at least
  ``aggregate_min_group``.
- ``threshold``: a score only when ``|score| >= visibility_threshold`` (health is mapped to
  ``(health - 50) / 50`` for the comparison).

Groups smaller than ``aggregate_min_group`` are suppressed under every policy: a "group"
of two customers is two individual scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tonewatch.settings import Settings

__all__ = [
    "ANALYSIS_SCORE_FIELDS",
    "HEALTH_SCORE_FIELDS",
    "PRIVILEGED_ROLES",
    "SCORE_KEYS",
    "Viewer",
    "is_score_key",
    "redact_review_item",
]

PRIVILEGED_ROLES = frozenset({"lead", "qa", "admin"})

# Fields of an Analysis dict that carry or reveal the sentiment; lists become [], the rest null.
ANALYSIS_SCORE_FIELDS: tuple[str, ...] = (
    "label",
    "probabilities",
    "score",
    "confidence",
    "emotions",
    "goemotions",
    "sarcasm",
    "sentences",
    "cues",
    "review_reasons",
)
HEALTH_SCORE_FIELDS: tuple[str, ...] = ("health", "band", "trend", "signals", "factors", "flags")
# Keys scrubbed from opaque blobs (audit details, review context) for viewers who see no scores.
SCORE_KEYS = frozenset(
    {
        *ANALYSIS_SCORE_FIELDS,
        *HEALTH_SCORE_FIELDS,
        "analysis",
        "sentiment",
        "sentiment_score",
        "scores",
        "opening",
        "closing",
        "sharpest_drop",
        "new_flags",
        "previous_band",
        "escalation_risk",
        "mean_score",
        "level",
        "slope",
        "declining",
        "report",
        "Sentiment",
        "SentimentScore",
    }
)
_LIST_FIELDS = frozenset({"sentences", "cues", "review_reasons", "factors", "flags"})
# Key fragments that mark a score in free-form blobs written by other stages ("model_label",
# "comment_score", "health_before"...): over-hiding a detail is better than leaking a score.
_SCORE_PARTS = ("label", "score", "sentiment", "health", "band", "emotion", "confidence", "probab", "sarcasm")


def is_score_key(key: str) -> bool:
    """Whether a blob key names (or very likely holds) an individual score."""
    lowered = key.lower()
    return key in SCORE_KEYS or any(part in lowered for part in _SCORE_PARTS)


@dataclass(frozen=True, slots=True)
class Viewer:
    """A caller as the visibility policy sees them."""

    role: str
    policy: str
    threshold: float
    min_group: int

    @classmethod
    def for_role(cls, role: str, settings: Settings) -> Viewer:
        return cls(role, settings.visibility_policy, settings.visibility_threshold, settings.aggregate_min_group)

    @property
    def sees_everything(self) -> bool:
        """True when no individual score is ever hidden from this caller."""
        return self.policy == "full" or (self.policy == "supervisor" and self.role in PRIVILEGED_ROLES)

    def hidden_reason(self, *, score: float | None, closed: bool | None = None) -> str | None:
        """None when this caller may read an individual score, else the policy that hides it.

        ``closed`` says whether the conversation the score belongs to is over (None: unknown,
        which counts as not over).
        """
        if self.policy == "full":
            return None
        if self.policy == "supervisor":
            return None if self.role in PRIVILEGED_ROLES else "supervisor"
        if self.policy == "post_conversation":
            return None if closed is True else "post_conversation"
        if self.policy == "threshold":
            return None if score is not None and abs(score) >= self.threshold else "threshold"
        return "aggregate"

    def analysis(self, data: Mapping[str, Any], *, closed: bool | None = None) -> dict[str, Any]:
        """A copy of an ``Analysis.to_dict()`` with the scores hidden when the policy says so."""
        out = dict(data)
        reason = self.hidden_reason(score=_number(data.get("score")), closed=closed)
        out["redacted"] = reason
        if reason is not None:
            for name in ANALYSIS_SCORE_FIELDS:
                if name in out:
                    out[name] = [] if name in _LIST_FIELDS else None
        return out

    def health(self, report: Mapping[str, Any], *, closed: bool | None = None) -> dict[str, Any]:
        """A copy of a ``HealthReport.to_dict()``; ``closed`` means "no open ticket"."""
        out = dict(report)
        value = _number(report.get("health"))
        centred = None if value is None else (value - 50.0) / 50.0
        reason = self.hidden_reason(score=centred, closed=closed)
        out["redacted"] = reason
        if reason is not None:
            for name in HEALTH_SCORE_FIELDS:
                if name in out:
                    out[name] = [] if name in _LIST_FIELDS else None
        return out

    def summary(self, data: Mapping[str, Any], *, score: float | None, closed: bool | None = None) -> dict[str, Any]:
        """Any other scored object (a conversation summary, a flag): its score-like keys hidden together.

        ``score`` is the one number the policy judges the whole object by.
        """
        out = dict(data)
        reason = self.hidden_reason(score=score, closed=closed)
        out["redacted"] = reason
        if reason is not None:
            for name in out:
                if name != "redacted" and name in SCORE_KEYS:
                    out[name] = [] if isinstance(out[name], list) else None
        return out

    def scrub(self, blob: Any) -> Any:
        """Remove score-like keys from an opaque blob unless this caller sees every score.

        Used for free-form details (audit entries, review context) where the surrounding
        facts that per-item policies need are not known: when in doubt, hide.
        """
        if self.sees_everything:
            return blob
        return _scrub(blob)

    def group_visible(self, size: int) -> bool:
        """Whether an aggregate over ``size`` individuals may be shown."""
        return size >= self.min_group


def _scrub(blob: Any) -> Any:
    if isinstance(blob, Mapping):
        return {k: (None if is_score_key(str(k)) else _scrub(v)) for k, v in blob.items()}
    if isinstance(blob, list | tuple):
        return [_scrub(v) for v in blob]
    return blob


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def redact_review_item(viewer: Viewer, data: dict[str, Any], action: str) -> dict[str, Any]:
    """A review item as ``viewer`` may see it (the API and the dashboard both use this).

    Evidence is scrubbed key by key. The summary and internal account-manager alerts are prose that
    quotes health and sentiment figures, which scrubbing cannot take out of prose, so for a viewer
    who does not see every score they are hidden whole; drafts to customers carry no scores and stay.
    """
    from tonewatch.review import MESSAGE_ACTIONS

    data["evidence"] = viewer.scrub(data.get("evidence") or {})
    if not viewer.sees_everything:
        if data.get("summary"):
            data["summary"], data["summary_hidden"] = "", True
        if MESSAGE_ACTIONS.get(action) == "account_manager" and (data.get("draft") or data.get("final_text")):
            data["draft"], data["final_text"], data["draft_hidden"] = None, None, True
    return data
