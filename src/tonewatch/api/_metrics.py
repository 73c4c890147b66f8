"""Prometheus metrics of one app, on its own registry.

A registry per app (not the process-global one) lets tests and embedders run several apps
in one process. Gauges that need the database (review queue sizes, SLA breaches, webhook
backlog) are read at scrape time by a collector, so they are never stale and cost nothing
between scrapes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tonewatch.score._analysis import Analysis

__all__ = ["ApiMetrics", "GaugeSample"]

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0)
_CONFIDENCE_BUCKETS = (0.3, 0.4, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
_log = logging.getLogger("tonewatch.api")

# (metric name, help, {label: value}, value)
GaugeSample = tuple[str, str, dict[str, str], float]


class _ScrapeCollector(Collector):
    """Calls ``read()`` at scrape time; a failing read drops those gauges for that scrape only."""

    def __init__(self, read: Callable[[], Sequence[GaugeSample]]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        try:
            samples = self._read()
        except Exception:  # a scrape must not fail because the database is down
            _log.warning("metrics: reading database gauges failed", exc_info=True)
            return []
        families: dict[str, GaugeMetricFamily] = {}
        for name, doc, labels, value in samples:
            fam = families.get(name)
            if fam is None:
                fam = families[name] = GaugeMetricFamily(name, doc, labels=sorted(labels))
            fam.add_metric([labels[k] for k in sorted(labels)], value)
        return list(families.values())

    def describe(self) -> Iterable[Metric]:
        return []


class ApiMetrics:
    """Every metric the API exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "tonewatch_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "tonewatch_http_request_duration_seconds",
            "Request latency by route template (p50/p95/p99 via histogram_quantile)",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("tonewatch_http_requests_in_flight", "Requests being served", registry=r)
        self.inference = Histogram(
            "tonewatch_inference_duration_seconds",
            "Model inference time per call (one text or one batch)",
            ["kind"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "tonewatch_inference_batch_size",
            "Single-text requests coalesced into one forward pass",
            buckets=(1, 2, 4, 8, 16, 32),
            registry=r,
        )
        self.texts = Counter("tonewatch_texts_scored", "Texts scored by the model", registry=r)
        self.confidence = Histogram(
            "tonewatch_analysis_confidence", "Confidence of each analysis", buckets=_CONFIDENCE_BUCKETS, registry=r
        )
        self.labels = Counter("tonewatch_analysis_labels", "Analyses by sentiment label", ["label"], registry=r)
        self.emotions = Counter("tonewatch_analysis_emotions", "Analyses by dominant emotion", ["emotion"], registry=r)
        self.needs_review = Counter(
            "tonewatch_analysis_needs_review",
            "Analyses flagged for review (divide by tonewatch_texts_scored_total for the share)",
            registry=r,
        )
        self.rate_limited = Counter("tonewatch_rate_limited", "Requests refused by the per-key rate limit", registry=r)
        self.events = Counter(
            "tonewatch_events_ingested", "Events posted to the API by outcome", ["status"], registry=r
        )
        self.webhook_deliveries = Counter(
            "tonewatch_webhook_deliveries", "Webhook delivery attempts by outcome", ["outcome"], registry=r
        )
        self.webhook_failures = Counter("tonewatch_webhook_failures", "Failed webhook delivery attempts", registry=r)
        self.stream_clients = Gauge("tonewatch_stream_clients", "Connected sentiment-stream clients", registry=r)
        self.model_info = Gauge("tonewatch_model_info", "The loaded model (value 1)", ["version"], registry=r)

    def observe_analyses(self, analyses: Sequence[Analysis], seconds: float, *, kind: str) -> None:
        self.inference.labels(kind).observe(seconds)
        self.texts.inc(len(analyses))
        for a in analyses:
            self.confidence.observe(a.confidence)
            self.labels.labels(a.label).inc()
            if a.needs_review:
                self.needs_review.inc()
            if a.emotions:
                top = max(a.emotions.items(), key=lambda kv: kv[1])[0]
                self.emotions.labels(top).inc()

    def add_scrape_gauges(self, read: Callable[[], Sequence[GaugeSample]]) -> None:
        self.registry.register(_ScrapeCollector(read))

    def render(self) -> bytes:
        return generate_latest(self.registry)
