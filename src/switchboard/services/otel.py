"""Spans over OTLP/HTTP with the OpenTelemetry SDK (the optional ``otel`` extra).

Imported by ``tracing.build_tracer`` only when an endpoint is configured and the extra is
installed, so this module may import the SDK at the top. The exporter reads the
standard ``OTEL_EXPORTER_OTLP_*`` variables itself (endpoint, headers, timeout), as
every OpenTelemetry SDK does (https://opentelemetry.io/docs/specs/otel/protocol/exporter/).

Spans follow the GenAI semantic conventions
(https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/): a gateway span per
surface request (``{operation} {model}``, kind SERVER) and a CLIENT span per upstream
attempt, with ``gen_ai.provider.name`` (and the older ``gen_ai.system``),
``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.usage.*``,
``gen_ai.operation.name`` and ``error.type``. Prompts and answers are added only with
``SWITCHBOARD_OTEL_CAPTURE_CONTENT=on`` (decision 0121); keys never: error messages are
not copied (only their class), and no header or configuration is.
"""

from __future__ import annotations

from typing import Any

import orjson
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)

from switchboard import __version__
from switchboard.services.metering import CallOutcome
from switchboard.services.tracing import CallTrace, epoch_ns, parse_traceparent
from switchboard.spec import ChatRequest, TextPart

# Our provider kinds -> the conventions' well-known gen_ai.provider.name values.
PROVIDER_NAMES = {"openai": "openai", "anthropic": "anthropic", "gemini": "gcp.gemini",
                  "mistral": "mistral_ai"}
MAX_CONTENT = 64 * 1024
"""Characters of prompt or answer put on a span when content capture is on."""


class OtlpExporter:
    """Builds the spans of a finished call and hands them to a batch processor."""

    def __init__(self, endpoint: str, *, capture_content: bool = False) -> None:
        self.endpoint = endpoint  # the SDK reads the variables itself; kept for repr/logs
        self.capture_content = capture_content
        self.provider = TracerProvider(resource=Resource.create(
            {"service.name": "switchboard", "service.version": __version__}))
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.tracer = self.provider.get_tracer("switchboard", __version__)

    def export(self, trace: CallTrace) -> None:
        spec = trace.spec
        final = trace.attempts[-1] if trace.attempts else None
        requested = spec.model or (final.model if final is not None else "default")
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": trace.operation,
            "gen_ai.request.model": requested,
            "switchboard.surface": spec.surface,
            "switchboard.attempts": len(trace.attempts),
        }
        if final is not None:
            attributes["gen_ai.provider.name"] = PROVIDER_NAMES.get(final.kind, final.kind)
            attributes["gen_ai.response.model"] = _response_model(final)
            _usage(attributes, trace.attempts)
        if self.capture_content and isinstance(spec.request, ChatRequest):
            attributes["gen_ai.input.messages"] = _messages(spec.request)
        gateway = self.tracer.start_span(
            f"{trace.operation} {requested}", context=_caller(trace), kind=SpanKind.SERVER,
            start_time=trace.started_ns, attributes=attributes)
        error = _error_type(trace, final)
        if error is not None:
            gateway.set_attribute("error.type", error)
            gateway.set_status(Status(StatusCode.ERROR))
        context = set_span_in_context(gateway)
        for outcome in trace.attempts:
            self._attempt(outcome, trace.operation, context)
        gateway.end(end_time=trace.ended_ns)

    def _attempt(self, outcome: CallOutcome, operation: str, context: Any) -> None:
        start = epoch_ns(outcome.started_at)
        usage = outcome.result.usage
        provider = PROVIDER_NAMES.get(outcome.kind, outcome.kind)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": provider,
            "gen_ai.system": provider,
            "gen_ai.request.model": outcome.model,
            "gen_ai.response.model": _response_model(outcome),
            "switchboard.provider": outcome.provider,
            "switchboard.status": outcome.status,
        }
        if usage.input_tokens is not None:
            attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
        if usage.output_tokens is not None:
            attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
        if outcome.estimated:
            attributes["switchboard.usage.estimated"] = True
        finish = outcome.result.finish_reason
        if finish is not None:
            attributes["gen_ai.response.finish_reasons"] = [finish.unified]
        response_id = outcome.result.metadata.response_id if outcome.result.metadata else None
        if response_id:
            attributes["gen_ai.response.id"] = response_id
        if outcome.ttft_ms is not None:
            attributes["switchboard.time_to_first_token_ms"] = outcome.ttft_ms
        if outcome.reason:
            attributes["switchboard.end_reason"] = outcome.reason
        if self.capture_content and outcome.result.text:
            attributes["gen_ai.output.messages"] = _answer(outcome.result.text)
        span = self.tracer.start_span(f"{operation} {outcome.model}", context=context,
                                      kind=SpanKind.CLIENT, start_time=start,
                                      attributes=attributes)
        if outcome.error is not None:
            span.set_attribute("error.type", outcome.error.code)
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=start + outcome.latency_ms * 1_000_000)

    def shutdown(self) -> None:
        self.provider.shutdown()  # flushes the batch processor


def _caller(trace: CallTrace) -> Any:
    """The caller's span as the gateway span's parent (None: a new trace). The default
    sampler (parent-based) follows the caller's sampled flag, as W3C Trace Context
    expects of a participant."""
    parent = parse_traceparent(trace.traceparent)
    if parent is None:
        return None
    return set_span_in_context(NonRecordingSpan(SpanContext(
        parent.trace_id, parent.span_id, is_remote=True,
        trace_flags=TraceFlags(parent.flags & 0xFF))))


def _response_model(outcome: CallOutcome) -> str:
    metadata = outcome.result.metadata
    return (metadata.model if metadata is not None and metadata.model else None) \
        or outcome.model


def _usage(attributes: dict[str, Any], attempts: list[CallOutcome]) -> None:
    """The request's tokens: every attempt's (a failed attempt may have billed some)."""
    inputs = [o.result.usage.input_tokens for o in attempts]
    outputs = [o.result.usage.output_tokens for o in attempts]
    if any(v is not None for v in inputs):
        attributes["gen_ai.usage.input_tokens"] = sum(v or 0 for v in inputs)
    if any(v is not None for v in outputs):
        attributes["gen_ai.usage.output_tokens"] = sum(v or 0 for v in outputs)


def _error_type(trace: CallTrace, final: CallOutcome | None) -> str | None:
    error = trace.error
    if error is not None:
        code = getattr(error, "code", None)
        return code if isinstance(code, str) else type(error).__name__
    if final is not None and final.status == "error" and final.error is not None:
        return final.error.code
    return None


def _messages(request: ChatRequest) -> str:
    """The prompt as the conventions' ``gen_ai.input.messages`` (text parts only)."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system",
                         "parts": [{"type": "text", "content": request.system}]})
    for message in request.messages:
        messages.append({"role": message.role, "parts": [
            {"type": "text", "content": part.text} for part in message.parts
            if isinstance(part, TextPart)]})
    return orjson.dumps(messages).decode()[:MAX_CONTENT]


def _answer(text: str) -> str:
    return orjson.dumps([{"role": "assistant", "parts": [
        {"type": "text", "content": text[:MAX_CONTENT]}]}]).decode()
