"""``/v1/models``: the model registry and how a shadow version compares with the active one (admins only).

Read-only over HTTP: promoting, rolling back and setting a shadow are ``tonewatch model``
commands, so every change carries an operator's name and reason in the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from tonewatch.api._deps import ModelReader, ServicesDep
from tonewatch.api._problems import responses
from tonewatch.api._services import Services

__all__ = ["router"]

router = APIRouter(prefix="/v1/models", tags=["admin"])


class LanguageFigureOut(BaseModel):
    metric: str
    value: float | None
    n: int | None = None


class ModelMetricsOut(BaseModel):
    tweeteval_macro_recall: float | None
    tweeteval_accuracy: float | None
    airline_macro_f1: float | None
    ece: float | None
    languages: dict[str, LanguageFigureOut]


class ModelOut(BaseModel):
    version: str
    model_version: str | None
    builtin: bool
    created: str | None
    imported_at: str | None
    source: str | None
    error: str | None
    marks: list[str]
    comparisons: int | None
    metrics: ModelMetricsOut | None


class ModelsOut(BaseModel):
    models: list[ModelOut]
    active: str
    shadow: str | None
    serving: str | None
    min_comparisons: int


class ConfusionOut(BaseModel):
    rows: str
    columns: str
    labels: list[str]
    matrix: list[list[int]]


class LabelDistributionOut(BaseModel):
    active: dict[str, int]
    shadow: dict[str, int]


class ShadowOut(BaseModel):
    version: str
    active_version: str
    n: int
    agreement: float | None
    mean_abs_score_diff: float | None
    label_distribution: LabelDistributionOut
    confusion: ConfusionOut
    first_at: str | None
    last_at: str | None
    against_other_active_versions: dict[str, int]
    min_comparisons: int
    queue: dict[str, int] | None


def _registry(services: Services) -> Any:
    from tonewatch.learn._registry import Registry

    serving = services.serving
    return serving.registry if serving is not None else Registry.from_settings(services.settings)


def models_overview(services: Services, *, history: int = 0) -> dict[str, Any]:
    """Versions with their marks, the pointers, what this process serves; with ``history``, that many
    latest registry changes too (the dashboard's Model health page shows the same listing)."""
    from tonewatch.learn._catalogue import list_versions
    from tonewatch.learn._promotion import read_history, read_pointer
    from tonewatch.learn._registry import BUILTIN

    registry = _registry(services)
    with services.store.session(readonly=True) as session:
        models = list_versions(session, registry)
        pointer = read_pointer(session)
        changes = [h.to_dict() for h in read_history(session, history)] if history else []
    serving = services.serving
    out = {
        "models": models,
        "active": pointer.active or BUILTIN,
        "shadow": pointer.shadow,
        "serving": serving.active_name if serving is not None else None,
        "min_comparisons": services.settings.shadow_min_comparisons,
    }
    if history:
        out["history"] = changes
    return out


def _shadow(services: Services, version: str) -> dict[str, Any]:
    from tonewatch.learn._catalogue import shadow_comparison

    registry = _registry(services)
    with services.store.session(readonly=True) as session:
        comparison = shadow_comparison(session, registry, version)
    serving = services.serving
    return {
        **comparison.to_dict(),
        "min_comparisons": services.settings.shadow_min_comparisons,
        "queue": serving.shadow.stats.to_dict() if serving is not None else None,
    }


@router.get(
    "",
    response_model=ModelsOut,
    summary="List model versions",
    responses=responses(401, 403, 429),
)
async def list_models(caller: ModelReader, services: ServicesDep) -> Any:
    """Every registered version (the bundled one is ``builtin``) with its marks (active, shadow, candidate,
    retired), its manifest's key figures and how many shadow comparisons back it against the active version.
    ``serving`` is the version this API process is scoring with right now."""
    return await run_in_threadpool(models_overview, services)


@router.get(
    "/{version}/shadow",
    response_model=ShadowOut,
    summary="Compare a version's shadow results with the active version",
    responses=responses(401, 403, 404, 422, 429),
)
async def shadow_results(
    version: Annotated[str, Path(min_length=1, max_length=80)], caller: ModelReader, services: ServicesDep
) -> Any:
    """Agreement rate, label distributions, mean |score difference| and the confusion between the active
    version's labels (rows) and this version's (columns), over the live messages it has shadowed.
    ``queue`` counts this process's shadow queue (submitted, dropped, scored, written, failed)."""
    return await run_in_threadpool(_shadow, services, version)
