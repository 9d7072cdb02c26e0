"""Gemini error quirks on top of the shared status-first mapping (``upstream.errors``).

Google's error body is ``{"error": {"code": 429, "message": "...", "status":
"RESOURCE_EXHAUSTED", "details": [...]}}`` where ``status`` is a canonical gRPC code name.
https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes

Two things the shared mapping cannot know:

- An invalid API key is answered with HTTP **400** ``INVALID_ARGUMENT`` ("API key not
  valid. Please pass a valid API key.", detail reason ``API_KEY_INVALID``), not 401. We
  re-class it as ``AuthenticationError`` so "Test connection" and the retry policy treat it
  as what it is.
- A failure in the middle of a stream arrives as a chunk holding only that ``error``
  object (there is no SSE event type for it). It has no HTTP status, so it is classified
  by its canonical ``status`` name (falling back to the numeric ``code``).
"""

from __future__ import annotations

from typing import Any

from switchboard.spec import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamBrokenError,
    UpstreamTimeoutError,
)
from switchboard.upstream import redact

KIND = "gemini"

_BY_STATUS: dict[str, type[ProviderError]] = {
    "INVALID_ARGUMENT": BadRequestError,
    "FAILED_PRECONDITION": BadRequestError,
    "OUT_OF_RANGE": BadRequestError,
    "UNAUTHENTICATED": AuthenticationError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "NOT_FOUND": NotFoundError,
    "RESOURCE_EXHAUSTED": RateLimitError,
    "UNAVAILABLE": OverloadedError,
    "DEADLINE_EXCEEDED": UpstreamTimeoutError,
    "INTERNAL": ServerError,
    "UNKNOWN": ServerError,
    "DATA_LOSS": ServerError,
}
_BY_CODE: dict[int, type[ProviderError]] = {
    400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError,
    404: NotFoundError, 429: RateLimitError, 500: ServerError, 503: OverloadedError,
    504: UpstreamTimeoutError,
}
_INVALID_KEY_HINTS = ("api key not valid", "api_key_invalid")


def reclassify(error: ProviderError) -> ProviderError:
    """Turn Gemini's "400 API key not valid" into an ``AuthenticationError``."""
    if isinstance(error, BadRequestError) and any(
        hint in error.message.lower() for hint in _INVALID_KEY_HINTS
    ):
        return AuthenticationError(
            error.message,
            provider=error.provider,
            status=error.status,
            vendor_type=error.vendor_type,
            vendor_code=error.vendor_code,
            param=error.param,
            request_id=error.request_id,
            retryable=False,
        )
    return error


def error_from_chunk(
    error: Any, *, secrets: tuple[str, ...] = (), request_id: str | None = None
) -> ProviderError:
    """The ``error`` object of a stream chunk as a ``ProviderError``."""
    if not isinstance(error, dict):
        error = {"message": str(error)}
    status = error.get("status")
    code = error.get("code")
    message = redact(str(error.get("message") or "unknown error"), secrets)
    cls: type[ProviderError] = StreamBrokenError
    if isinstance(status, str) and status in _BY_STATUS:
        cls = _BY_STATUS[status]
    elif isinstance(code, int) and code in _BY_CODE:
        cls = _BY_CODE[code]
    return cls(
        f"{KIND}: error in stream ({status or code or 'unknown'}): {message}",
        provider=KIND,
        status=code if isinstance(code, int) else None,
        vendor_type=status if isinstance(status, str) else None,
        vendor_code=str(code) if code is not None else None,
        request_id=request_id,
    )
