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
  object (there is no SSE event type for it). It has no HTTP status; the shared
  ``error_from_event`` classifies it by its canonical ``status`` name (falling back to the
  numeric ``code``) and reads its ``RetryInfo`` delay.
"""

from __future__ import annotations

from typing import Any

from switchboard.spec import AuthenticationError, BadRequestError, ProviderError
from switchboard.upstream import error_from_event

KIND = "gemini"

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
    error: Any, *, secrets: tuple[str, ...] = (), request_id: str | None = None,
    provider: str = KIND,
) -> ProviderError:
    """The ``error`` object of a stream chunk as a ``ProviderError`` naming ``provider``
    (the instance)."""
    if not isinstance(error, dict):
        error = {"message": str(error)}
    if not error.get("message"):
        error = {**error, "message": "unknown error"}
    return error_from_event(provider, {"error": error}, request_id=request_id, secrets=secrets)
