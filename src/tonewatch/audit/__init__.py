"""audit stage: the append-only, hash-chained record of everything tonewatch decided and did.

``AuditLog(session).record(actor, action, subject, details)`` appends in the caller's
transaction; ``verify()`` raises :class:`~tonewatch.AuditIntegrityError` naming the first
bad entry; ``export("jsonl" | "csv")`` streams the log.
"""

from ._chain import canonical_json, entry_hash, normalize_details
from ._log import AuditEntry, AuditLog, ExportFormat
from ._models import GENESIS_HASH, AuditHeadRow, AuditRow

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditHeadRow",
    "AuditLog",
    "AuditRow",
    "ExportFormat",
    "canonical_json",
    "entry_hash",
    "normalize_details",
]
