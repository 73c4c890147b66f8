"""The monthly report for product and leadership: what drove negative sentiment, and how it moved.

Built from customer-authored messages only (masked text, scored), for a calendar month (UTC)
against the month before. Every group (issue category, feature, channel, week) with fewer
than ``aggregate_min_group`` messages is suppressed, as the API does for aggregates.

"Features" are either a list the operator gives (one name per line, matched as words in
the masked text) or, without one, the two-word phrases that come up in negative messages
far more often than the month's overall negative share would predict ("excess negative
messages"), so the report finds what customers complain about without configuration.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonewatch.score._analysis import EMOTIONS

from ._charts import ChartSpec, Dataset
from ._common import mean, month_bounds, previous_month, share, week_of

__all__ = ["GroupRow", "MonthlyReport", "build_monthly_report", "latest_month"]

_TOP = 10
_QUOTE_CHARS = 240
_MIN_CUSTOMERS = 3  # a phrase only one or two customers use is a name or a signature, not a product issue
_SIGNATURE = re.compile(r"<[A-Z_]+>|\s\|\s")
_SIGN_OFF = re.compile(
    r"^(thanks|thank you|best|regards|kind regards|cheers|sincerely|looking forward|many thanks|hi|hello|dear)\b",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"<[A-Z_]+>")
_WORD = re.compile(r"[a-zà-öø-ÿ][a-zà-öø-ÿ'\-]+")
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for
    from further get got had hadn't has hasn't have haven't having he her here hers herself him himself his how i i'm
    if in into is isn't it it's its itself just let's me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that that's the their theirs them
    themselves then there these they they're this those through to too under until up very was wasn't we we're were
    weren't what when where which while who whom why will with won't would wouldn't you you're your yours yourself
    yourselves hi hello hey thanks thank please regards best cheers team still again already really yet one two
    us let know need want like would could also since ago week weeks day days today yesterday time since via
    sent email emails message reply ticket asap dear good morning afternoon evening kind sincerely warm wishes"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass
class GroupRow:
    """One group's figures this month and last month (None where suppressed)."""

    name: str
    messages: int
    negative: int
    mean_score: float | None
    negative_share: float | None
    prev_messages: int
    prev_negative_share: float | None
    prev_mean_score: float | None
    excess_negative: float = 0.0
    suppressed: bool = False

    @property
    def change(self) -> float | None:
        """Change in negative share from last month (percentage points as a fraction)."""
        if self.negative_share is None or self.prev_negative_share is None:
            return None
        return self.negative_share - self.prev_negative_share


@dataclass
class MonthlyReport:
    month: str
    previous: str
    generated_at: datetime
    min_group: int
    messages: int = 0
    prev_messages: int = 0
    mean_score: float | None = None
    prev_mean_score: float | None = None
    negative_share: float | None = None
    prev_negative_share: float | None = None
    categories: list[GroupRow] = field(default_factory=list)
    features: list[GroupRow] = field(default_factory=list)
    channels: list[GroupRow] = field(default_factory=list)
    weeks: list[GroupRow] = field(default_factory=list)
    emotions: list[dict[str, Any]] = field(default_factory=list)
    quotes: list[dict[str, str]] = field(default_factory=list)
    feature_source: str = "phrases"

    def charts(self) -> list[ChartSpec]:
        cats = self.categories[:8]
        return [
            ChartSpec(
                "category-negative",
                f"Negative share by issue category: {self.month} against {self.previous}",
                "bar",
                [c.name for c in cats],
                [
                    Dataset(self.month, [c.negative_share for c in cats], kind="bar", color=5),
                    Dataset(self.previous, [c.prev_negative_share for c in cats], kind="bar", color=7),
                ],
                y_title="share of messages that are negative",
                y_min=0,
                percent=True,
            ),
            ChartSpec(
                "weekly-trend",
                f"Mean customer sentiment per week, {self.previous} and {self.month}",
                "line",
                [w.name for w in self.weeks],
                [
                    Dataset("mean score", [w.mean_score for w in self.weeks], color=0),
                    Dataset("negative share", [w.negative_share for w in self.weeks], color=5),
                ],
                y_title="mean score / negative share",
                y_min=-1,
                y_max=1,
            ),
            ChartSpec(
                "features",
                "Features and phrases with the most excess negative messages"
                if self.feature_source == "phrases"
                else "Features with the most excess negative messages",
                "bar",
                [f.name for f in self.features],
                [Dataset("excess negative messages", [f.excess_negative for f in self.features], kind="bar", color=5)],
                y_title="negative messages above the month's rate",
                y_min=0,
            ),
        ]

    def to_csv(self) -> str:
        """One table: a row per group and section, then the masked quotes."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(
            [
                "section",
                "name",
                "month",
                "messages",
                "negative_share",
                "mean_score",
                "previous_month",
                "previous_messages",
                "previous_negative_share",
                "previous_mean_score",
                "change_negative_share",
                "excess_negative",
                "text",
            ]
        )
        total = GroupRow(
            "all customer messages",
            self.messages,
            0,
            self.mean_score,
            self.negative_share,
            self.prev_messages,
            self.prev_negative_share,
            self.prev_mean_score,
        )
        sections: list[tuple[str, Iterable[GroupRow]]] = [
            ("total", [total]),
            ("category", self.categories),
            ("feature", self.features),
            ("channel", self.channels),
            ("week", self.weeks),
        ]
        for section, rows in sections:
            for r in rows:
                w.writerow(
                    [
                        section,
                        r.name,
                        self.month,
                        r.messages,
                        _f(r.negative_share),
                        _f(r.mean_score),
                        self.previous,
                        r.prev_messages,
                        _f(r.prev_negative_share),
                        _f(r.prev_mean_score),
                        _f(r.change),
                        _f(r.excess_negative) if section == "feature" else "",
                        "",
                    ]
                )
        for e in self.emotions:
            w.writerow(
                [
                    "emotion",
                    e["emotion"],
                    self.month,
                    "",
                    "",
                    _f(e["mean"]),
                    self.previous,
                    "",
                    "",
                    _f(e["prev_mean"]),
                    "",
                    "",
                    "",
                ]
            )
        for q in self.quotes:
            w.writerow(["quote", q["category"], self.month, "", "", "", "", "", "", "", "", "", q["text"]])
        return buf.getvalue()


def _f(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


@dataclass(frozen=True, slots=True)
class _Msg:
    ts: datetime
    customer_id: str
    category: str
    channel: str
    text: str
    score: float
    negative: bool
    emotions: Mapping[str, float]


def _load(session: Session, start: datetime, end: datetime) -> list[_Msg]:
    from tonewatch.store import Message

    q = select(
        Message.timestamp,
        Message.customer_id,
        Message.category,
        Message.channel,
        Message.text,
        Message.score,
        Message.label,
        Message.analysis["emotions"],
    ).where(
        Message.author == "customer", Message.score.is_not(None), Message.timestamp >= start, Message.timestamp < end
    )
    out = []
    for ts, customer_id, category, channel, text, score, label, emotions in session.execute(q):
        out.append(
            _Msg(
                ts if ts.tzinfo else ts.replace(tzinfo=UTC),
                str(customer_id),
                str(category or "uncategorised"),
                str(channel or "unknown"),
                text or "",
                float(score),
                label == "negative",
                emotions if isinstance(emotions, Mapping) else {},
            )
        )
    return out


def _row(name: str, now: list[_Msg], before: list[_Msg], min_group: int, overall: float | None) -> GroupRow:
    visible, prev_visible = len(now) >= min_group, len(before) >= min_group
    negative = sum(m.negative for m in now)
    row = GroupRow(
        name,
        len(now),
        negative if visible else 0,
        mean(m.score for m in now) if visible else None,
        share(negative, len(now)) if visible else None,
        len(before),
        share(sum(m.negative for m in before), len(before)) if prev_visible else None,
        mean(m.score for m in before) if prev_visible else None,
        suppressed=not visible,
    )
    if visible and overall is not None:
        row.excess_negative = round(negative - len(now) * overall, 1)
    return row


def _groups(key: str, now: list[_Msg], before: list[_Msg], min_group: int, overall: float | None) -> list[GroupRow]:
    a: dict[str, list[_Msg]] = defaultdict(list)
    b: dict[str, list[_Msg]] = defaultdict(list)
    for m in now:
        a[getattr(m, key)].append(m)
    for m in before:
        b[getattr(m, key)].append(m)
    rows = [_row(name, a[name], b.get(name, []), min_group, overall) for name in a]
    rows.sort(key=lambda r: (r.suppressed, -r.negative, -r.messages, r.name))
    return rows


def _clean(text: str) -> str:
    return _PLACEHOLDER.sub(" ", text.lower())


def _phrases(text: str) -> set[str]:
    words = _WORD.findall(_clean(text))
    out = set()
    for x, y in itertools.pairwise(words):
        if x not in _STOPWORDS and y not in _STOPWORDS and len(x) > 2 and len(y) > 2:
            out.add(f"{x} {y}")
    return out


def _feature_matchers(features: Sequence[str]) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for name in features:
        core = re.sub(r"^(the|a|an)\s+", "", name.strip(), flags=re.IGNORECASE)
        if core:
            out.append((name.strip(), re.compile(r"\b" + re.escape(core.lower()) + r"\b")))
    return out


def _features(
    now: list[_Msg], before: list[_Msg], features: Sequence[str] | None, min_group: int, overall: float | None
) -> tuple[list[GroupRow], str]:
    a: dict[str, list[_Msg]] = defaultdict(list)
    b: dict[str, list[_Msg]] = defaultdict(list)
    if features:
        matchers = _feature_matchers(features)
        for bucket, msgs in ((a, now), (b, before)):
            for m in msgs:
                text = _clean(m.text)
                for name, pattern in matchers:
                    if pattern.search(text):
                        bucket[name].append(m)
        source = "list"
    else:
        for bucket, msgs in ((a, now), (b, before)):
            for m in msgs:
                for p in _phrases(m.text):
                    bucket[p].append(m)
        source = "phrases"
    rows = [
        _row(name, msgs, b.get(name, []), min_group, overall)
        for name, msgs in a.items()
        if len(msgs) >= min_group and len({m.customer_id for m in msgs}) >= _MIN_CUSTOMERS
    ]
    rows = [r for r in rows if r.excess_negative > 0]
    rows.sort(key=lambda r: (-r.excess_negative, -r.negative, r.name))
    return rows[:_TOP], source


def _quote(text: str) -> str:
    """The message's longest paragraph that is not a greeting or a signature, on one line, clipped."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]
    content = [p for p in paragraphs if not _SIGNATURE.search(p) and not _SIGN_OFF.match(p)]
    body = max(content or paragraphs, key=len, default="")
    return body if len(body) <= _QUOTE_CHARS else body[: _QUOTE_CHARS - 1].rstrip() + "…"


def _quotes(now: list[_Msg], categories: list[GroupRow]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for cat in [c for c in categories if not c.suppressed and c.negative][:3]:
        worst = sorted((m for m in now if m.category == cat.name and m.negative and m.text), key=lambda m: m.score)
        seen: set[str] = set()
        for m in worst:
            q = _quote(m.text)
            if q and q not in seen:
                seen.add(q)
                out.append({"category": cat.name, "text": q})
            if len(seen) == 2:
                break
    return out


def latest_month(session: Session, now: datetime) -> str:
    """The last complete month with customer messages (the current month only when it is the only one)."""
    from sqlalchemy import func

    from tonewatch.store import Message

    current = f"{now.year:04d}-{now.month:02d}"
    newest = session.scalar(select(func.max(Message.timestamp)).where(Message.author == "customer"))
    if not isinstance(newest, datetime):
        return current
    month = f"{newest.year:04d}-{newest.month:02d}"
    if month >= current:
        before = previous_month(current)
        start, end = month_bounds(before)
        earlier = session.scalar(
            select(func.count()).where(
                Message.author == "customer", Message.timestamp >= start, Message.timestamp < end
            )
        )
        return before if earlier else current
    return month


def build_monthly_report(
    session: Session,
    month: str,
    *,
    min_group: int,
    features: Sequence[str] | None = None,
    now: datetime | None = None,
) -> MonthlyReport:
    """The report for ``month`` ("YYYY-MM"); ValueError for a malformed month."""
    start, end = month_bounds(month)
    prev = previous_month(month)
    prev_start, _ = month_bounds(prev)
    rows = _load(session, prev_start, end)
    now_rows = [m for m in rows if m.ts >= start]
    before = [m for m in rows if m.ts < start]
    report = MonthlyReport(month, prev, now or datetime.now(UTC), min_group)
    total = _row("all", now_rows, before, min_group, None)
    report.messages, report.prev_messages = total.messages, total.prev_messages
    report.mean_score, report.prev_mean_score = total.mean_score, total.prev_mean_score
    report.negative_share, report.prev_negative_share = total.negative_share, total.prev_negative_share
    overall = total.negative_share
    report.categories = _groups("category", now_rows, before, min_group, overall)
    report.channels = _groups("channel", now_rows, before, min_group, overall)
    report.features, report.feature_source = _features(now_rows, before, features, min_group, overall)
    by_week: dict[str, list[_Msg]] = defaultdict(list)
    for m in rows:
        by_week[week_of(m.ts).isoformat()].append(m)
    report.weeks = [_row(w, by_week[w], [], min_group, None) for w in sorted(by_week)]
    if total.messages >= min_group:
        for e in EMOTIONS:
            report.emotions.append(
                {
                    "emotion": e,
                    "mean": mean(float(m.emotions.get(e, 0.0)) for m in now_rows),
                    "prev_mean": mean(float(m.emotions.get(e, 0.0)) for m in before)
                    if len(before) >= min_group
                    else None,
                }
            )
    report.quotes = _quotes(now_rows, report.categories)
    return report
