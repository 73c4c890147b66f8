"""``POST /v1/classify-sentiment``: score one text or a batch, natively or Comprehend-style.

Single texts fail as a whole (422/413 with the field); a batch screens each text and
reports bad ones in ``errors`` (``ErrorList``) while scoring the rest, as Comprehend's
BatchDetectSentiment does. Inference runs in a worker thread so the event loop keeps
accepting requests.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tonewatch._errors import InputError
from tonewatch.api._comprehend import (
    ComprehendBatchOut,
    ComprehendOut,
    comprehend_error_code,
    to_comprehend,
)
from tonewatch.api._deps import Classifier, ServicesDep, ViewerDep
from tonewatch.api._lookup import conversation_closed
from tonewatch.api._problems import ApiError, responses
from tonewatch.api._schemas import AnalysisOut, IndexedAnalysisOut, ItemError
from tonewatch.api._services import Services
from tonewatch.api._types import IsoDateTime
from tonewatch.api._visibility import Viewer
from tonewatch.ingest.events import Channel
from tonewatch.score import check_text

__all__ = ["BatchClassifyOut", "ClassifyRequest", "router"]

router = APIRouter(prefix="/v1", tags=["sentiment"])


class ClassifyRequest(BaseModel):
    """One ``text`` or a batch of ``texts`` (Comprehend's ``Text``/``TextList`` are accepted too)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "I have asked three times and nobody answers."}]},
    )

    text: str | None = Field(default=None, description="One text to score")
    texts: list[str] | None = Field(default=None, description="A batch of texts (at most `max_batch`, default 256)")
    language: str | None = Field(default=None, min_length=2, max_length=8, description="ISO 639-1 hint")
    customer_id: str | None = Field(default=None, min_length=1, max_length=200)
    channel: Channel | None = None
    timestamp: IsoDateTime | None = None
    ticket_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Under the post_conversation policy, scores show once this stored ticket is resolved or closed",
    )
    Text: str | None = Field(default=None, description="Comprehend DetectSentiment alias of `text`")
    TextList: list[str] | None = Field(default=None, description="Comprehend BatchDetectSentiment alias of `texts`")
    LanguageCode: str | None = Field(default=None, min_length=2, max_length=8, description="Alias of `language`")


class BatchClassifyOut(BaseModel):
    results: list[IndexedAnalysisOut]
    errors: list[ItemError]
    model_version: str


ClassifyOut = AnalysisOut | BatchClassifyOut | ComprehendOut | ComprehendBatchOut


def _payload(body: ClassifyRequest) -> tuple[str | None, list[str] | None, str | None]:
    single = [v for v in (body.text, body.Text) if v is not None]
    batch = [v for v in (body.texts, body.TextList) if v is not None]
    if len(single) + len(batch) != 1:
        raise InputError(
            "send exactly one of `text` or `texts`" if single or batch else "missing `text` (or `texts` for a batch)",
            code="missing_text" if not (single or batch) else "ambiguous_text",
            field="text",
        )
    language = body.language or body.LanguageCode
    return (single[0] if single else None), (batch[0] if batch else None), language


async def _closed(services: Services, viewer: Viewer, ticket_id: str | None) -> bool | None:
    """Ticket status, read only when the post_conversation policy needs it (no thread hop otherwise)."""
    if viewer.policy != "post_conversation" or ticket_id is None:
        return None
    return await run_in_threadpool(conversation_closed, services, viewer, ticket_id)


def _category(text: str) -> str | None:
    try:
        from tonewatch.score import categorize  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    result: str = categorize(text)
    return result


@router.post(
    "/classify-sentiment",
    response_model=None,
    summary="Score one text or a batch",
    responses={
        200: {"model": ClassifyOut, "description": "The analysis (one text), results and errors (a batch)"},
        **responses(400, 401, 403, 413, 415, 422, 429),
    },
)
async def classify_sentiment(
    body: ClassifyRequest,
    caller: Classifier,
    viewer: ViewerDep,
    services: ServicesDep,
    format: Annotated[
        Literal["native", "comprehend"],
        Query(description="`comprehend` returns AWS Comprehend's DetectSentiment / BatchDetectSentiment shape"),
    ] = "native",
) -> JSONResponse:
    """Sentiment, emotions, urgency, sarcasm and the evidence behind them, for one text or a batch.

    The body is built as plain JSON (no second validation pass): this is the hot path, and the
    schema tests check every shape it returns against the documented models.
    """
    text, texts, language = _payload(body)
    max_chars = services.settings.max_text_chars
    if text is not None:
        text = check_text(text, max_chars=max_chars, field="text")
        closed = await _closed(services, viewer, body.ticket_id)
        analysis = await services.batcher.analyze(text, language)
        data = viewer.analysis(analysis.to_dict(), closed=closed)
        if format == "comprehend":
            return JSONResponse(to_comprehend(data))
        data["category"] = _category(text) if data["redacted"] is None else None
        return JSONResponse(data)

    assert texts is not None
    field = "texts" if body.texts is not None else "TextList"
    if not texts:
        raise InputError("the batch is empty", code="empty_batch", field=field)
    if len(texts) > services.settings.max_batch:
        raise ApiError(
            413,
            "batch_too_large",
            f"{len(texts)} texts; the batch limit is {services.settings.max_batch}",
            field=field,
        )
    good: list[tuple[int, str]] = []
    errors: list[ItemError] = []
    for i, item in enumerate(texts):
        try:
            good.append((i, check_text(item, max_chars=max_chars, field=f"{field}.{i}")))
        except InputError as exc:
            errors.append(ItemError(index=i, code=exc.code, message=exc.message, field=exc.field))
    closed = await _closed(services, viewer, body.ticket_id)
    analyses = (
        await run_in_threadpool(services.analyze, [t for _, t in good], languages=[language] * len(good))
        if good
        else []
    )
    if format == "comprehend":
        return JSONResponse(
            {
                "ResultList": [
                    {"Index": i, **to_comprehend(viewer.analysis(a.to_dict(), closed=closed))}
                    for (i, _), a in zip(good, analyses, strict=True)
                ],
                "ErrorList": [
                    {"Index": e.index, "ErrorCode": comprehend_error_code(e.code), "ErrorMessage": e.message}
                    for e in errors
                ],
            }
        )
    results = []
    for (i, t), a in zip(good, analyses, strict=True):
        data = viewer.analysis(a.to_dict(), closed=closed)
        data["category"] = _category(t) if data["redacted"] is None else None
        data["index"] = i
        results.append(data)
    model_version = analyses[0].model_version if analyses else str(services.analyzer.model_version)
    return JSONResponse(
        {"results": results, "errors": [e.model_dump() for e in errors], "model_version": model_version}
    )
