"""Which version serves and which shadows it: the database pointer, its history and its audit trail.

Every change locks the one ``model_serving`` row (a row lock on PostgreSQL, the write
transaction on SQLite), writes a ``model_history`` row and an audit entry in the same
transaction, so a pointer never moves without a record of who moved it and why.

Rollback walks the promotion history as a stack: each promotion pushes the version it
made active, each rollback pops one, so rolling back twice after two promotions returns to
where things started (the bundled model when nothing was promoted before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from tonewatch._errors import InputError

from ._registry import BUILTIN, ModelVersion, Registry
from ._registry_tables import ModelHistoryRow, ModelServingRow, ShadowResultRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tonewatch.store import Store

__all__ = [
    "HistoryEntry",
    "ServingPointer",
    "count_comparisons",
    "import_model",
    "promote",
    "promotion_stack",
    "read_history",
    "read_pointer",
    "rollback",
    "set_shadow",
]


@dataclass(frozen=True, slots=True)
class ServingPointer:
    """What the database says: the active version (None = the bundled default) and the shadow."""

    active: str | None
    shadow: str | None
    revision: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None

    @property
    def active_name(self) -> str:
        return self.active or BUILTIN


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    at: datetime
    action: str
    version: str | None
    previous: str | None
    actor: str
    why: str | None
    forced: bool
    comparisons: int | None

    @classmethod
    def from_row(cls, row: ModelHistoryRow) -> HistoryEntry:
        return cls(
            row.id, row.at, row.action, row.version, row.previous, row.actor, row.why, row.forced, row.comparisons
        )

    def to_dict(self) -> dict[str, Any]:
        # the active pointer's None is the bundled model; the shadow pointer's None is "no shadow"
        default = BUILTIN if self.action in ("promote", "rollback") else None
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "action": self.action,
            "version": self.version or default,
            "previous": self.previous or default,
            "actor": self.actor,
            "why": self.why,
            "forced": self.forced,
            "comparisons": self.comparisons,
        }


def read_pointer(session: Session) -> ServingPointer:
    row = session.get(ModelServingRow, 1)
    if row is None:
        return ServingPointer(None, None)
    return ServingPointer(row.active_version, row.shadow_version, row.revision, row.updated_at, row.updated_by)


def _lock_pointer(session: Session) -> ModelServingRow:
    row = session.scalars(select(ModelServingRow).where(ModelServingRow.id == 1).with_for_update()).first()
    if row is None:  # a database migrated by hand without the seed row
        row = ModelServingRow(id=1, revision=0)
        session.add(row)
        session.flush()
    return row


def read_history(session: Session, limit: int = 50) -> list[HistoryEntry]:
    rows = session.scalars(select(ModelHistoryRow).order_by(ModelHistoryRow.id.desc()).limit(limit))
    return [HistoryEntry.from_row(r) for r in rows]


def promotion_stack(session: Session) -> list[str | None]:
    """The active versions as a stack (bottom: None, the bundled default), replayed from the history."""
    stack: list[str | None] = [None]
    rows = session.scalars(
        select(ModelHistoryRow).where(ModelHistoryRow.action.in_(("promote", "rollback"))).order_by(ModelHistoryRow.id)
    )
    for row in rows:
        if row.action == "promote":
            stack.append(row.version)
        elif len(stack) > 1:
            stack.pop()
    return stack


def count_comparisons(session: Session, shadow_model_version: str, active_model_version: str) -> int:
    """Shadow results of one version recorded against one active version."""
    n = session.scalar(
        select(func.count())
        .select_from(ShadowResultRow)
        .where(
            ShadowResultRow.version == shadow_model_version,
            ShadowResultRow.active_version == active_model_version,
        )
    )
    return int(n or 0)


def _current(registry: Registry, row: ModelServingRow) -> ModelVersion:
    """The active version's entry; the built-in one if its folder is gone, so an operator can still recover."""
    from tonewatch._errors import NotFoundError

    try:
        return registry.get(row.active_version or BUILTIN)
    except NotFoundError:
        return registry.builtin


def _stored(version: ModelVersion) -> str | None:
    """How a version is kept in the pointer: the built-in one as None (whatever its version is after an upgrade)."""
    return None if version.builtin else version.name


def _audit(session: Session, actor: str, action: str, version: str | None, details: dict[str, Any]) -> None:
    from tonewatch.audit import AuditLog

    AuditLog(session).record(actor, action, f"model:{version or BUILTIN}", details)


def _record(
    session: Session,
    action: str,
    version: str | None,
    previous: str | None,
    actor: str,
    why: str | None,
    *,
    forced: bool = False,
    comparisons: int | None = None,
) -> HistoryEntry:
    row = ModelHistoryRow(
        at=datetime.now(UTC),
        action=action,
        version=version,
        previous=previous,
        actor=actor,
        why=why,
        forced=forced,
        comparisons=comparisons,
    )
    session.add(row)
    session.flush()
    return HistoryEntry.from_row(row)


def _touch(row: ModelServingRow, actor: str) -> None:
    row.revision = (row.revision or 0) + 1
    row.updated_at = datetime.now(UTC)
    row.updated_by = actor


def _check_actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise InputError("say who is doing this (--actor)", field="actor")
    return actor.strip()


def promote(
    store: Store,
    registry: Registry,
    name: str,
    *,
    actor: str,
    why: str | None = None,
    force: bool = False,
    min_comparisons: int = 0,
) -> HistoryEntry:
    """Make ``name`` the active version everywhere (each process picks it up within its refresh interval).

    Refused (:class:`InputError`) when the files do not verify, when its manifest's labels
    differ from the active version's (scores would change meaning under the rules and
    reports), when it is already active, or, unless ``force``, when fewer than
    ``min_comparisons`` shadow results against the active version back it up.
    """
    actor = _check_actor(actor)
    candidate = registry.get(name)
    candidate.verify()
    with store.session() as session:
        row = _lock_pointer(session)
        current = _current(registry, row)
        target = _stored(candidate)
        if target == row.active_version:
            raise InputError(f"model version {candidate.name!r} is already active", code="already_active")
        if candidate.labels != current.labels:
            raise InputError(
                f"model version {candidate.name!r} has different labels from the active version {current.name!r}; "
                "scores would change meaning under the rules and reports, so it cannot be promoted",
                code="labels_differ",
                field="version",
            )
        comparisons = count_comparisons(session, candidate.model_version, current.model_version)
        if comparisons < min_comparisons and not force:
            raise InputError(
                f"model version {candidate.name!r} has {comparisons} shadow comparisons against "
                f"{current.name!r}; {min_comparisons} are required (run it as shadow with "
                f"`tonewatch model shadow {candidate.name}`, or --force)",
                code="not_enough_comparisons",
                field="version",
            )
        previous = row.active_version
        row.active_version = target
        if row.shadow_version is not None and row.shadow_version == candidate.name:
            row.shadow_version = None  # it serves now; shadowing itself would compare it with itself
        _touch(row, actor)
        forced = force and comparisons < min_comparisons
        entry = _record(session, "promote", target, previous, actor, why, forced=forced, comparisons=comparisons)
        _audit(
            session,
            actor,
            "model.promote",
            target,
            {
                "model_version": candidate.model_version,
                "previous": previous or BUILTIN,
                "why": why,
                "forced": entry.forced,
                "comparisons": comparisons,
            },
        )
    return entry


def rollback(store: Store, registry: Registry, *, actor: str, why: str | None = None) -> HistoryEntry:
    """Go back to the version that was active before the last promotion still in force."""
    actor = _check_actor(actor)
    with store.session() as session:
        row = _lock_pointer(session)
        stack = promotion_stack(session)
        if len(stack) < 2:
            raise InputError("nothing to roll back to: no promotion is in force", code="nothing_to_roll_back")
        target = stack[-2]
        version = registry.get(target or BUILTIN)
        version.verify()
        previous = row.active_version
        row.active_version = target
        _touch(row, actor)
        entry = _record(session, "rollback", target, previous, actor, why)
        _audit(
            session,
            actor,
            "model.rollback",
            target,
            {"model_version": version.model_version, "previous": previous or BUILTIN, "why": why},
        )
    return entry


def set_shadow(
    store: Store, registry: Registry, name: str | None, *, actor: str, why: str | None = None
) -> HistoryEntry:
    """Score live messages with ``name`` as well, without acting on it (None turns shadowing off)."""
    actor = _check_actor(actor)
    candidate: ModelVersion | None = None
    if name is not None:
        candidate = registry.get(name)
        candidate.verify()
    with store.session() as session:
        row = _lock_pointer(session)
        previous = row.shadow_version
        if candidate is not None:
            current = _current(registry, row)
            if candidate.name == current.name:
                raise InputError(
                    f"model version {candidate.name!r} is the active version; a shadow must be another version",
                    code="shadow_is_active",
                    field="version",
                )
            row.shadow_version = candidate.name
            action, audit_action, version = "shadow", "model.shadow", candidate.name
            details: dict[str, Any] = {"model_version": candidate.model_version, "previous": previous, "why": why}
        else:
            if previous is None:
                raise InputError("no shadow version is set", code="no_shadow")
            row.shadow_version = None
            action, audit_action, version = "shadow_off", "model.shadow_off", previous
            details = {"why": why}
        _touch(row, actor)
        entry = _record(session, action, version if candidate is not None else None, previous, actor, why)
        _audit(session, actor, audit_action, version, details)
    return entry


def import_model(
    store: Store, registry: Registry, path: Path, *, version: str | None = None, actor: str, why: str | None = None
) -> ModelVersion:
    """Import a model folder into the registry and audit it; the folder is removed if the audit fails."""
    actor = _check_actor(actor)
    imported = registry.import_folder(path, version=version)
    try:
        with store.session() as session:
            _audit(
                session,
                actor,
                "model.import",
                imported.name,
                {
                    "model_version": imported.model_version,
                    "source_version": imported.manifest.get("source_version"),
                    "files": dict(imported.manifest.get("files", {})),
                    "why": why,
                },
            )
    except BaseException:
        registry.remove_unpromoted(imported.name)
        raise
    return imported
