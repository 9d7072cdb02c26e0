"""Status-first mapping from an HTTP failure to the one error tree (``spec.errors``).

The status decides the class; the vendor's body only refines it (a 400 that says the
context is too long becomes ``ContextLengthError``; a 429 for an exhausted quota is not
retryable). The vendor's type, code, param and request id are kept. Vendor messages are
passed through ``redact`` because some vendors echo part of the key back in a 401.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import Any

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

_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-goog-request-id", "cf-ray")
_KEY_PATTERNS = re.compile(
    r"(sk-[A-Za-z0-9_\-*.]{6,}|sk_[A-Za-z0-9_\-*]{6,}|AIza[0-9A-Za-z_\-]{10,}"
    r"|gsk_[A-Za-z0-9]{6,}|xai-[A-Za-z0-9]{6,}|(?i:bearer)\s+[A-Za-z0-9_\-.=*]{8,})"
)
_CONTEXT_HINTS = ("context length", "context_length", "context window", "too many tokens",
                  "prompt is too long", "maximum context", "input is too long",
                  "exceeds the maximum number of tokens")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove anything shaped like an API key, and every given secret, from ``text``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _KEY_PATTERNS.sub("[redacted]", text)


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
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _vendor_fields(body: bytes) -> tuple[str | None, str | None, str | None, str | None]:
    """(message, type, code, param) from any of the vendors' error bodies."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body.decode("utf-8", "replace").strip()
        return (text[:500] or None), None, None, None
    if isinstance(data, list) and data:  # Gemini sometimes wraps the error in a list
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


def error_from_response(
    provider: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    secrets: tuple[str, ...] = (),
) -> ProviderError:
    message, vtype, code, param = _vendor_fields(body)
    message = redact(message or httpx.codes.get_reason_phrase(status) or "error", secrets)
    lowered = message.lower()
    cls: type[ProviderError]
    retryable: bool | None = None
    if status == 400 or status == 413 or status == 422:
        context = code == "context_length_exceeded" or any(h in lowered for h in _CONTEXT_HINTS)
        cls = ContextLengthError if context else BadRequestError
    elif status == 401:
        cls = AuthenticationError
    elif status == 403:
        cls = PermissionDeniedError
    elif status == 404:
        cls = NotFoundError
    elif status == 408:
        cls = UpstreamTimeoutError
    elif status == 409:
        cls, retryable = ServerError, True
    elif status == 429:
        cls = RateLimitError
        if code == "insufficient_quota" or vtype == "insufficient_quota":
            retryable = False
    elif status == 529 or status == 503 or vtype == "overloaded_error":
        cls = OverloadedError
    elif status >= 500:
        cls = ServerError
    else:
        cls = BadRequestError
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
        retry_after=parse_retry_after(headers),
    )


def error_from_event(
    provider: str, payload: Any, *, request_id: str | None = None
) -> ProviderError:
    """An error delivered *inside* a stream (Anthropic's ``event: error``, an OpenAI
    chunk with an ``error`` key). Classified by the vendor's type, as there is no status."""
    raw = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    message, vtype, code, param = _vendor_fields(raw)
    by_type: dict[str, tuple[type[ProviderError], int]] = {
        "overloaded_error": (OverloadedError, 529),
        "rate_limit_error": (RateLimitError, 429),
        "api_error": (ServerError, 500),
        "server_error": (ServerError, 500),
        "authentication_error": (AuthenticationError, 401),
        "permission_error": (PermissionDeniedError, 403),
        "not_found_error": (NotFoundError, 404),
        "invalid_request_error": (BadRequestError, 400),
    }
    cls, status = by_type.get(vtype or "", (StreamBrokenError, 0))
    return cls(
        f"{provider}: error in stream ({vtype or code or 'unknown'}): {redact(message or '')}",
        provider=provider,
        status=status or None,
        vendor_type=vtype,
        vendor_code=code,
        param=param,
        request_id=request_id,
    )


def error_from_exception(provider: str, exc: Exception) -> ProviderError:
    """A transport failure (no HTTP status) as a ``ProviderError``."""
    if isinstance(exc, ProviderError):
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
            provider=provider,
        )
    if isinstance(exc, httpx.TransportError):
        return UpstreamConnectionError(
            f"{provider}: connection failed ({type(exc).__name__}: {exc})", provider=provider
        )
    return StreamBrokenError(f"{provider}: {type(exc).__name__}: {exc}", provider=provider)
