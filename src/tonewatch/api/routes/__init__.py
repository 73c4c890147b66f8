"""One router per resource; :data:`ROUTERS` is the order they appear in the OpenAPI schema."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    aggregates,
    audit,
    classify,
    conversation,
    customers,
    events,
    feedback,
    keys,
    learning,
    models,
    review,
    rules,
    stream,
    system,
    webhooks,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    classify.router,
    conversation.router,
    stream.router,
    events.router,
    customers.router,
    aggregates.router,
    review.router,
    rules.router,
    feedback.router,
    learning.router,
    audit.router,
    webhooks.router,
    keys.router,
    models.router,
    system.router,
)
