"""The one exception tree of tonewatch.

Every error tonewatch raises on purpose derives from :class:`TonewatchError`, so callers
can catch one base class. Errors about bad input carry a stable machine-readable
``code`` (the HTTP API returns it verbatim) and, where it helps, the ``field`` at fault.

    TonewatchError
    ├── InputError                      bad input from a caller (HTTP 4xx)
    │   ├── EmptyTextError              empty or whitespace-only text
    │   ├── TextTooLongError            text over the configured maximum (HTTP 413)
    │   ├── InvalidTextError            not a str, or not valid UTF-8
    │   ├── EventValidationError        an ingested event that breaks the event format
    │   ├── RuleValidationError         a trigger rule file that does not validate
    │   └── InvalidTransitionError      e.g. approving an already rejected review item
    ├── NotFoundError                   unknown customer, review item, model version...
    ├── PermissionDeniedError           a role without the right (HTTP 403)
    ├── AuthenticationError             no key or a bad key (HTTP 401)
    ├── ModelError                      the bundled or registered model cannot be used
    │   └── ModelIntegrityError         a model file does not match its manifest sha256
    ├── StoreError                      the database refused or is unreachable
    ├── AuditIntegrityError             the audit hash chain does not verify
    ├── ConfigurationError              settings that cannot work (e.g. default secret in production)
    └── MissingExtraError               an optional dependency is missing; names the extra
"""

from __future__ import annotations

__all__ = [
    "AuditIntegrityError",
    "AuthenticationError",
    "ConfigurationError",
    "EmptyTextError",
    "EventValidationError",
    "InputError",
    "InvalidTextError",
    "InvalidTransitionError",
    "MissingExtraError",
    "ModelError",
    "ModelIntegrityError",
    "NotFoundError",
    "PermissionDeniedError",
    "RuleValidationError",
    "StoreError",
    "TextTooLongError",
    "TonewatchError",
    "require_extra",
]


class TonewatchError(Exception):
    """Base class of every error tonewatch raises on purpose."""

    code: str = "tonewatch_error"
    status: int = 500

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def to_dict(self) -> dict[str, str | None]:
        """The machine-readable form used by the API and JSON outputs."""
        return {"code": self.code, "message": self.message, "field": self.field}


class InputError(TonewatchError, ValueError):
    """The caller sent something tonewatch cannot use."""

    code = "invalid_input"
    status = 422


class EmptyTextError(InputError):
    code = "empty_text"


class TextTooLongError(InputError):
    code = "text_too_long"
    status = 413


class InvalidTextError(InputError):
    code = "invalid_text"


class EventValidationError(InputError):
    """An event breaks the v1 event format; ``line`` is set when it came from a file."""

    code = "invalid_event"

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None, code: str | None = None):
        super().__init__(message, code=code, field=field)
        self.line = line


class RuleValidationError(InputError):
    """A rule file does not validate; names the line and field at fault."""

    code = "invalid_rule"

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None):
        where = f"line {line}: " if line is not None else ""
        super().__init__(where + message, field=field)
        self.line = line


class InvalidTransitionError(InputError):
    code = "invalid_transition"
    status = 409


class NotFoundError(TonewatchError, LookupError):
    code = "not_found"
    status = 404


class PermissionDeniedError(TonewatchError):
    code = "forbidden"
    status = 403


class AuthenticationError(TonewatchError):
    code = "unauthorized"
    status = 401


class ModelError(TonewatchError):
    code = "model_error"


class ModelIntegrityError(ModelError):
    code = "model_integrity"


class StoreError(TonewatchError):
    code = "store_error"
    status = 503


class AuditIntegrityError(TonewatchError):
    """The chain does not verify; ``seq`` is the first entry at fault (when one can be named)."""

    code = "audit_integrity"

    def __init__(self, message: str, *, seq: int | None = None) -> None:
        super().__init__(message, field=None if seq is None else f"seq:{seq}")
        self.seq = seq


class ConfigurationError(TonewatchError):
    code = "configuration_error"


class MissingExtraError(TonewatchError, ImportError):
    """An optional dependency is not installed; the message says which extra to install."""

    code = "missing_extra"

    def __init__(self, extra: str, package: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package {package!r}: install it with pip install 'tonewatch[{extra}]'"
        )
        self.extra = extra
        self.package = package


def require_extra(module: str, extra: str, purpose: str) -> object:
    """Import an optional module or raise :class:`MissingExtraError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised with the extra absent
        raise MissingExtraError(extra, module.split(".")[0], purpose) from exc
