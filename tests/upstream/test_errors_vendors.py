"""Vendor-specific refinements of the error mapping: Google's ``RetryInfo`` / per-day
``QuotaFailure`` in the body, Mistral's and Google's in-band error names, request ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.spec import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    OverloadedError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamBrokenError,
    UpstreamTimeoutError,
)
from switchboard.upstream.errors import error_from_event, error_from_response, request_id
from switchboard.upstream.google_details import google_retry_delay


def google_429(delay: Any = "37s", quota_id: str = "GenerateRequestsPerMinutePerProject"
               ) -> dict[str, Any]:
    """Shaped like https://ai.google.dev/gemini-api/docs/rate-limits' 429 body."""
    return {"error": {
        "code": 429, "message": "You exceeded your current quota.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
             "violations": [{"quotaMetric": "generativelanguage.googleapis.com/requests",
                             "quotaId": quota_id, "quotaValue": "10"}]},
            {"@type": "type.googleapis.com/google.rpc.Help",
             "links": [{"url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
        ],
    }}


def response(status: int, payload: Any, headers: dict[str, str] | None = None
             ) -> ProviderError:
    return error_from_response("gemini", status, headers or {}, json.dumps(payload).encode())


@pytest.mark.parametrize(("delay", "seconds"), [
    ("37s", 37.0), ("1.5s", 1.5), ("45.837906927s", 45.837906927), ("0s", 0.0),
    ({"seconds": "3", "nanos": 500_000_000}, 3.5),  # the proto object form
    ("3600s", 60.0),  # capped like Retry-After
    ("-2s", 0.0),
])
def test_retry_info_delay_is_read_from_a_google_body(delay: Any, seconds: float) -> None:
    err = response(429, google_429(delay))
    assert isinstance(err, RateLimitError) and err.retryable
    assert err.retry_after == pytest.approx(seconds)


@pytest.mark.parametrize("delay", ["soon", "12", "nans", "infs", None, 12])
def test_a_malformed_retry_delay_is_ignored(delay: Any) -> None:
    assert response(429, google_429(delay)).retry_after is None


def test_retry_after_header_wins_over_the_body() -> None:
    assert response(429, google_429("37s"), {"retry-after": "2"}).retry_after == 2.0


def test_retry_info_in_a_list_wrapped_body_and_on_503() -> None:
    """Gemini sometimes wraps the error in a list; a 503 may carry RetryInfo too."""
    unavailable = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE",
                             "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                          "retryDelay": "4s"}]}}
    err = response(503, [unavailable])
    assert isinstance(err, OverloadedError) and err.retry_after == 4.0
    assert google_retry_delay({"error": {"message": "no details"}}) is None
    assert google_retry_delay("plain text") is None


def test_a_per_day_quota_is_not_retried() -> None:
    daily = response(429, google_429("20s", "GenerateRequestsPerDayPerProjectPerModel-FreeTier"))
    assert isinstance(daily, RateLimitError) and not daily.retryable
    per_minute = response(429, google_429("20s", "GenerateRequestsPerMinutePerProject"))
    assert per_minute.retryable


# -- in-band errors --------------------------------------------------------------------

def mistral(error_type: str | None, message: str = "m", **extra: Any) -> dict[str, Any]:
    """Mistral's error object (https://docs.mistral.ai/resources/error-glossary)."""
    return {"object": "error", "message": message, "type": error_type, "param": None,
            "code": None, **extra}


def google(status: str | None, code: int | None = None, message: str = "m") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


@pytest.mark.parametrize(("payload", "cls", "retryable", "status"), [
    # Mistral: documented types, and the names its gateway is seen sending
    (mistral("rate_limit_error"), RateLimitError, True, 429),
    (mistral("rate_limited", code="1300"), RateLimitError, True, 429),
    (mistral("rate_limit_exceeded"), RateLimitError, True, 429),
    (mistral("internal_server_error"), ServerError, True, 500),
    (mistral("server_error"), ServerError, True, 500),
    (mistral("service_unavailable"), OverloadedError, True, 503),
    (mistral("authentication_error"), AuthenticationError, False, 401),
    (mistral("invalid_request_error"), BadRequestError, False, 400),
    (mistral("invalid_request_message_error", code="3280"), BadRequestError, False, 400),
    # its gateway's own status outranks the type name
    (mistral("invalid_request_error", "Service tier capacity exceeded for this model.",
             raw_status_code=503), OverloadedError, True, 503),
    # Google: canonical status names
    (google("RESOURCE_EXHAUSTED", 429), RateLimitError, True, 429),
    (google("UNAVAILABLE", 503), OverloadedError, True, 503),
    (google("INTERNAL", 500), ServerError, True, 500),
    (google("DEADLINE_EXCEEDED", 504), UpstreamTimeoutError, True, 504),
    (google("INVALID_ARGUMENT", 400), BadRequestError, False, 400),
    (google("PERMISSION_DENIED", 403), PermissionDeniedError, False, 403),
    (google("UNAUTHENTICATED", 401), AuthenticationError, False, 401),
    # no name we know, but a numeric status
    (google(None, 503), OverloadedError, True, 503),
    ({"error": {"message": "Worker limit reached", "type": "weird", "code": 500}},
     ServerError, True, 500),
    # nothing to go on
    (google("SOMETHING_NEW"), StreamBrokenError, False, None),
    (mistral(None), StreamBrokenError, False, None),
])
def test_in_band_names_of_mistral_and_google(payload: Any, cls: type, retryable: bool,
                                             status: int | None) -> None:
    err = error_from_event("vendor", payload)
    assert type(err) is cls
    assert err.retryable is retryable
    assert err.status == status
    assert "error in stream" in err.message


def test_in_band_error_keeps_retry_info_quota_and_context_hints() -> None:
    limited = error_from_event("gemini", google_429("1.5s"))
    assert isinstance(limited, RateLimitError) and limited.retry_after == 1.5
    daily = error_from_event("gemini", google_429("1s", "GenerateRequestsPerDayPerProject"))
    assert not daily.retryable
    too_long = error_from_event("mistral", mistral(
        "invalid_request_error", "Prompt contains 40000 tokens, too many tokens for model"))
    assert isinstance(too_long, ContextLengthError)


def test_in_band_message_is_redacted() -> None:
    key = "AIzaSyFakeKey_0123456789abcdef"
    err = error_from_event("gemini", google("INVALID_ARGUMENT", 400, f"bad key {key}"),
                           secrets=(key,))
    assert key not in err.message and "[redacted]" in err.message


def test_bytes_payload_is_accepted() -> None:
    err = error_from_event("mistral", json.dumps(mistral("rate_limited")).encode())
    assert isinstance(err, RateLimitError)


# -- request ids ------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "expected"), [
    ({"mistral-correlation-id": "c-1", "x-kong-request-id": "k-1"}, "c-1"),
    ({"x-kong-request-id": "k-1", "cf-ray": "ray"}, "k-1"),
    ({"x-request-id": "req_1", "x-kong-request-id": "k-1"}, "req_1"),
    ({"request-id": "req_anthropic"}, "req_anthropic"),
    ({"cf-ray": "ray"}, "ray"),
    ({}, None),
])
def test_request_id_headers(headers: dict[str, str], expected: str | None) -> None:
    assert request_id(headers) == expected
    err = error_from_response("mistral", 500, headers, b'{"message": "boom"}')
    assert err.request_id == expected
