"""The registry as operators see it: each version with its marks, figures and shadow backing.

Shared by ``tonewatch model list|show|compare`` and ``GET /v1/models`` so the command line
and the API never disagree about which version is active, shadow or a candidate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ._promotion import count_comparisons, read_history, read_pointer
from ._registry import BUILTIN, ModelVersion, Registry
from ._registry_tables import ModelHistoryRow
from ._shadow import ShadowComparison, compare_shadow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["active_version", "describe_version", "list_versions", "shadow_comparison"]


def active_version(session: Session, registry: Registry) -> ModelVersion:
    """The version the database says is active (the built-in one until something was promoted)."""
    return registry.get(read_pointer(session).active or BUILTIN)


def _ever_active(session: Session) -> set[str]:
    rows = session.scalars(
        select(ModelHistoryRow.version).where(ModelHistoryRow.action.in_(("promote", "rollback"))).distinct()
    )
    return {v or BUILTIN for v in rows}


def list_versions(session: Session, registry: Registry, *, verify: bool = False) -> list[dict[str, Any]]:
    """Every version with ``marks`` (active, shadow, candidate, retired) and its comparisons against the active one.

    ``verify`` hashes every version's files (``integrity`` is then "ok" or the error).
    """
    from tonewatch._errors import NotFoundError

    pointer = read_pointer(session)
    active_name = pointer.active or BUILTIN
    ever = _ever_active(session) | {BUILTIN}
    versions = registry.versions()
    try:
        active: ModelVersion | None = registry.get(active_name)
    except NotFoundError:  # promoted elsewhere, folder not on this machine: show it, do not hide the rest
        active = None
        versions.append(
            ModelVersion(active_name, registry.root / active_name, {}, error="active, but its folder is missing here")
        )
    out: list[dict[str, Any]] = []
    for v in versions:
        item = v.to_dict()
        marks: list[str] = []
        if v.name == active_name:
            marks.append("active")
        if pointer.shadow == v.name:
            marks.append("shadow")
        if not marks:
            marks.append("retired" if v.name in ever else "candidate")
        item["marks"] = marks
        item["comparisons"] = (
            count_comparisons(session, v.model_version, active.model_version)
            if active is not None and v.error is None and v.name != active_name
            else None
        )
        if verify:
            try:
                v.verify()
                item["integrity"] = "ok"
            except Exception as exc:  # any failure to verify is what the operator must see
                item["integrity"] = str(getattr(exc, "message", exc))
        out.append(item)
    return out


def describe_version(session: Session, registry: Registry, name: str) -> dict[str, Any]:
    """One version in full: manifest summary, marks, integrity and the history of its pointer changes."""
    version = registry.get(name)
    entries = {e["version"]: e for e in list_versions(session, registry)}
    item = dict(entries.get(version.name) or version.to_dict())
    try:
        version.verify()
        item["integrity"] = "ok"
    except Exception as exc:
        item["integrity"] = str(getattr(exc, "message", exc))
    manifest = version.manifest
    item["manifest"] = {
        key: manifest.get(key)
        for key in ("name", "version", "source_version", "architecture", "precision", "max_tokens", "licence_note")
        if key in manifest
    }
    item["labels"] = manifest.get("labels", {}).get("sentiment") if isinstance(manifest.get("labels"), dict) else None
    item["files"] = dict(manifest.get("files", {}))
    history = [e.to_dict() for e in read_history(session, limit=200)]
    item["history"] = [e for e in history if version.name in (e["version"], e["previous"])]
    return item


def shadow_comparison(session: Session, registry: Registry, name: str | None = None) -> ShadowComparison:
    """The comparison of ``name`` (default: the current shadow) with the active version."""
    from tonewatch._errors import InputError

    pointer = read_pointer(session)
    target = name or pointer.shadow
    if target is None:
        raise InputError("no shadow version is set; name a version to compare", code="no_shadow", field="version")
    version = registry.get(target)
    active = registry.get(pointer.active or BUILTIN)
    return compare_shadow(session, version.model_version, active.model_version)
