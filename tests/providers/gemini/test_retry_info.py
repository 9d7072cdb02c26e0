"""Gemini says how long to wait in the error BODY (``google.rpc.RetryInfo``), never in a
``Retry-After`` header: the one retry policy must wait exactly that, through the fake.
The policy's injectable ``sleep`` records the waits; nothing really sleeps."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchboard.spec import (
    ChatRequest,
    Message,
    RateLimitError,
    StreamEvent,
    collect,
)
from switchboard.upstream import RetryPolicy, retrying_stream
from tests.fakes.gemini import MODEL, make_provider, sse
from tests.fakes.script import Raw, Reply
from tests.providers.gemini.conftest import FIXTURES, Server

KEY = "AIzaSyTestKey0123456789abcdefghijklmn"
HELLO = ChatRequest(messages=[Message.user("Hello")])


def quota_error(delay: str, quota_id: str = "GenerateRequestsPerMinutePerProjectPerModel"
                ) -> dict[str, Any]:
    return {"error": {
        "code": 429, "message": "You exceeded your current quota.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
             "violations": [{"quotaId": quota_id, "quotaValue": "10"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
        ],
    }}


async def run(server: Server, sleeps: list[float]) -> list[StreamEvent]:
    model = make_provider(server.base_url, api_key=KEY).chat_model(MODEL)

    def open_stream() -> AsyncIterator[StreamEvent]:
        return model.stream(HELLO)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    policy = RetryPolicy(max_retries=2, initial_delay=5.0)
    return [e async for e in retrying_stream(open_stream, policy, provider="gemini",
                                             sleep=sleep)]


async def test_429_is_retried_after_the_retry_info_delay(server: Server) -> None:
    server.vendor.then(Raw(429, json.dumps(quota_error("1.5s")).encode()), Reply())
    sleeps: list[float] = []
    result = collect(await run(server, sleeps))
    assert result.text == "Hello, world!"
    assert sleeps == [1.5], "the body's retryDelay, not the 5 s backoff"
    assert len(server.vendor.requests) == 2


async def test_recorded_429_fixture_carries_its_delay(server: Server) -> None:
    server.vendor.then(*[Raw(429, (FIXTURES / "error_429.json").read_bytes())] * 3)
    sleeps: list[float] = []
    with pytest.raises(RateLimitError) as info:
        await run(server, sleeps)
    assert info.value.retry_after == 37.0
    assert sleeps == [37.0, 37.0]


async def test_in_band_quota_error_carries_its_delay(server: Server) -> None:
    """A mid-stream RESOURCE_EXHAUSTED chunk: a retryable RateLimitError with the delay
    (the stream had started, so it is surfaced, not retried)."""
    body = sse({"candidates": [{"content": {"parts": [{"text": "Part"}], "role": "model"},
                                "index": 0}]}) + sse(quota_error("2s"))
    server.vendor.then(Raw(body=body, content_type="text/event-stream"))
    sleeps: list[float] = []
    result = collect(await run(server, sleeps))
    assert result.text == "Part"
    assert isinstance(result.error, RateLimitError)
    assert result.error.retryable and result.error.retry_after == 2.0
    assert sleeps == []


async def test_per_day_quota_is_not_retried(server: Server) -> None:
    daily = quota_error("20s", "GenerateRequestsPerDayPerProjectPerModel-FreeTier")
    server.vendor.then(Raw(429, json.dumps(daily).encode()), Reply())
    sleeps: list[float] = []
    with pytest.raises(RateLimitError) as info:
        await run(server, sleeps)
    assert not info.value.retryable
    assert sleeps == [] and len(server.vendor.requests) == 1
