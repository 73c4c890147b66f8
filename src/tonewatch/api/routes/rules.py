"""``GET|PUT /v1/rules``: the playbook the pipeline runs; replacing it is admin-only and audited.

PUT accepts the YAML itself (``Content-Type: application/yaml``) or ``{"yaml": "..."}``.
The text is validated completely (errors name the line and field) before it is written, and
it is written atomically, so a bad upload never leaves a half-valid playbook in force.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import yaml
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tonewatch._errors import InputError, RuleValidationError
from tonewatch.api._deps import RulesReader, RulesWriter, ServicesDep
from tonewatch.api._problems import ApiError, responses
from tonewatch.api._services import Services
from tonewatch.audit import AuditLog

__all__ = ["router"]

router = APIRouter(prefix="/v1/rules", tags=["proactive"])

_MAX_RULES_BYTES = 256_000


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml: str = Field(min_length=1, description="The playbook as YAML text")


class RulesOut(BaseModel):
    name: str
    description: str | None
    source: str
    sha256: str
    rules: list[dict[str, Any]]
    yaml: str


def _describe(services: Services) -> dict[str, Any]:
    from tonewatch.triggers import parse_playbook, starter_playbook_text

    path = services.rules_file()
    text = path.read_text(encoding="utf-8") if path is not None else starter_playbook_text()
    playbook = parse_playbook(text, str(path) if path is not None else "starter")
    return {
        "name": playbook.name,
        "description": playbook.description,
        "source": "file" if path is not None else "starter",
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "rules": [r.summary() for r in playbook],
        "yaml": text,
    }


@router.get("", response_model=RulesOut, summary="The playbook in force", responses=responses(401, 403, 429))
async def get_rules(caller: RulesReader, services: ServicesDep) -> Any:
    return await run_in_threadpool(_describe, services)


def _replace(services: Services, text: str, actor: str) -> dict[str, Any]:
    from tonewatch.triggers import parse_playbook

    try:
        playbook = parse_playbook(text, "request")
    except yaml.YAMLError as exc:  # not every YAML error comes back as a RuleValidationError
        mark = getattr(exc, "problem_mark", None)
        raise RuleValidationError(
            f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
            field="yaml",
            line=None if mark is None else mark.line + 1,
        ) from None
    target = services.rules_file(for_writing=True)
    assert target is not None
    before = target.read_text(encoding="utf-8") if target.exists() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    with services.store.session() as session:
        AuditLog(session).record(
            actor,
            "rules.update",
            f"playbook:{playbook.name}",
            {
                "rules": len(playbook),
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "previous_sha256": None if before is None else hashlib.sha256(before.encode("utf-8")).hexdigest(),
            },
        )
        os.replace(tmp, target)  # inside the transaction: no audit entry without the change, and vice versa
    services.reset_pipeline()
    return _describe(services)


@router.put(
    "",
    response_model=RulesOut,
    summary="Replace the playbook (admin)",
    responses=responses(400, 401, 403, 413, 415, 422, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": RulesIn.model_json_schema()},
                "application/yaml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def put_rules(request: Request, caller: RulesWriter, services: ServicesDep) -> Any:
    """Validate and install a playbook; a validation error names the line and field at fault."""
    raw = await request.body()
    if len(raw) > _MAX_RULES_BYTES:
        raise ApiError(413, "request_too_large", f"a playbook is limited to {_MAX_RULES_BYTES} bytes", field="yaml")
    media = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    text = raw.decode("utf-8")  # the middleware has refused invalid UTF-8
    if media == "application/json" or media.endswith("+json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ApiError(400, "invalid_json", f"invalid JSON: {exc.msg}") from None
        if not isinstance(data, dict) or not isinstance(data.get("yaml"), str):
            raise InputError(
                'send {"yaml": "<playbook>"} or the YAML with Content-Type: application/yaml', field="yaml"
            )
        text = data["yaml"]
    if not text.strip():
        raise InputError("the playbook is empty", code="empty_text", field="yaml")
    return await run_in_threadpool(_replace, services, text, caller.actor)
