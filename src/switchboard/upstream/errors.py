"""Status-first mapping from an HTTP failure to the one error tree (``spec.errors``).

The status decides the class; the vendor's body only refines it (a 400 that says the
context is too long becomes ``ContextLengthError``; a 429 for an exhausted quota is not
retryable). The vendor's type, code, param and request id are kept; every one of them,
and the message, is redacted by the ``ProviderError`` they build (``spec.redaction``:
vendors echo the key back, whole or in part, in a 401's message, code or request id), so
every function here takes the call's ``secrets``.

How long to wait comes from ``retry-after-ms`` / ``Retry-After`` or, as Google sends no
such header, from the body's ``google.rpc.RetryInfo`` detail (``"retryDelay": "37s"``,
https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes and
https://cloud.google.com/apis/design/errors#error_details). In-band errors (no status)
are classified by the vendor's type name; see ``_IN_BAND``.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any, TypeGuard

import httpx

from switchboard.spec.errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamBrokenError,
    UpstreamConnectionError,
    UpstreamTimeoutError,
)
from switchboard.spec.redaction import redact
from switchboard.upstream.google_details import (
    daily_quota_exhausted,
    error_object,
    google_retry_delay,
)

# OpenAI / most servers, Anthropic, Mistral (its correlation id first, then its Kong
# gateway's id: https://docs.mistral.ai/api/), then generic fallbacks. Gemini sends no
# request id header: its id is the body's ``responseId``.
_REQUEST_ID_HEADERS = ("mistral-correlation-id", "x-request-id", "request-id",
                       "x-kong-request-id", "x-goog-request-id", "cf-ray")
_CONTEXT_HINTS = ("context length", "context_length", "context window", "too many tokens",
                  "prompt is too long", "maximum context", "input is too long",
                  "exceeds the maximum number of tokens")


def parse_retry_after(headers: Mapping[str, str], cap: float = 60.0) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``retry-after`` (seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return min(max(float(ms) / 1000.0, 0.0), cap)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), cap)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), cap)


def request_id(headers: Mapping[str, str]) -> str | None:
    """The vendor's request id (as sent: the error built with it redacts it)."""
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _parse(body: bytes) -> Any:
    """The decoded JSON body, or the text when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", "replace").strip()


def _vendor_fields(data: Any) -> tuple[str | None, str | None, str | None, str | None]:
    """(message, type, code, param) from any of the vendors' error bodies."""
    if isinstance(data, str):
        return (data[:500] or None), None, None, None
    if isinstance(data, list) and data:
        data = data[0]
    if not isinstance(data, dict):
        return str(data)[:500], None, None, None
    err = data.get("error", data)
    if isinstance(err, str):
        return err, data.get("type"), None, None
    if not isinstance(err, dict):
        return None, None, None, None
    message = err.get("message") or data.get("message") or data.get("detail")
    if isinstance(message, dict) and "detail" in message:
        # Mistral also nests it: {"object": "error", "message": {"detail": [...]}, ...}
        message = message["detail"]
    if isinstance(message, list):  # FastAPI-style {"detail": [...]} (Mistral 422)
        message = "; ".join(
            f"{'.'.join(str(x) for x in d.get('loc', []))}: {d.get('msg')}"
            if isinstance(d, dict) else str(d)
            for d in message
        )
    vtype = err.get("type") or err.get("status")
    code = err.get("code")
    param = err.get("param")
    return (
        str(message) if message is not None else None,
        str(vtype) if vtype is not None else None,
        str(code) if code is not None else None,
        str(param) if param is not None else None,
    )


def _classify(status: int, vtype: str | None, code: str | None,
              message: str) -> tuple[type[ProviderError], bool | None]:
    """The status-first rule: (class, retryable override or None for the class default)."""
    lowered = message.lower()
    if status in (400, 413, 422):
        context = code == "context_length_exceeded" or any(h in lowered for h in _CONTEXT_HINTS)
        return (ContextLengthError if context else BadRequestError), None
    if status == 401:
        return AuthenticationError, None
    if status == 403:
        return PermissionDeniedError, None
    if status == 404:
        return NotFoundError, None
    if status == 408:
        return UpstreamTimeoutError, None
    if status == 409:
        return ServerError, True
    if status == 429:
        quota = code == "insufficient_quota" or vtype == "insufficient_quota"
        return RateLimitError, (False if quota else None)
    if status in (503, 529) or vtype == "overloaded_error":
        return OverloadedError, None
    if status >= 500:
        return ServerError, None
    return BadRequestError, None


def error_from_response(
    provider: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    secrets: tuple[str, ...] = (),
) -> ProviderError:
    data = _parse(body)
    message, vtype, code, param = _vendor_fields(data)
    message = redact(message or httpx.codes.get_reason_phrase(status) or "error", secrets)
    # (redacted before classifying, as the classification below reads the message; the
    # error's constructor redacts every field again, this message included)
    cls, retryable = _classify(status, vtype, code, message)
    if status == 429 and daily_quota_exhausted(data):
        retryable = False
    retry_after = parse_retry_after(headers)
    if retry_after is None:
        retry_after = google_retry_delay(data)
    detail = f"{provider}: HTTP {status}"
    if vtype or code:
        detail += f" ({vtype or code})"
    return cls(
        f"{detail}: {message}",
        provider=provider,
        status=status,
        vendor_type=vtype,
        vendor_code=code,
        param=param,
        request_id=request_id(headers),
        retryable=retryable,
        retry_after=retry_after,
        secrets=secrets,
    )


# In-band error names -> the HTTP status they stand for (the class then follows the
# status-first rule) and, where that rule would say less, the class itself.
# Anthropic: https://docs.anthropic.com/en/api/errors ; OpenAI: server_error and friends;
# Mistral: https://docs.mistral.ai/resources/error-glossary (documented types, plus the
# names its gateway is seen sending: rate_limited, internal_server_error, ...);
# Google: the canonical ``google.rpc.Code`` names in ``error.status``
# (https://cloud.google.com/apis/design/errors#handling_errors).
_IN_BAND: dict[str, tuple[int, type[ProviderError] | None]] = {
    # Anthropic and OpenAI
    "overloaded_error": (529, None),
    "rate_limit_error": (429, None),
    "api_error": (500, None),
    "server_error": (500, None),
    "authentication_error": (401, None),
    "permission_error": (403, None),
    "not_found_error": (404, None),
    "invalid_request_error": (400, None),
    "request_too_large": (413, None),
    "billing_error": (402, None),
    "timeout_error": (504, UpstreamTimeoutError),
    "insufficient_quota": (429, None),
    "rate_limit_exceeded": (429, None),
    # Mistral (and other OpenAI-style gateways)
    "rate_limited": (429, None),
    "internal_server_error": (500, None),
    "internal_error": (500, None),
    "service_unavailable": (503, None),
    "service_unavailable_error": (503, None),
    "bad_gateway": (502, None),
    "gateway_timeout": (504, UpstreamTimeoutError),
    "unauthorized": (401, None),
    "forbidden": (403, None),
    "not_found": (404, None),
    # Google canonical codes
    "INVALID_ARGUMENT": (400, None),
    "FAILED_PRECONDITION": (400, None),
    "OUT_OF_RANGE": (400, None),
    "UNAUTHENTICATED": (401, None),
    "PERMISSION_DENIED": (403, None),
    "NOT_FOUND": (404, None),
    "ABORTED": (409, None),
    "RESOURCE_EXHAUSTED": (429, None),
    "CANCELLED": (499, StreamBrokenError),
    "UNIMPLEMENTED": (501, BadRequestError),
    "INTERNAL": (500, None),
    "UNKNOWN": (500, None),
    "DATA_LOSS": (500, None),
    "UNAVAILABLE": (503, None),
    "DEADLINE_EXCEEDED": (504, UpstreamTimeoutError),
}


def _in_band_status(data: Any, vtype: str | None, code: str | None) -> tuple[
        int, type[ProviderError] | None] | None:
    """What an in-band error stands for: the HTTP status Mistral's gateway says it would
    have sent (``raw_status_code``), else its type name (or code) in ``_IN_BAND``, any
    ``invalid_request_*`` type (Mistral has several), else a numeric ``code`` in the HTTP
    error range (Google's ``{"code": 503, ...}``, vLLM's ``{"code": 500}``)."""
    err = error_object(data) or {}
    top = data if isinstance(data, dict) else {}
    for value in (top.get("raw_status_code"), err.get("raw_status_code")):
        if _http_error_status(value):
            return value, None
    for name in (vtype, code):
        if name and name in _IN_BAND:
            return _IN_BAND[name]
    if vtype and vtype.startswith("invalid_request"):
        return 400, None
    numeric = err.get("code")
    return (numeric, None) if _http_error_status(numeric) else None


def _http_error_status(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599


def error_from_event(
    provider: str,
    payload: Any,
    *,
    request_id: str | None = None,
    secrets: tuple[str, ...] = (),
) -> ProviderError:
    """An error delivered *inside* a stream (Anthropic's ``event: error``, an OpenAI or
    Mistral chunk with an error, a Gemini chunk holding only ``error``). There is no HTTP
    status, so it is classified by the vendor's type name; an unknown one is a
    ``StreamBrokenError`` (never retried)."""
    data = _parse(payload) if isinstance(payload, bytes) else payload
    message, vtype, code, param = _vendor_fields(data)
    text = redact(message or "", secrets)
    cls: type[ProviderError] = StreamBrokenError
    retryable: bool | None = None
    status: int | None = None
    known = _in_band_status(data, vtype, code)
    if known is not None:
        status, override = known
        cls, retryable = _classify(status, vtype, code, text)
        if override is not None:
            cls, retryable = override, None
        if status == 429 and daily_quota_exhausted(data):
            retryable = False
    return cls(
        f"{provider}: error in stream ({vtype or code or 'unknown'}): {text}",
        provider=provider,
        status=status,
        vendor_type=vtype,
        vendor_code=code,
        param=param,
        request_id=request_id,
        retryable=retryable,
        retry_after=google_retry_delay(data),
        secrets=secrets,
    )


def error_from_exception(provider: str, exc: Exception,
                         secrets: tuple[str, ...] = ()) -> ProviderError:
    """A transport failure (no HTTP status) as a ``ProviderError``."""
    if isinstance(exc, ProviderError):
        exc.redact(secrets)
        return exc
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for data",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(exc), "talking to the server")
        return UpstreamTimeoutError(f"{provider}: timed out {phase}", provider=provider)
    if isinstance(exc, httpx.ConnectError):
        return UpstreamConnectionError(
            f"{provider}: cannot connect ({exc or type(exc).__name__}); check the base URL",
            provider=provider, secrets=secrets,
        )
    if isinstance(exc, httpx.TransportError):
        return UpstreamConnectionError(
            f"{provider}: connection failed ({type(exc).__name__}: {exc})", provider=provider,
            secrets=secrets,
        )
    return StreamBrokenError(f"{provider}: {type(exc).__name__}: {exc}", provider=provider,
                             secrets=secrets)
