"""Drift: does this week's traffic still look like the traffic the model was doing well on?

A reference window (by default the 28 days before the current one) is compared with the current
window (by default the last 7 days) over stored customer messages only, with no model run, so
the check is cheap, can run from cron against the database, and still works when the model
folder is gone. Measures:

- **PSI** (population stability index) of the score distribution over fixed bins
  (:data:`SCORE_EDGES`, ten bins of width 0.2 over [-1, 1]) and of the label distribution:
  ``sum((cur - ref) * ln(cur / ref))`` over bin shares, shares floored at 1e-4 so an empty bin
  counts as rare, not impossible. 0 means the same distribution; by convention < 0.1 is stable,
  0.1-0.25 worth watching, > 0.25 a different population.
- **Out-of-vocabulary share**: of the current window's words, the share never seen in the
  reference window (new slang, a new product, a new language).
- **Tokenizer fragmentation** (when the model's tokenizer file is at hand): subword tokens per
  word in each window; a rise means words the model reads as fragments.
- **New frequent terms**: words in at least ``drift_term_min_count`` current messages from two
  or more customers, whose share of messages is at least ``drift_term_lift`` times their
  (add-one smoothed) share in the reference window.
- **Low-confidence share**: messages below ``review_threshold`` confidence, and its rise.

Alerts: a measure crossing its threshold in ``Settings`` (``drift_psi_alert``,
``drift_oov_alert``, ``drift_low_confidence_rise_alert``) when both windows hold at least
``drift_min_messages`` messages; with fewer, nothing is concluded.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tonewatch._errors import InputError
from tonewatch.store import Message

from ._text import words

if TYPE_CHECKING:
    from tonewatch.settings import Settings

__all__ = [
    "ALERT_MEASURES",
    "SCORE_EDGES",
    "DriftAlert",
    "DriftReport",
    "NewTerm",
    "Window",
    "WindowStats",
    "compute_drift",
    "default_as_of",
    "drift_windows",
    "parse_window",
    "psi",
    "reference_vocabulary",
    "score_bin",
]

SCORE_EDGES: tuple[float, ...] = tuple(round(-1.0 + 0.2 * i, 1) for i in range(11))
_LABELS: tuple[str, ...] = ("positive", "neutral", "negative", "mixed")
ALERT_MEASURES: tuple[str, ...] = ("score_psi", "label_psi", "oov_share", "low_confidence_rise")
_MAX_TERMS = 20
_FRAGMENT_TYPES = 10_000  # the most frequent word types per window the tokenizer is run on


def psi(reference: Sequence[float], current: Sequence[float], *, floor: float = 1e-4) -> float:
    """Population stability index between two histograms (counts or shares) over the same bins.

    Shares are floored at ``floor`` so an empty bin on one side counts as rare, not impossible
    (otherwise the index is infinite). Either side empty: 0 (nothing to compare).
    """
    if len(reference) != len(current):
        raise InputError("both distributions need the same bins", code="bin_mismatch")
    e_total, a_total = float(sum(reference)), float(sum(current))
    if e_total <= 0 or a_total <= 0:
        return 0.0
    total = 0.0
    for e, a in zip(reference, current, strict=True):
        pe, pa = max(e / e_total, floor), max(a / a_total, floor)
        total += (pa - pe) * math.log(pa / pe)
    return total


def score_bin(score: float) -> int:
    """The :data:`SCORE_EDGES` bin of a score in [-1, 1] (out-of-range values go to the end bins)."""
    return min(max(math.floor((score + 1.0) * 5.0 + 1e-9), 0), len(SCORE_EDGES) - 2)


@dataclass(frozen=True, slots=True)
class Window:
    """A period ``[start, end)`` (aware UTC)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InputError("window bounds must carry a time zone", code="invalid_window", field="window")
        if self.end <= self.start:
            raise InputError("a window must end after it starts", code="invalid_window", field="window")

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400.0

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _bound(text: str, *, end: bool) -> datetime:
    value = text.strip()
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            day = datetime.combine(d, time(0), UTC)
            return day + timedelta(days=1) if end else day  # a date END includes that whole day
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InputError(
            f"{text!r} is not an ISO date or date-time (e.g. 2026-04-01 or 2026-04-01T00:00:00Z)",
            code="invalid_window",
            field="reference",
        ) from None


def parse_window(text: str) -> Window:
    """``START..END`` (ISO dates or date-times; a date END includes that day) as a :class:`Window`."""
    start, sep, end = text.partition("..")
    if not sep or not start.strip() or not end.strip():
        raise InputError(
            f"{text!r} is not a window such as 2026-04-01..2026-04-28", code="invalid_window", field="reference"
        )
    try:
        return Window(_bound(start, end=False), _bound(end, end=True))
    except InputError as exc:
        raise InputError(exc.message, code="invalid_window", field="reference") from None


def drift_windows(
    as_of: datetime,
    *,
    current_days: float,
    reference_days: float,
    reference: Window | None = None,
) -> tuple[Window, Window]:
    """(reference, current): the current window ends at ``as_of``; the reference ends where it starts.

    An explicit ``reference`` must end by the time the current window starts: overlapping
    windows would hide the very change being measured.
    """
    if current_days <= 0 or reference_days <= 0:
        raise InputError("window lengths must be positive numbers of days", code="invalid_window", field="days")
    try:
        current = Window(as_of - timedelta(days=current_days), as_of)
        if reference is None:
            return Window(current.start - timedelta(days=reference_days), current.start), current
    except OverflowError:
        raise InputError("the windows reach outside the supported dates", code="invalid_window", field="days") from None
    if reference.end > current.start:
        raise InputError(
            f"the reference window must end by {current.start.isoformat()} (the start of the current window)",
            code="invalid_window",
            field="reference",
        )
    return reference, current


@dataclass
class WindowStats:
    """What one window holds: counts per score bin and label, low-confidence count, model versions."""

    window: Window
    messages: int = 0
    score_bins: list[int] = field(default_factory=lambda: [0] * (len(SCORE_EDGES) - 1))
    labels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_LABELS, 0))
    low_confidence: int = 0
    with_text: int = 0
    words: int = 0
    model_versions: dict[str, int] = field(default_factory=dict)
    tokens_per_word: float | None = None

    @property
    def low_confidence_share(self) -> float | None:
        return None if self.messages == 0 else self.low_confidence / self.messages

    def score_shares(self) -> list[float]:
        return [c / self.messages if self.messages else 0.0 for c in self.score_bins]

    def label_shares(self) -> list[float]:
        return [self.labels.get(lab, 0) / self.messages if self.messages else 0.0 for lab in _LABELS]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.window.to_dict(),
            "messages": self.messages,
            "with_text": self.with_text,
            "words": self.words,
            "score_bins": list(self.score_bins),
            "labels": dict(self.labels),
            "low_confidence": self.low_confidence,
            "low_confidence_share": self.low_confidence_share,
            "model_versions": dict(self.model_versions),
            "tokens_per_word": self.tokens_per_word,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WindowStats:
        tpw = d.get("tokens_per_word")
        return cls(
            Window(datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["end"])),
            messages=int(d["messages"]),
            score_bins=[int(x) for x in d["score_bins"]],
            labels={str(k): int(v) for k, v in d["labels"].items()},
            low_confidence=int(d["low_confidence"]),
            with_text=int(d.get("with_text", 0)),
            words=int(d.get("words", 0)),
            model_versions={str(k): int(v) for k, v in (d.get("model_versions") or {}).items()},
            tokens_per_word=None if tpw is None else float(tpw),
        )


@dataclass(frozen=True, slots=True)
class NewTerm:
    """A word frequent now and rare or absent in the reference (message counts, not occurrences)."""

    term: str
    current: int
    reference: int
    lift: float

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term, "current": self.current, "reference": self.reference, "lift": round(self.lift, 2)}


@dataclass(frozen=True, slots=True)
class DriftAlert:
    """A measure past its threshold in ``Settings``."""

    measure: str
    value: float
    threshold: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "value": round(self.value, 6),
            "threshold": self.threshold,
            "message": self.message,
        }


@dataclass
class DriftReport:
    """Reference against current window; measures are None when there is not enough data for them."""

    as_of: datetime
    computed_at: datetime
    reference: WindowStats
    current: WindowStats
    min_messages: int
    score_psi: float | None = None
    label_psi: float | None = None
    oov_share: float | None = None
    new_word_types: int = 0
    new_terms: list[NewTerm] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    alerts: list[DriftAlert] = field(default_factory=list)

    @property
    def enough_data(self) -> bool:
        return self.reference.messages >= self.min_messages and self.current.messages >= self.min_messages

    @property
    def low_confidence_rise(self) -> float | None:
        cur, ref = self.current.low_confidence_share, self.reference.low_confidence_share
        return None if cur is None or ref is None or not self.enough_data else cur - ref

    @property
    def fragmentation_change(self) -> float | None:
        """Relative change of subword tokens per word (0.1 = words split into 10% more pieces)."""
        cur, ref = self.current.tokens_per_word, self.reference.tokens_per_word
        return None if cur is None or ref is None or ref <= 0 else cur / ref - 1.0

    def measures(self) -> dict[str, float | None]:
        """The alertable measures, by name (see :data:`ALERT_MEASURES`)."""
        return {
            "score_psi": self.score_psi,
            "label_psi": self.label_psi,
            "oov_share": self.oov_share,
            "low_confidence_rise": self.low_confidence_rise,
        }

    def rows(self) -> list[dict[str, Any]]:
        """The measures as table rows (CLI, dashboard, HTML export): name, values, threshold, alert.

        ``format`` says how to show ``value``: ``psi`` (a number), ``percent`` (a share),
        ``points`` (a change of a share) or ``relative`` (a relative change).
        """
        active = {a.measure for a in self.alerts}
        ref, cur = self.reference, self.current
        rows: list[dict[str, Any]] = [
            {"measure": "score distribution (PSI)", "key": "score_psi", "value": self.score_psi, "format": "psi"},
            {"measure": "label distribution (PSI)", "key": "label_psi", "value": self.label_psi, "format": "psi"},
            {"measure": "never-seen words", "key": "oov_share", "value": self.oov_share, "format": "percent"},
            {
                "measure": "low-confidence share",
                "key": "low_confidence_rise",
                "value": self.low_confidence_rise,
                "reference": ref.low_confidence_share,
                "current": cur.low_confidence_share,
                "format": "points",
            },
        ]
        if cur.tokens_per_word is not None and ref.tokens_per_word is not None:
            rows.append(
                {
                    "measure": "subword tokens per word",
                    "key": "fragmentation_change",
                    "value": self.fragmentation_change,
                    "reference": ref.tokens_per_word,
                    "current": cur.tokens_per_word,
                    "format": "relative",
                }
            )
        for row in rows:
            row.setdefault("reference", None)
            row.setdefault("current", None)
            row["threshold"] = self.thresholds.get(row["key"])
            row["alert"] = row["key"] in active
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The ``drift.json`` form (and what is stored with each recorded report)."""
        return {
            "as_of": self.as_of.isoformat(),
            "computed_at": self.computed_at.isoformat(),
            "enough_data": self.enough_data,
            "min_messages": self.min_messages,
            "reference": self.reference.to_dict(),
            "current": self.current.to_dict(),
            "score_edges": list(SCORE_EDGES),
            "labels": list(_LABELS),
            "measures": {
                **self.measures(),
                "new_word_types": self.new_word_types,
                "fragmentation_change": self.fragmentation_change,
            },
            "new_terms": [t.to_dict() for t in self.new_terms],
            "thresholds": dict(self.thresholds),
            "alerts": [a.to_dict() for a in self.alerts],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DriftReport:
        m = d.get("measures") or {}

        def num(key: str) -> float | None:
            v = m.get(key)
            return None if v is None else float(v)

        return cls(
            as_of=datetime.fromisoformat(d["as_of"]),
            computed_at=datetime.fromisoformat(d["computed_at"]),
            reference=WindowStats.from_dict(d["reference"]),
            current=WindowStats.from_dict(d["current"]),
            min_messages=int(d["min_messages"]),
            score_psi=num("score_psi"),
            label_psi=num("label_psi"),
            oov_share=num("oov_share"),
            new_word_types=int(m.get("new_word_types") or 0),
            new_terms=[
                NewTerm(str(t["term"]), int(t["current"]), int(t["reference"]), float(t["lift"]))
                for t in d.get("new_terms") or []
            ],
            thresholds={str(k): float(v) for k, v in (d.get("thresholds") or {}).items()},
            alerts=[
                DriftAlert(str(a["measure"]), float(a["value"]), float(a["threshold"]), str(a["message"]))
                for a in d.get("alerts") or []
            ],
        )


class _Vocabulary:
    """Word counts of one window: occurrences, messages containing each word, and who used it."""

    def __init__(self, *, track_customers: bool) -> None:
        self.tokens: Counter[str] = Counter()
        self.docs: Counter[str] = Counter()
        self._first: dict[str, str] = {}
        self.shared: set[str] = set()  # used by at least two customers: one customer's name is not slang
        self._track = track_customers

    def add(self, text: str | None, customer_id: str) -> int:
        found = words(text)
        self.tokens.update(found)
        distinct = set(found)
        self.docs.update(distinct)
        if self._track:
            for w in distinct:
                first = self._first.setdefault(w, customer_id)
                if first != customer_id:
                    self.shared.add(w)
        return len(found)


def default_as_of(session: Session) -> datetime | None:
    """Just after the newest stored customer message (None for an empty store).

    Windows end at the newest traffic rather than at the wall clock, as on the Model health
    page: a quiet spell, or a check run over an imported history, is not mistaken for drift.
    """
    newest = session.scalar(
        select(func.max(Message.timestamp)).where(Message.author == "customer", Message.score.is_not(None))
    )
    if not isinstance(newest, datetime):
        return None
    newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
    return newest + timedelta(seconds=1)


def reference_vocabulary(session: Session, window: Window) -> set[str]:
    """Every word of the scored customer messages stored in ``window`` (what "seen before" means)."""
    stmt = (
        select(Message.text)
        .where(
            Message.author == "customer",
            Message.score.is_not(None),
            Message.text.is_not(None),
            Message.timestamp >= window.start,
            Message.timestamp < window.end,
        )
        .execution_options(yield_per=2000)
    )
    vocabulary: set[str] = set()
    for (text,) in session.execute(stmt):
        vocabulary.update(words(text))
    return vocabulary


def _tally(
    session: Session, reference: Window, current: Window, threshold: float
) -> tuple[tuple[WindowStats, WindowStats], tuple[_Vocabulary, _Vocabulary]]:
    """One pass over both windows' scored customer messages (streamed, never all in memory at once)."""
    stats = (WindowStats(reference), WindowStats(current))
    vocab = (_Vocabulary(track_customers=False), _Vocabulary(track_customers=True))
    stmt = (
        select(
            Message.timestamp,
            Message.customer_id,
            Message.label,
            Message.score,
            Message.confidence,
            Message.text,
            Message.model_version,
        )
        .where(
            Message.author == "customer",
            Message.score.is_not(None),
            Message.timestamp >= min(reference.start, current.start),
            Message.timestamp < max(reference.end, current.end),
        )
        .execution_options(yield_per=2000)
    )
    for ts, customer_id, label, score, confidence, text, version in session.execute(stmt):
        if current.start <= ts < current.end:
            k = 1
        elif reference.start <= ts < reference.end:
            k = 0
        else:
            continue
        s = stats[k]
        s.messages += 1
        s.score_bins[score_bin(float(score or 0.0))] += 1
        if label is not None:
            s.labels[str(label)] = s.labels.get(str(label), 0) + 1
        if confidence is not None and float(confidence) < threshold:
            s.low_confidence += 1
        key = str(version or "unknown")
        s.model_versions[key] = s.model_versions.get(key, 0) + 1
        if text:
            s.with_text += 1
            s.words += vocab[k].add(text, customer_id)
    return stats, vocab


def _tokens_per_word(counts: Counter[str], lengths: Mapping[str, int]) -> float | None:
    top = counts.most_common(_FRAGMENT_TYPES)
    total = sum(n for _, n in top)
    if total == 0:
        return None
    return sum(n * lengths[w] for w, n in top) / total


def _fragmentation(model_dir: Path | None, ref: Counter[str], cur: Counter[str]) -> tuple[float | None, float | None]:
    """Subword tokens per word in each window with the model's tokenizer; (None, None) without one."""
    if model_dir is None:
        from tonewatch.score._model import BUNDLED_MODEL_DIR

        model_dir = BUNDLED_MODEL_DIR
    path = Path(model_dir) / "tokenizer.json"
    if not path.is_file():
        return None, None
    try:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
    except Exception:  # an unreadable tokenizer only costs this one measure
        return None, None
    tokenizer.no_padding()
    tokenizer.no_truncation()
    types = sorted({w for w, _ in ref.most_common(_FRAGMENT_TYPES)} | {w for w, _ in cur.most_common(_FRAGMENT_TYPES)})
    if not types:
        return None, None
    encoded = tokenizer.encode_batch(types, add_special_tokens=False)
    lengths = {w: max(len(e.ids), 1) for w, e in zip(types, encoded, strict=True)}
    return _tokens_per_word(ref, lengths), _tokens_per_word(cur, lengths)


def _new_terms(
    ref: _Vocabulary, cur: _Vocabulary, ref_n: int, cur_n: int, min_count: int, lift: float
) -> list[NewTerm]:
    out: list[NewTerm] = []
    if cur_n == 0:
        return out
    for term, n in cur.docs.items():
        if n < min_count or term not in cur.shared:
            continue
        before = ref.docs.get(term, 0)
        ratio = (n / cur_n) / ((before + 1) / (ref_n + 1))
        if ratio >= lift:
            out.append(NewTerm(term, n, before, ratio))
    out.sort(key=lambda t: (-t.lift, -t.current, t.term))
    return out[:_MAX_TERMS]


def _alerts(report: DriftReport) -> list[DriftAlert]:
    if not report.enough_data:
        return []
    out: list[DriftAlert] = []
    t = report.thresholds
    texts = {
        "score_psi": "score distribution PSI {v:.3f} >= {t:.3f}",
        "label_psi": "label distribution PSI {v:.3f} >= {t:.3f}",
        "oov_share": "{v:.1%} of this window's words were never seen in the reference (alert at {t:.0%})",
        "low_confidence_rise": "low-confidence share rose by {v:.1%} (alert at {t:.0%})",
    }
    for measure, value in report.measures().items():
        threshold = t.get(measure)
        if value is not None and threshold is not None and value >= threshold:
            out.append(DriftAlert(measure, value, threshold, texts[measure].format(v=value, t=threshold)))
    return out


def compute_drift(
    session: Session,
    settings: Settings,
    *,
    as_of: datetime | None = None,
    current_days: float | None = None,
    reference_days: float | None = None,
    reference: Window | None = None,
    fragmentation: bool = True,
    now: datetime | None = None,
) -> DriftReport:
    """Compare the reference window with the current one (see the module docstring).

    ``as_of`` (default: just after the newest stored customer message, else now) ends the
    current window; window lengths default to ``drift_current_days`` and
    ``drift_reference_days``; ``reference`` replaces the default reference window.
    ``fragmentation=False`` skips the tokenizer.
    """
    computed = now or datetime.now(UTC)
    end = as_of or default_as_of(session) or computed
    if end.tzinfo is None:
        raise InputError("as_of must carry a time zone", code="invalid_window", field="as_of")
    ref_w, cur_w = drift_windows(
        end,
        current_days=current_days if current_days is not None else settings.drift_current_days,
        reference_days=reference_days if reference_days is not None else settings.drift_reference_days,
        reference=reference,
    )
    (ref, cur), (ref_vocab, cur_vocab) = _tally(session, ref_w, cur_w, settings.review_threshold)
    report = DriftReport(
        as_of=end,
        computed_at=computed,
        reference=ref,
        current=cur,
        min_messages=settings.drift_min_messages,
        thresholds={
            "score_psi": settings.drift_psi_alert,
            "label_psi": settings.drift_psi_alert,
            "oov_share": settings.drift_oov_alert,
            "low_confidence_rise": settings.drift_low_confidence_rise_alert,
        },
    )
    if report.enough_data:
        report.score_psi = psi(ref.score_bins, cur.score_bins)
        report.label_psi = psi([ref.labels.get(x, 0) for x in _LABELS], [cur.labels.get(x, 0) for x in _LABELS])
        total = sum(cur_vocab.tokens.values())
        if total and ref_vocab.tokens:
            unseen = {w: n for w, n in cur_vocab.tokens.items() if w not in ref_vocab.tokens}
            report.oov_share = sum(unseen.values()) / total
            report.new_word_types = len(unseen)
        report.new_terms = _new_terms(
            ref_vocab,
            cur_vocab,
            ref.with_text,
            cur.with_text,
            settings.drift_term_min_count,
            settings.drift_term_lift,
        )
        if fragmentation:
            ref.tokens_per_word, cur.tokens_per_word = _fragmentation(
                settings.model_dir, ref_vocab.tokens, cur_vocab.tokens
            )
    report.alerts = _alerts(report)
    return report
