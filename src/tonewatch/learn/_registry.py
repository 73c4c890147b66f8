"""The local model registry: one folder per version, each verified by sha256.

A version is a folder ``<registry>/<version>/`` holding ``model.onnx``, ``tokenizer.json``
and ``manifest.json`` in the bundled model's format. Importing copies the files into a
hidden staging folder, checks every file against the manifest's sha256 and renames the
folder into place, so a half-copied version is never visible. The manifest's ``version``
is rewritten to the registry name (the original is kept as ``source_version``): the name a
version is promoted under is then exactly the ``model_version`` stored with every message
it scores. The manifest itself is not hashed, so this keeps the files verifiable.

The bundled model is always there as the built-in version ``builtin`` (alias
``bundled``); it is what serves while no version was ever promoted. Which version is
active lives in the database (``_promotion``), not here.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tonewatch._errors import InputError, ModelError, NotFoundError

if TYPE_CHECKING:
    from tonewatch.settings import Settings

__all__ = ["BUILTIN", "ModelVersion", "Registry", "check_version_name", "manifest_summary"]

BUILTIN = "builtin"
_ALIASES = frozenset({BUILTIN, "bundled"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,79}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SIDECAR = "registry.json"


def check_version_name(name: str) -> str:
    """A version name usable as a folder name and as ``messages.model_version`` (80 characters)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(
            f"version {name!r} is not a valid name: letters, digits and . _ + - (at most 80, no leading dot)",
            code="invalid_version",
            field="version",
        )
    return name


def _get(d: Mapping[str, Any], *path: str) -> Any:
    cur: Any = d
    for key in path:
        if not isinstance(cur, Mapping) or key not in cur:
            return None
        cur = cur[key]
    return cur


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def manifest_summary(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The figures an operator compares versions by, read tolerantly (manifests from training may lack some).

    ``languages`` maps each language the manifest validated to its figure: ``accuracy`` when
    the manifest has one, else ``macro_f1`` (the bundled manifest reports macro-F1), with ``n``.
    """
    languages: dict[str, dict[str, Any]] = {}
    for lang, figures in sorted((_get(manifest, "languages") or {}).items()):
        if not isinstance(figures, Mapping):
            continue
        metric = "accuracy" if _num(figures.get("accuracy")) is not None else "macro_f1"
        languages[str(lang)] = {"metric": metric, "value": _num(figures.get(metric)), "n": figures.get("n")}
    ece = _num(_get(manifest, "metrics", "tweeteval_sentiment_val", "ece"))
    if ece is None:
        ece = _num(_get(manifest, "calibration", "ece_crossfit"))
    return {
        "tweeteval_macro_recall": _num(_get(manifest, "metrics", "tweeteval_sentiment_val", "macro_recall")),
        "tweeteval_accuracy": _num(_get(manifest, "metrics", "tweeteval_sentiment_val", "accuracy")),
        "airline_macro_f1": _num(_get(manifest, "metrics", "airline_holdout", "macro_f1")),
        "ece": ece,
        "languages": languages,
    }


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered version: its folder, manifest and where it came from.

    ``error`` is set (and ``manifest`` empty) for a folder whose manifest cannot be read, so a
    listing can show a broken version instead of hiding it.
    """

    name: str
    path: Path
    manifest: Mapping[str, Any]
    builtin: bool = False
    imported_at: datetime | None = None
    source: str | None = None
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def model_version(self) -> str:
        """What the analyzer reports (and messages store) for this version."""
        return str(self.manifest.get("version", self.name))

    @property
    def created(self) -> str | None:
        value = self.manifest.get("created")
        return str(value) if value is not None else None

    @property
    def labels(self) -> Any:
        return self.manifest.get("labels")

    def verify(self) -> None:
        """Raise :class:`~tonewatch.ModelIntegrityError` unless every file matches the manifest's sha256."""
        from tonewatch.score._model import read_manifest, verify_files

        if self.error is not None:
            raise ModelError(f"model version {self.name!r}: {self.error}")
        verify_files(self.path, read_manifest(self.path))

    def summary(self) -> dict[str, Any]:
        return manifest_summary(self.manifest)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.name,
            "model_version": self.model_version if self.error is None else None,
            "builtin": self.builtin,
            "created": self.created,
            "imported_at": self.imported_at.isoformat() if self.imported_at else None,
            "source": self.source,
            "error": self.error,
            "metrics": self.summary() if self.error is None else None,
        }


class Registry:
    """The versions in one registry folder plus the built-in one.

    Reading is cheap (manifests only); file hashes are checked by :meth:`ModelVersion.verify`
    and, again, by the analyzer when it loads a version.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        return cls(settings.registry_dir)

    # -- reading ---------------------------------------------------------------------------
    @property
    def builtin(self) -> ModelVersion:
        from tonewatch.score._model import BUNDLED_MODEL_DIR, read_manifest

        return ModelVersion(BUILTIN, BUNDLED_MODEL_DIR, read_manifest(BUNDLED_MODEL_DIR), builtin=True)

    def _load(self, folder: Path) -> ModelVersion:
        from tonewatch.score._model import read_manifest

        imported_at: datetime | None = None
        source: str | None = None
        extra: dict[str, Any] = {}
        try:
            sidecar = json.loads((folder / _SIDECAR).read_text(encoding="utf-8"))
            if isinstance(sidecar, dict):
                extra = sidecar
                if sidecar.get("imported_at"):
                    imported_at = datetime.fromisoformat(str(sidecar["imported_at"])).astimezone(UTC)
                source = str(sidecar["source"]) if sidecar.get("source") else None
        except (OSError, ValueError):
            pass
        try:
            manifest = read_manifest(folder)
        except ModelError as exc:
            return ModelVersion(folder.name, folder, {}, imported_at=imported_at, source=source, error=exc.message)
        return ModelVersion(folder.name, folder, manifest, imported_at=imported_at, source=source, extra=extra)

    def versions(self) -> list[ModelVersion]:
        """The built-in version first, then the registered ones, oldest import first."""
        found: list[ModelVersion] = []
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if folder.is_dir() and not folder.name.startswith(".") and _NAME.match(folder.name):
                    found.append(self._load(folder))
        found.sort(key=lambda v: (v.imported_at or datetime.min.replace(tzinfo=UTC), v.name))
        return [self.builtin, *found]

    def get(self, name: str) -> ModelVersion:
        """The version called ``name`` (``builtin``/``bundled`` for the bundled model); NotFoundError otherwise."""
        if name in _ALIASES:
            return self.builtin
        check_version_name(name)
        folder = self.root / name
        if not (folder / "manifest.json").is_file():
            known = ", ".join(v.name for v in self.versions())
            raise NotFoundError(
                f"no model version {name!r} in the registry {self.root} (known: {known})", field="version"
            )
        return self._load(folder)

    def exists(self, name: str) -> bool:
        return name in _ALIASES or (self.root / name).exists()

    # -- importing -------------------------------------------------------------------------
    def import_folder(self, source: Path, *, version: str | None = None) -> ModelVersion:
        """Copy a verified model folder in as a new version (``version`` defaults to the manifest's)."""
        from tonewatch.score._model import read_manifest, verify_files

        source = Path(source)
        if not source.is_dir():
            raise InputError(f"{source} is not a model folder", code="not_a_model_folder", field="path")
        manifest = read_manifest(source)
        files = manifest["files"]
        for fname in files:
            if not isinstance(fname, str) or not _FILE_NAME.match(fname) or fname == "manifest.json":
                raise ModelError(f"{source}/manifest.json lists a file name that cannot be copied: {fname!r}")
        verify_files(source, manifest)
        name = check_version_name(version if version is not None else str(manifest["version"]))
        if self.exists(name) or name == self.builtin.model_version:
            raise InputError(
                f"model version {name!r} already exists; choose another with --version",
                code="version_exists",
                field="version",
            )
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".import-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            for fname in files:
                shutil.copyfile(source / fname, staging / fname)
            copied = dict(manifest)
            if str(manifest["version"]) != name:
                copied["source_version"] = str(manifest["version"])
                copied["version"] = name
            (staging / "manifest.json").write_text(json.dumps(copied, indent=2) + "\n", encoding="utf-8")
            sidecar = {"imported_at": datetime.now(UTC).isoformat(), "source": str(source.resolve())}
            (staging / _SIDECAR).write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
            verify_files(staging, copied)
            try:
                staging.rename(self.root / name)
            except OSError as exc:
                raise InputError(
                    f"model version {name!r} already exists; choose another with --version",
                    code="version_exists",
                    field="version",
                ) from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return self.get(name)

    def remove_unpromoted(self, name: str) -> None:
        """Delete a version's folder (used to undo an import whose audit entry could not be written)."""
        if name in _ALIASES:
            raise InputError("the built-in version cannot be removed", field="version")
        shutil.rmtree(self.root / check_version_name(name), ignore_errors=True)
