"""Everything the pipeline does to a chunk of events before touching the database.

Validation, PII masking, scoring and categorisation all happen here, so an event that
fails any of them is rejected before the write transaction starts and can never be half
applied. Customer-authored texts of the whole chunk are scored together in micro-batches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from tonewatch._errors import EventValidationError, InputError, TextTooLongError

from ._report import Rejection
from .events import CustomerEvent, MessageEvent, SurveyEvent, TicketEvent, parse_event

if TYPE_CHECKING:
    from tonewatch.score._analysis import Analysis

    from .events import Event

__all__ = ["AnalyzerLike", "MaskFn", "Prepared", "Preparer", "customer_event_id"]


class AnalyzerLike(Protocol):
    """What the pipeline needs from ``tonewatch.score.Analyzer``."""

    @property
    def model_version(self) -> str: ...

    def analyze(self, text: str, *, language: str | None = None) -> Analysis: ...

    def analyze_batch(
        self, texts: Sequence[str], *, batch_size: int = 32, languages: Sequence[str | None] | None = None
    ) -> list[Analysis]: ...


class _MaskedLike(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def entities(self) -> Sequence[Any]: ...


MaskFn = Callable[[str], _MaskedLike]


def customer_event_id(event: CustomerEvent) -> str:
    """The id of a customer event: its own, or one derived from its content.

    Deriving it from the content makes re-sending the same attributes a duplicate, which
    keeps ingestion idempotent for producers that do not number customer events.
    """
    if event.event_id:
        return event.event_id
    body = json.dumps(event.attributes, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.sha256(f"{event.customer_id}\x00{body}".encode()).hexdigest()[:32]
    return f"customer:{digest}"


@dataclass(slots=True)
class Prepared:
    """One validated event ready to store: text masked, analysis and category attached."""

    line: int
    event: Event
    event_id: str
    raw_text: str | None = None
    pii_kinds: tuple[str, ...] = ()
    analysis: Analysis | None = None
    analysis_dict: dict[str, Any] | None = None
    category: str | None = None
    comment_analysis: Analysis | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def customer_id(self) -> str:
        return self.event.customer_id

    @property
    def timestamp(self) -> datetime | None:
        return self.event.timestamp

    @property
    def kind(self) -> str:
        return self.event.kind


def _rejection(line: int, event_id: str | None, exc: InputError) -> Rejection:
    return Rejection(line=line, event_id=event_id, code=exc.code, reason=exc.message, field=exc.field)


def _raw_event_id(obj: Any) -> str | None:
    if isinstance(obj, BaseModel):
        value = getattr(obj, "event_id", None)
    elif isinstance(obj, dict):
        value = obj.get("event_id")
    else:
        value = None
    return value if isinstance(value, str) else None


class Preparer:
    """Turns raw items into :class:`Prepared` events plus rejections."""

    def __init__(
        self,
        analyzer: AnalyzerLike,
        mask: MaskFn,
        categorize: Callable[[str], str],
        *,
        max_text_chars: int,
        batch_size: int = 32,
        keep_raw_text: bool = False,
    ) -> None:
        self._analyzer = analyzer
        self._mask = mask
        self._categorize = categorize
        self._max_chars = max_text_chars
        self._batch_size = batch_size
        self._keep_raw = keep_raw_text

    def prepare(self, items: Iterable[tuple[int, Any]]) -> tuple[list[Prepared], list[Rejection], int]:
        """Return (prepared events in arrival order, rejections, duplicates within the chunk)."""
        prepared: list[Prepared] = []
        rejected: list[Rejection] = []
        seen: set[str] = set()
        duplicates = 0
        for line, item in items:
            try:
                p = self._validate(line, item)
            except InputError as exc:
                rejected.append(_rejection(line, _raw_event_id(item), exc))
                continue
            if p.event_id in seen:
                duplicates += 1
                continue
            seen.add(p.event_id)
            prepared.append(p)
        bad = self._analyze(prepared)
        if bad:
            rejected.extend(bad.values())
            prepared = [p for p in prepared if p.event_id not in bad]
        rejected.sort(key=lambda r: r.line if r.line is not None else -1)
        return prepared, rejected, duplicates

    def _validate(self, line: int, item: Any) -> Prepared:
        if isinstance(item, EventValidationError):
            raise item
        event: Event = item if isinstance(item, BaseModel) else parse_event(item, line=line)  # type: ignore[assignment]
        if isinstance(event, CustomerEvent):
            return Prepared(line, event, customer_event_id(event))
        if isinstance(event, MessageEvent):
            self._check_length(event.text, "text")
            masked = self._mask(event.text)
            kinds = tuple(sorted({str(e.kind) for e in masked.entities}))
            return Prepared(
                line,
                event.model_copy(update={"text": masked.text}),
                event.event_id,
                raw_text=event.text if self._keep_raw else None,
                pii_kinds=kinds,
            )
        if isinstance(event, SurveyEvent) and event.comment:
            self._check_length(event.comment, "comment")
            masked = self._mask(event.comment)
            kinds = tuple(sorted({str(e.kind) for e in masked.entities}))
            return Prepared(line, event.model_copy(update={"comment": masked.text}), event.event_id, pii_kinds=kinds)
        if isinstance(event, TicketEvent) and event.subject:
            masked = self._mask(event.subject)
            kinds = tuple(sorted({str(e.kind) for e in masked.entities}))
            category = event.category or self._categorize(masked.text)
            update: dict[str, Any] = {"subject": masked.text, "category": category}
            return Prepared(line, event.model_copy(update=update), event.event_id, pii_kinds=kinds, category=category)
        if isinstance(event, TicketEvent):
            return Prepared(line, event, event.event_id, category=event.category)
        return Prepared(line, event, event.event_id)

    def _check_length(self, text: str, name: str) -> None:
        if len(text) > self._max_chars:
            raise TextTooLongError(
                f"{name} has {len(text)} characters; the maximum is {self._max_chars} (texts are never truncated)",
                field=name,
            )

    def _analyze(self, prepared: list[Prepared]) -> dict[str, Rejection]:
        """Score customer-authored texts in batches; return the events the analyzer refused."""
        jobs: list[tuple[Prepared, str, str | None, bool]] = []
        for p in prepared:
            ev = p.event
            if isinstance(ev, MessageEvent) and ev.author == "customer":
                jobs.append((p, ev.text, ev.language, False))
            elif isinstance(ev, SurveyEvent) and ev.comment:
                jobs.append((p, ev.comment, None, True))
        if not jobs:
            return {}
        texts = [j[1] for j in jobs]
        languages = [j[2] for j in jobs]
        bad: dict[str, Rejection] = {}
        try:
            results: list[Analysis | None] = list(
                self._analyzer.analyze_batch(texts, batch_size=self._batch_size, languages=languages)
            )
        except InputError:
            results = []
            for p, text, language, _ in jobs:
                try:
                    results.append(self._analyzer.analyze(text, language=language))
                except InputError as exc:
                    bad[p.event_id] = _rejection(p.line, p.event_id, exc)
                    results.append(None)
        from tonewatch.score._analysis import Analysis

        for (p, text, _, is_comment), result in zip(jobs, results, strict=True):
            if result is None:
                continue
            # Fold exactly what is stored (to_dict rounds), so a replay from the store
            # reaches the same state as live ingestion.
            stored = result.to_dict()
            analysis = Analysis.from_dict(stored)
            if is_comment:
                p.comment_analysis = analysis
            else:
                p.analysis = analysis
                p.analysis_dict = stored
                p.category = self._categorize(text)
        return bad
