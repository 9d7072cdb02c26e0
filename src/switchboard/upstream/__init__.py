"""Talking HTTP to vendors: the pooled client, SSE, error mapping and retries.
Shared by every adapter so that no adapter re-implements transport policy."""

from switchboard.spec.redaction import redact
from switchboard.upstream.client import (
    close_client,
    get_client,
    iter_bytes,
    open_stream,
    request_json,
)
from switchboard.upstream.errors import (
    error_from_event,
    error_from_exception,
    error_from_response,
)
from switchboard.upstream.retry import RetryPolicy, retrying_stream
from switchboard.upstream.sse import SSEDecoder, SSEEvent, aiter_sse

__all__ = [
    "RetryPolicy", "SSEDecoder", "SSEEvent", "aiter_sse", "close_client",
    "error_from_event", "error_from_exception", "error_from_response", "get_client",
    "iter_bytes", "open_stream", "redact", "request_json", "retrying_stream",
]
