"""Traces of calls: what the pipeline hands over, and whether anything is exported.

The pipeline does not talk to OpenTelemetry. It opens a ``CallTrace`` per surface request
(only when a tracer is configured: otherwise ``Pipeline.tracer`` is None and no object is
made), hands it each upstream attempt's ``CallOutcome`` as metering reports it, and ends
it once, when the call is settled. The spans are built *then*, from those facts and their
times (decision 0120): a gateway span for the request and one child span per attempt
with the GenAI semantic-convention attributes. Nothing runs per streamed event.

``build_tracer`` decides whether tracing is on: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the
traces-only variant) set AND the optional ``otel`` extra installed. Only then is
``services.otel`` (and with it the OpenTelemetry SDK) imported; the check for the extra
is ``importlib.util.find_spec`` on the third-party package, never a ``try`` around an
import of ours. Unset: nothing of OpenTelemetry's SDK is loaded, start-up is unchanged.

Incoming trace context (decision 0154): ``api.access_log`` leaves the request's W3C
``traceparent`` header in ``incoming`` (at most ``MAX_TRACEPARENT`` characters, and only
when there is exactly one); a ``CallTrace`` keeps it, and the exporter makes the gateway
span a child of the caller's span through ``parse_traceparent`` — a strict, bounded
parse with no dependency on OpenTelemetry, so a hostile header costs one regular
expression match on at most 256 characters and is otherwise ignored (a new trace).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from switchboard.config import Settings
    from switchboard.services.metering import CallOutcome
    from switchboard.services.policy import CallSpec

log = logging.getLogger("switchboard.tracing")

# perf_counter() -> epoch nanoseconds: metering times calls on the monotonic clock.
_EPOCH_OFFSET_NS = time.time_ns() - time.perf_counter_ns()


def epoch_ns(perf_seconds: float) -> int:
    """A ``time.perf_counter()`` reading as nanoseconds since the epoch."""
    return int(perf_seconds * 1e9) + _EPOCH_OFFSET_NS


MAX_TRACEPARENT = 256
"""Longest ``traceparent`` kept (version 00 is 55 characters; later versions may add
fields after the four we read)."""
incoming: ContextVar[str | None] = ContextVar("switchboard_traceparent", default=None)
"""The request's ``traceparent`` header, set per request by ``api.access_log``."""

# https://www.w3.org/TR/trace-context/#traceparent-header-field-values
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?",
                          re.ASCII | re.DOTALL)


class Parent(NamedTuple):
    """The caller's span, from its ``traceparent``."""

    trace_id: int
    span_id: int
    flags: int
    """Bit 0: the caller sampled the trace."""


def parse_traceparent(value: str | None) -> Parent | None:
    """The caller's span, or None for anything that is not a valid ``traceparent``
    (W3C Trace Context level 1): version ``ff`` is invalid; version ``00`` has exactly
    four fields; a later version may carry more after a ``-``; all-zero ids are invalid.
    Values are lower-case hex only (the specification refuses upper case)."""
    if not value or len(value) > MAX_TRACEPARENT:
        return None
    found = _TRACEPARENT.fullmatch(value.strip(" \t"))
    if found is None:
        return None
    version, trace_id, span_id, flags, rest = found.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    trace, span = int(trace_id, 16), int(span_id, 16)
    if trace == 0 or span == 0:
        return None
    return Parent(trace, span, int(flags, 16))


class Exporter(Protocol):
    def export(self, trace: CallTrace) -> None:
        """Turn a finished call into spans (must not raise: it runs in ``finally``)."""
        ...

    def shutdown(self) -> None:
        """Send what is buffered; called once when the process stops."""
        ...


class CallTrace:
    """One surface request as the pipeline saw it: its spec, its attempts, its end."""

    __slots__ = ("exporter", "spec", "operation", "started_ns", "attempts", "error",
                 "ended_ns", "traceparent")

    def __init__(self, exporter: Exporter, spec: CallSpec, operation: str) -> None:
        self.exporter = exporter
        self.spec = spec
        self.operation = operation
        """GenAI ``gen_ai.operation.name``: ``chat``, ``embeddings``, ``generate_content``."""
        self.started_ns = time.time_ns()
        self.attempts: list[CallOutcome] = []
        self.error: BaseException | None = None
        """What ended the call when no attempt answered (a refusal, every model failed)."""
        self.ended_ns = 0
        self.traceparent = incoming.get()
        """The caller's ``traceparent`` (unparsed: the exporter parses it, only then)."""

    def attempt(self, outcome: CallOutcome) -> None:
        self.attempts.append(outcome)

    def fail(self, error: BaseException) -> None:
        self.error = error

    def end(self) -> None:
        if self.ended_ns:
            return
        self.ended_ns = time.time_ns()
        try:
            self.exporter.export(self)
        except Exception:  # a tracing bug must never fail a call
            log.exception("exporting a trace failed")


class Tracer:
    """Starts ``CallTrace``s for the pipeline; one per process."""

    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter

    def call(self, spec: CallSpec, operation: str = "chat") -> CallTrace:
        return CallTrace(self.exporter, spec, operation)

    def shutdown(self) -> None:
        try:
            self.exporter.shutdown()
        except Exception:
            log.exception("flushing traces failed")


_warned = False


def build_tracer(settings: Settings) -> Tracer | None:
    """The process's tracer, or None (the common case: no endpoint configured)."""
    global _warned
    if settings.otel_endpoint is None:
        return None
    if (importlib.util.find_spec("opentelemetry.sdk") is None
            or importlib.util.find_spec("opentelemetry.exporter.otlp.proto.http") is None):
        if not _warned:
            _warned = True
            log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry extra is "
                        "not installed (pip install 'switchboard[otel]'): no traces")
        return None
    from switchboard.services.otel import OtlpExporter  # the SDK: only with an endpoint

    return Tracer(OtlpExporter(settings.otel_endpoint,
                               capture_content=settings.otel_capture_content))
