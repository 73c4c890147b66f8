"""Optional OpenTelemetry tracing (the ``otel`` extra); no collector is required.

Spans go to the tracer provider already configured in the process (for instance by
``opentelemetry-instrument``); when there is none, a provider is installed that prints
spans as JSON to stderr when ``OTEL_TRACES_EXPORTER=console`` and otherwise keeps them in
process, so tracing can be switched on without any infrastructure.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from tonewatch._errors import require_extra

__all__ = ["instrument_app"]


def instrument_app(app: FastAPI) -> None:
    """Trace every request of ``app``; raises MissingExtraError when the extra is absent."""
    trace: Any = require_extra("opentelemetry.trace", "otel", "OpenTelemetry tracing")
    sdk_trace: Any = require_extra("opentelemetry.sdk.trace", "otel", "OpenTelemetry tracing")
    instrumentation: Any = require_extra(
        "opentelemetry.instrumentation.fastapi", "otel", "OpenTelemetry tracing of the HTTP API"
    )
    provider = trace.get_tracer_provider()
    if not isinstance(provider, sdk_trace.TracerProvider):
        provider = sdk_trace.TracerProvider()
        if os.environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console":
            export: Any = require_extra("opentelemetry.sdk.trace.export", "otel", "OpenTelemetry tracing")
            provider.add_span_processor(export.SimpleSpanProcessor(export.ConsoleSpanExporter()))
        trace.set_tracer_provider(provider)
    instrumentation.FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="healthz,metrics")
