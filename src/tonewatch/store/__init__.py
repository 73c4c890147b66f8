"""store stage: the database every other stage reads and writes.

``Store(url)`` owns the engine and hands out transactional sessions; ``create_all()``
runs the Alembic migrations. The ORM classes here are the customer-data tables; other
stages declare theirs on the same :class:`Base` (see ``docs/dev/migrations.md``).
"""

from ._base import Base, JSONType, UTCDateTime
from ._feedback import FEEDBACK_LABELS, add_feedback
from ._models import Customer, EventRow, Feedback, HealthSnapshot, Message, Outcome, Survey, Ticket, Usage
from ._privacy import (
    NON_PERSONAL_ATTRIBUTES,
    ErasureReport,
    PurgeReport,
    customer_subject,
    erase_customer,
    export_customer,
    purge_texts,
    register_eraser,
    scrub_analysis,
)
from ._store import Store, normalize_url, store_error
from ._tables import TABLE_MODULES, load_all_tables

__all__ = [
    "FEEDBACK_LABELS",
    "NON_PERSONAL_ATTRIBUTES",
    "TABLE_MODULES",
    "Base",
    "Customer",
    "ErasureReport",
    "EventRow",
    "Feedback",
    "HealthSnapshot",
    "JSONType",
    "Message",
    "Outcome",
    "PurgeReport",
    "Store",
    "Survey",
    "Ticket",
    "UTCDateTime",
    "Usage",
    "add_feedback",
    "customer_subject",
    "erase_customer",
    "export_customer",
    "load_all_tables",
    "normalize_url",
    "purge_texts",
    "register_eraser",
    "scrub_analysis",
    "store_error",
]
