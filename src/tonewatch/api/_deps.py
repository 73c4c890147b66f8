"""``Annotated`` dependencies the routers declare: services, callers by permission, the viewer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tonewatch.settings import Settings

from ._auth import Principal, get_principal, get_services, require
from ._services import Services
from ._visibility import Viewer

__all__ = [
    "AggregateReader",
    "AuditReader",
    "Caller",
    "Classifier",
    "CustomerReader",
    "FeedbackReader",
    "FeedbackWriter",
    "Ingester",
    "KeyManager",
    "ModelReader",
    "ReviewActor",
    "ReviewCreator",
    "ReviewReader",
    "RulesReader",
    "RulesWriter",
    "ServicesDep",
    "SettingsDep",
    "StreamReader",
    "ViewerDep",
    "WebhookManager",
    "get_viewer",
]

ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
Caller = Annotated[Principal, Depends(get_principal)]


def get_viewer(principal: Caller, services: ServicesDep) -> Viewer:
    """The caller as the visibility policy sees them; every score-returning route takes one."""
    return Viewer.for_role(principal.role, services.settings)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]

Classifier = Annotated[Principal, Depends(require("classify"))]
StreamReader = Annotated[Principal, Depends(require("stream"))]
Ingester = Annotated[Principal, Depends(require("ingest"))]
CustomerReader = Annotated[Principal, Depends(require("customers.read"))]
AggregateReader = Annotated[Principal, Depends(require("aggregates.read"))]
ReviewReader = Annotated[Principal, Depends(require("review.read"))]
ReviewActor = Annotated[Principal, Depends(require("review.act"))]
ReviewCreator = Annotated[Principal, Depends(require("review.create"))]
RulesReader = Annotated[Principal, Depends(require("rules.read"))]
RulesWriter = Annotated[Principal, Depends(require("rules.write"))]
AuditReader = Annotated[Principal, Depends(require("audit.read"))]
FeedbackWriter = Annotated[Principal, Depends(require("feedback.write"))]
FeedbackReader = Annotated[Principal, Depends(require("feedback.read"))]
WebhookManager = Annotated[Principal, Depends(require("webhooks.manage"))]
KeyManager = Annotated[Principal, Depends(require("keys.manage"))]
ModelReader = Annotated[Principal, Depends(require("models.read"))]
