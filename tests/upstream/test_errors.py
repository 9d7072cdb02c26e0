from __future__ import annotations

import email.utils
import json
import time

import httpx
import pytest

from switchboard.spec import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamBrokenError,
    UpstreamConnectionError,
    UpstreamTimeoutError,
)
from switchboard.upstream.errors import (
    error_from_event,
    error_from_exception,
    error_from_response,
    parse_retry_after,
    redact,
)


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, BadRequestError, False), (401, AuthenticationError, False),
        (403, PermissionDeniedError, False), (404, NotFoundError, False),
        (408, UpstreamTimeoutError, True), (409, ServerError, True),
        (422, BadRequestError, False), (429, RateLimitError, True),
        (500, ServerError, True), (502, ServerError, True), (503, OverloadedError, True),
        (529, OverloadedError, True),
    ],
)
def test_status_first(status: int, cls: type, retryable: bool) -> None:
    err = error_from_response("openai", status, {}, body({"error": {"message": "m"}}))
    assert type(err) is cls
    assert err.retryable is retryable
    assert err.status == status


def test_keeps_vendor_fields_and_request_id() -> None:
    err = error_from_response(
        "openai", 400, {"x-request-id": "req_1"},
        body({"error": {"message": "bad", "type": "invalid_request_error",
                        "param": "temperature", "code": "invalid_value"}}),
    )
    assert (err.vendor_type, err.vendor_code, err.param, err.request_id) == (
        "invalid_request_error", "invalid_value", "temperature", "req_1")
    assert "HTTP 400" in err.message and "bad" in err.message


def test_vendor_body_shapes() -> None:
    anthropic = error_from_response(
        "anthropic", 529, {"request-id": "r"},
        body({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
    assert isinstance(anthropic, OverloadedError) and "Overloaded" in anthropic.message
    gemini = error_from_response(
        "gemini", 429, {},
        body({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}))
    assert gemini.vendor_type == "RESOURCE_EXHAUSTED"
    mistral = error_from_response(
        "mistral", 422, {},
        body({"detail": [{"loc": ["body", "foo"], "msg": "Extra inputs are not permitted"}]}))
    assert "body.foo: Extra inputs are not permitted" in mistral.message
    html = error_from_response("x", 502, {}, b"<html>Bad gateway</html>")
    assert "Bad gateway" in html.message


def test_context_length_and_quota() -> None:
    ctx = error_from_response("openai", 400, {}, body(
        {"error": {"message": "This model's maximum context length is 8192 tokens",
                   "code": "context_length_exceeded"}}))
    assert isinstance(ctx, ContextLengthError)
    quota = error_from_response("openai", 429, {}, body(
        {"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}}))
    assert isinstance(quota, RateLimitError) and not quota.retryable


def test_key_is_redacted_from_vendor_messages() -> None:
    key = "sk-proj-abcdefghijklmnop1234"
    err = error_from_response("openai", 401, {}, body(
        {"error": {"message": f"Incorrect API key provided: {key}."}}), secrets=(key,))
    assert key not in err.message and "[redacted]" in err.message
    assert "AIzaSyA1234567890abcdefg" not in redact("key=AIzaSyA1234567890abcdefg")
    assert "Bearer abcdefgh12345" not in redact("Authorization: Bearer abcdefgh12345")


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "1000"}) == 60.0  # capped
    future = email.utils.formatdate(time.time() + 10, usegmt=True)
    wait = parse_retry_after({"retry-after": future})
    assert wait is not None and 8 <= wait <= 10
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_in_band_errors() -> None:
    e = error_from_event("anthropic", {"type": "error",
                                       "error": {"type": "overloaded_error", "message": "busy"}})
    assert isinstance(e, OverloadedError) and e.retryable
    unknown = error_from_event("x", {"error": {"message": "weird"}})
    assert isinstance(unknown, StreamBrokenError) and not unknown.retryable


def test_transport_errors() -> None:
    assert isinstance(error_from_exception("p", httpx.ReadTimeout("t")), UpstreamTimeoutError)
    conn = error_from_exception("p", httpx.ConnectError("refused"))
    assert isinstance(conn, UpstreamConnectionError) and "base URL" in conn.message
    assert isinstance(error_from_exception("p", httpx.RemoteProtocolError("x")),
                      UpstreamConnectionError)
