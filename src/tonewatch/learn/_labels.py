"""People's sentiment labels on stored messages: recording them, resolving votes, the labelled dataset.

Labels are ``Feedback`` rows (``store/_feedback.py``): the analysis stays as the model produced
it and each correction sits next to it, audited. This module reads them as *votes*:

- one vote per reviewer and message: a reviewer's latest label replaces their earlier ones
  (changing one's mind is not a second opinion);
- the gold label is the majority of the votes; a tie has no gold label (it is flagged, never
  exported, because training on a coin flip teaches the model noise);
- ``agreement`` is the share of votes that agree with the gold label (for a tie, with either
  of the tied labels).

The export is JSON lines that ``tonewatch evaluate --data`` and ``tonewatch train --data`` read
(``id``, ``text``, ``label``) with provenance fields next to them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch._errors import InputError, NotFoundError
from tonewatch.store import FEEDBACK_LABELS, Customer, Feedback, Message, add_feedback

if TYPE_CHECKING:
    from tonewatch.api._visibility import Viewer

__all__ = [
    "AgreementStats",
    "ExportReport",
    "LabelledItem",
    "Vote",
    "agreement_stats",
    "disagreements",
    "export_labels",
    "labelled_items",
    "pick_disagreements",
    "record_label",
    "resolve_votes",
]

_MAX_WHY = 2000
DisagreementKind = Literal["reviewers", "model"]


@dataclass(frozen=True, slots=True)
class Vote:
    """One reviewer's current label for one message."""

    actor: str
    label: str
    at: datetime
    why: str | None = None
    feedback_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"actor": self.actor, "label": self.label, "at": self.at.isoformat(), "why": self.why}


def resolve_votes(votes: Sequence[Vote]) -> tuple[str | None, float]:
    """The majority label (None for no votes or a tie) and the share of votes agreeing with it."""
    if not votes:
        return None, 0.0
    counts = Counter(v.label for v in votes).most_common()
    top = counts[0][1]
    agreement = top / len(votes)
    if len(counts) > 1 and counts[1][1] == top:
        return None, agreement
    return counts[0][0], agreement


@dataclass
class LabelledItem:
    """A labelled message: what the model read, what people said, and the resolved gold label."""

    event_id: str
    customer_id: str
    timestamp: datetime
    text: str | None
    channel: str
    language: str | None
    segment: str | None
    ticket_id: str | None
    model_label: str | None
    model_score: float | None
    model_confidence: float | None
    model_version: str | None
    votes: list[Vote] = field(default_factory=list)

    @property
    def gold(self) -> str | None:
        return resolve_votes(self.votes)[0]

    @property
    def agreement(self) -> float:
        return resolve_votes(self.votes)[1]

    @property
    def tie(self) -> bool:
        """Votes split evenly between the top labels: no gold label."""
        return bool(self.votes) and self.gold is None

    @property
    def reviewers_disagree(self) -> bool:
        return len({v.label for v in self.votes}) > 1

    @property
    def model_disagrees(self) -> bool:
        """People (their gold label, or any of them on a tie) read it differently from the model."""
        gold = self.gold
        if gold is not None:
            return gold != self.model_label
        return any(v.label != self.model_label for v in self.votes)

    @property
    def kind(self) -> DisagreementKind | None:
        """Why this item is a disagreement: reviewers split, or reviewers against the model; None if neither."""
        if self.reviewers_disagree:
            return "reviewers"
        if self.model_disagrees:
            return "model"
        return None

    @property
    def labelled_at(self) -> datetime:
        return max(v.at for v in self.votes)

    def as_seen_by(self, viewer: Viewer, *, closed: bool | None) -> dict[str, Any]:
        """This disagreement as ``viewer`` may see it (API and dashboard): the model's reading hidden by policy.

        ``closed`` says whether the message's conversation is over (None: unknown), for the
        ``post_conversation`` policy.
        """
        hidden = viewer.hidden_reason(score=self.model_score, closed=closed)
        return {
            "event_id": self.event_id,
            "customer_id": self.customer_id,
            "timestamp": self.timestamp,
            "text": self.text,
            "channel": self.channel,
            "language": self.language,
            "kind": self.kind,
            "model_label": None if hidden else self.model_label,
            "model_confidence": None if hidden else self.model_confidence,
            "model_version": self.model_version,
            "gold": self.gold,
            "agreement": self.agreement,
            "votes": [v.to_dict() for v in self.votes],
            "redacted": hidden,
        }

    def to_record(self) -> dict[str, Any]:
        """One line of the labelled dataset (``label`` is the gold label; null on a tie)."""
        return {
            "id": self.event_id,
            "text": self.text,
            "label": self.gold,
            "segment": self.segment,
            "channel": self.channel,
            "language": self.language,
            "model_label": self.model_label,
            "model_version": self.model_version,
            "labels": [v.to_dict() for v in self.votes],
            "agreement": round(self.agreement, 4),
        }


def record_label(
    session: Session,
    event_id: str,
    *,
    label: str,
    actor: str,
    why: str | None = None,
    now: datetime | None = None,
) -> Feedback:
    """Record ``actor``'s sentiment label for message ``event_id`` (a ``Feedback`` row, audited).

    Errors name what is wrong before anything is written: an unknown label
    (``code="invalid_label"``), no actor, an overlong reason, an unknown message (``NotFoundError``).
    """
    if label not in FEEDBACK_LABELS:
        raise InputError(
            f"label must be one of {', '.join(sorted(FEEDBACK_LABELS))}, not {label!r}",
            code="invalid_label",
            field="label",
        )
    who = actor.strip()
    if not who:
        raise InputError("a label needs the reviewer's name (actor)", code="missing_actor", field="actor")
    reason = why.strip() if why else None
    if reason is not None and len(reason) > _MAX_WHY:
        raise InputError(f"the reason is longer than {_MAX_WHY} characters", code="too_long", field="why")
    if session.get(Message, event_id) is None:
        raise NotFoundError(f"no stored message {event_id!r}", code="unknown_message", field="event_id")
    return add_feedback(session, event_id, actor=who, label=label, note=reason or None, now=now)


def labelled_items(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    event_ids: Iterable[str] | None = None,
) -> list[LabelledItem]:
    """Every message with at least one label, with all its votes, oldest label first.

    ``since``/``until`` select messages labelled (or relabelled) in that period; the items
    still carry every vote, so a late second opinion brings the first one along.
    """
    chosen = select(Feedback.event_id).where(Feedback.label.is_not(None))
    if since is not None:
        chosen = chosen.where(Feedback.created_at >= since)
    if until is not None:
        chosen = chosen.where(Feedback.created_at < until)
    if event_ids is not None:
        chosen = chosen.where(Feedback.event_id.in_(list(event_ids)))
    stmt = (
        select(Feedback, Message, Customer.attributes)
        .join(Message, Message.event_id == Feedback.event_id)
        .join(Customer, Customer.id == Message.customer_id)
        .where(Feedback.label.is_not(None), Feedback.event_id.in_(chosen.distinct()))
        .order_by(Feedback.event_id, Feedback.created_at, Feedback.id)
    )
    items: dict[str, LabelledItem] = {}
    latest: dict[tuple[str, str], Vote] = {}
    for fb, msg, attributes in session.execute(stmt):
        item = items.get(msg.event_id)
        if item is None:
            segment = (attributes or {}).get("segment")
            item = items[msg.event_id] = LabelledItem(
                event_id=msg.event_id,
                customer_id=msg.customer_id,
                timestamp=msg.timestamp,
                text=msg.text,
                channel=msg.channel,
                language=msg.language,
                segment=None if segment is None else str(segment),
                ticket_id=msg.ticket_id,
                model_label=msg.label,
                model_score=msg.score,
                model_confidence=msg.confidence,
                model_version=msg.model_version,
            )
        latest[(msg.event_id, fb.actor)] = Vote(fb.actor, str(fb.label), fb.created_at, fb.note, fb.id)
    for (event_id, _), vote in latest.items():
        items[event_id].votes.append(vote)
    out = list(items.values())
    for item in out:
        item.votes.sort(key=lambda v: (v.at, v.feedback_id))
    out.sort(key=lambda i: (i.votes[0].at, i.event_id))
    return out


def disagreements(
    session: Session,
    *,
    kind: DisagreementKind | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[LabelledItem]:
    """Labelled messages where reviewers disagree, or agree with each other but not with the model.

    Reviewer splits come first (they need a second look before they can be training data),
    then the newest labels.
    """
    return pick_disagreements(labelled_items(session, since=since), kind=kind, limit=limit)


def pick_disagreements(
    items: Iterable[LabelledItem], *, kind: DisagreementKind | None = None, limit: int | None = None
) -> list[LabelledItem]:
    """The disagreements among ``items`` in :func:`disagreements` order."""
    chosen = [i for i in items if i.kind is not None and (kind is None or i.kind == kind)]
    chosen.sort(key=lambda i: (i.kind != "reviewers", -i.labelled_at.timestamp(), i.event_id))
    return chosen if limit is None else chosen[:limit]


@dataclass(frozen=True, slots=True)
class AgreementStats:
    """How consistent the labels are, with each other and with the model.

    ``reviewer_agreement`` is pairwise percent agreement: over every pair of reviewers who
    labelled the same message, the share that gave the same label (None without any pair).
    ``model_agreement`` is the share of gold labels equal to the model's label: the model's
    accuracy on the labelled messages.
    """

    labelled: int
    multi_reviewed: int
    reviewer_pairs: int
    reviewer_agreement: float | None
    gold: int
    model_agreement: float | None
    ties: int
    reviewer_disagreements: int
    model_disagreements: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "labelled": self.labelled,
            "multi_reviewed": self.multi_reviewed,
            "reviewer_pairs": self.reviewer_pairs,
            "reviewer_agreement": self.reviewer_agreement,
            "gold": self.gold,
            "model_agreement": self.model_agreement,
            "ties": self.ties,
            "reviewer_disagreements": self.reviewer_disagreements,
            "model_disagreements": self.model_disagreements,
        }


def agreement_stats(items: Sequence[LabelledItem]) -> AgreementStats:
    """Summarise labelled items (from :func:`labelled_items`)."""
    pairs = agreeing = multi = gold = model_ok = ties = 0
    for item in items:
        n = len(item.votes)
        if n >= 2:
            multi += 1
            counts = Counter(v.label for v in item.votes)
            pairs += n * (n - 1) // 2
            agreeing += sum(c * (c - 1) // 2 for c in counts.values())
        label = item.gold
        if label is None:
            ties += 1 if item.votes else 0
            continue
        gold += 1
        model_ok += int(label == item.model_label)
    return AgreementStats(
        labelled=len(items),
        multi_reviewed=multi,
        reviewer_pairs=pairs,
        reviewer_agreement=agreeing / pairs if pairs else None,
        gold=gold,
        model_agreement=model_ok / gold if gold else None,
        ties=ties,
        reviewer_disagreements=sum(1 for i in items if i.kind == "reviewers"),
        model_disagreements=sum(1 for i in items if i.kind == "model"),
    )


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote and what it left out (and why)."""

    path: Path
    written: int
    ties: list[str]
    purged: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "written": self.written, "ties": self.ties, "purged": self.purged}


def export_labels(session: Session, out: Path, *, since: datetime | None = None) -> ExportReport:
    """Write the labelled dataset to ``out`` (JSON lines, one gold-labelled message per line).

    Ties are left out (listed in the report for a deciding vote), and so are messages whose
    text was purged by the retention policy: a label without its text trains nothing. The file
    is written to a temporary name and renamed, so a reader never sees half a dataset.
    """
    items = labelled_items(session, since=since)
    ties = [i.event_id for i in items if i.tie]
    purged = [i.event_id for i in items if not i.tie and not i.text]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    written = 0
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for item in items:
            if item.tie or not item.text:
                continue
            fh.write(json.dumps(item.to_record(), ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
    tmp.replace(out)
    return ExportReport(out, written, ties, purged)
