"""streams stage: event-driven ingestion from Redis Streams or NATS JetStream.

A ``Source`` hands out deliveries (``RedisStreamSource``, ``NatsJetStreamSource``, or the
embedded ``InProcessSource``); a ``Worker`` micro-batches them through the ingest
``Pipeline``, acknowledges each only after its effects are committed, dead-letters poison
messages with their reason, and publishes results and flags to a ``Sink``.
``publish_file`` replays a JSON-lines file into a stream. See ``docs/operations-streams.md``.
"""

from ._backoff import Backoff
from ._memory import InProcessSink, InProcessSource
from ._nats import NatsJetStreamSource, NatsJetStreamWriter, ensure_stream, nats_subjects
from ._open import Broker, broker_of, open_output, open_publisher, open_source
from ._outputs import BAND_ORDER, OutputHook, analysis_record, flag_record
from ._publish import PublishReport, iter_lines, publish_file, publish_lines
from ._redis import RedisStreamSource, RedisStreamWriter, default_consumer_name, redis_names
from ._run import pipeline_factory, run_until_signal, webhook_enqueuer
from ._source import DeadLetter, Delivery, Sink, Source, SourceStats
from ._worker import PipelineFactory, Worker, WorkerConfig, WorkerStats, decode_delivery

__all__ = [
    "BAND_ORDER",
    "Backoff",
    "Broker",
    "DeadLetter",
    "Delivery",
    "InProcessSink",
    "InProcessSource",
    "NatsJetStreamSource",
    "NatsJetStreamWriter",
    "OutputHook",
    "PipelineFactory",
    "PublishReport",
    "RedisStreamSource",
    "RedisStreamWriter",
    "Sink",
    "Source",
    "SourceStats",
    "Worker",
    "WorkerConfig",
    "WorkerStats",
    "analysis_record",
    "broker_of",
    "decode_delivery",
    "default_consumer_name",
    "ensure_stream",
    "flag_record",
    "iter_lines",
    "nats_subjects",
    "open_output",
    "open_publisher",
    "open_source",
    "pipeline_factory",
    "publish_file",
    "publish_lines",
    "redis_names",
    "run_until_signal",
    "webhook_enqueuer",
]
