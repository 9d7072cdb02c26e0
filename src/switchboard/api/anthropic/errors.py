"""Our errors in Anthropic's shape: ``{"type": "error", "error": {"type", "message"}}``.

Anthropic's statuses and types (https://docs.anthropic.com/en/api/errors): 400
``invalid_request_error``, 401 ``authentication_error``, 403 ``permission_error``, 404
``not_found_error``, 413 ``request_too_large``, 429 ``rate_limit_error``, 500
``api_error``, 529 ``overloaded_error``. The status of each of our errors is the one the
OpenAI surface gives it (``api.openai.errors.error_status``: one decision, e.g. a vendor
refusing the gateway's own key is a 502, not the caller's 401); this module only names
it in Anthropic's vocabulary, and an overloaded vendor keeps Anthropic's own 529.
The official SDK reads the ``request-id`` header and retries on 408/409/429/5xx unless
``x-should-retry: false`` says otherwise (the gateway has already retried).
"""

from __future__ import annotations

from typing import Any

from switchboard.api.openai.errors import error_headers, error_status
from switchboard.spec import OverloadedError, SwitchboardError

_TYPES = {400: "invalid_request_error", 401: "authentication_error",
          403: "permission_error", 404: "not_found_error", 413: "request_too_large",
          429: "rate_limit_error", 529: "overloaded_error"}


def error_type(status: int) -> str:
    """Anthropic's error type for an HTTP status (5xx: ``api_error``)."""
    return _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def anthropic_error(message: str, status: int = 400) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type(status), "message": message}}


def status_of(exc: SwitchboardError) -> int:
    if isinstance(exc, OverloadedError):
        return 529
    return error_status(exc)[0]


def error_body(exc: SwitchboardError) -> dict[str, Any]:
    return anthropic_error(exc.message, status_of(exc))


def headers_of(exc: SwitchboardError) -> dict[str, str]:
    """``retry-after``, ``x-should-retry`` and the like: the same as on the OpenAI
    surface (the official Anthropic SDK obeys the same headers)."""
    return error_headers(exc)
