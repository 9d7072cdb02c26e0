"""Our errors in OpenAI's error shape and status codes.

https://platform.openai.com/docs/guides/error-codes
Choices worth knowing:
- A vendor rejecting *our* stored key (401/403 upstream) is a 502 to the caller: their
  own token was fine, the gateway's upstream failed. Telling them 401 would send them
  hunting for a problem in their token.
- Upstream 429 stays 429 with the vendor's Retry-After passed through (informative).
- Where the gateway has already retried (429, 5xx, overloaded, timeouts) we send
  ``x-should-retry: false``, which the official SDKs obey, so one failure does not turn
  into 3 x 3 upstream calls.
"""

from __future__ import annotations

from typing import Any

from switchboard.services.flags import FeatureDisabled
from switchboard.services.policy import BudgetExceeded, Refused
from switchboard.services.router import BreakerOpen
from switchboard.services.tools.contract import LoopLimit
from switchboard.spec import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContextLengthError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    SwitchboardError,
    UnknownModelError,
    UnknownProviderError,
    UpstreamTimeoutError,
)


def error_status(exc: SwitchboardError) -> tuple[int, str, str | None]:
    """(HTTP status, OpenAI error type, code) for one of our errors."""
    if isinstance(exc, Refused):  # a gateway limit (decision 0053): OpenAI's 429 shapes
        # OpenAI's type names the exhausted limit: "requests" or "tokens"
        kind = ("insufficient_quota" if isinstance(exc, BudgetExceeded)
                else "tokens" if getattr(exc, "limit_type", None) == "tokens" else "requests")
        return 429, kind, exc.code
    if isinstance(exc, LoopLimit):  # server_tools' loop hit the caller's budget (0162)
        return 429, "insufficient_quota", exc.code
    if isinstance(exc, FeatureDisabled):  # an admin's switch (decision 0124)
        return 403, "permission_error", exc.code
    if isinstance(exc, InvalidRequestError):
        return 400, "invalid_request_error", exc.code
    if isinstance(exc, UnknownModelError | UnknownProviderError):
        return 404, "invalid_request_error", "model_not_found"
    if isinstance(exc, ConfigurationError):
        return 400, "invalid_request_error", "provider_not_configured"
    if isinstance(exc, ProviderError):
        if isinstance(exc, ContextLengthError):
            return 400, "invalid_request_error", "context_length_exceeded"
        if isinstance(exc, BadRequestError):
            return 400, "invalid_request_error", exc.vendor_code or "upstream_bad_request"
        if isinstance(exc, NotFoundError):
            return 404, "invalid_request_error", "model_not_found"
        if isinstance(exc, AuthenticationError | PermissionDeniedError):
            return 502, "upstream_error", "upstream_authentication_failed"
        if isinstance(exc, RateLimitError):
            return 429, "rate_limit_error", exc.vendor_code or "rate_limit_exceeded"
        if isinstance(exc, UpstreamTimeoutError):
            return 504, "upstream_error", "upstream_timeout"
        if isinstance(exc, BreakerOpen):  # no upstream call was made: unavailable for now
            return 503, "upstream_error", exc.code
        return 502, "upstream_error", exc.code
    return 500, "server_error", exc.code


def error_body(exc: SwitchboardError) -> dict[str, Any]:
    _, kind, code = error_status(exc)
    return {"error": {"message": exc.message, "type": kind,
                      "param": getattr(exc, "param", None), "code": code}}


def error_headers(exc: SwitchboardError) -> dict[str, str]:
    headers: dict[str, str] = dict(exc.call_headers)  # the grants' (x-ratelimit-*)
    if isinstance(exc, Refused):
        headers.update(exc.headers)
        if exc.retry_after is not None:
            headers["retry-after"] = str(max(int(exc.retry_after + 0.999), 0))
        if isinstance(exc, BudgetExceeded):  # asking again will not help before the reset
            headers["x-should-retry"] = "false"
        return headers
    if isinstance(exc, ProviderError):
        if isinstance(exc, RateLimitError | BreakerOpen) and exc.retry_after is not None:
            headers["retry-after"] = str(max(int(exc.retry_after + 0.999), 0))
        # A retryable error reaching the caller is one the gateway already retried (the
        # one retry layer, upstream/retry.py); a non-retryable one (a spent quota, a
        # rejected key) will not get better by asking again. Either way the SDK must
        # not add its own retries on top: 429 included (it used to say "true" when the
        # vendor sent Retry-After, so one rate limit became 3 x 3 upstream calls).
        if (exc.retryable or isinstance(exc, RateLimitError)
                or isinstance(exc, AuthenticationError | PermissionDeniedError)):
            headers["x-should-retry"] = "false"
        if exc.request_id:
            headers["x-upstream-request-id"] = exc.request_id
    return headers


def openai_error(message: str, *, status: int = 400, kind: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """A plain OpenAI-shaped error body (for auth failures, malformed JSON, ...)."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
