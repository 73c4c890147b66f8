"""ingest stage: the v1 event format and the pipeline that stores and scores it.

``Pipeline(store, analyzer, settings, hooks=())`` turns events into masked, scored,
stored customer state; ``read_events(path)`` reads JSON-lines and CSV files;
``CustomerUpdate`` is what pipeline hooks receive.
"""

from ._hooks import CustomerUpdate, Hook, UpdateSource
from ._pipeline import Pipeline
from ._prepare import AnalyzerLike, Prepared, customer_event_id
from ._read import NumberedEvent, read_events, read_events_from
from ._replay import PURGED_TEXT, StoredEvent, iter_histories, load_history
from ._report import IngestReport, Rejection, SweepReport
from ._state import HealthModel
from .events import (
    CHANNEL_EFFORT,
    CHANNELS,
    BaseEvent,
    Channel,
    CustomerEvent,
    Event,
    MessageEvent,
    OutcomeEvent,
    SurveyEvent,
    TicketEvent,
    UsageEvent,
    parse_event,
    parse_event_json,
)

__all__ = [
    "CHANNELS",
    "CHANNEL_EFFORT",
    "PURGED_TEXT",
    "AnalyzerLike",
    "BaseEvent",
    "Channel",
    "CustomerEvent",
    "CustomerUpdate",
    "Event",
    "HealthModel",
    "Hook",
    "IngestReport",
    "MessageEvent",
    "NumberedEvent",
    "OutcomeEvent",
    "Pipeline",
    "Prepared",
    "Rejection",
    "StoredEvent",
    "SurveyEvent",
    "SweepReport",
    "TicketEvent",
    "UpdateSource",
    "UsageEvent",
    "customer_event_id",
    "iter_histories",
    "load_history",
    "parse_event",
    "parse_event_json",
    "read_events",
    "read_events_from",
]
