"""One contract suite, run against every adapter kind through an HTTP-level fake of that
vendor on a real loopback server (``tests/fakes/<kind>.py``).

Each vendor module provides ``Wire`` (its wire format), ``KIND``, ``MODEL``,
``VISION_MODEL`` and ``make_provider(base_url, api_key=..., **config)``. The suite only
speaks the neutral contract, so the same assertions hold for every vendor.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

import pytest

from switchboard.spec import (
    AuthenticationError,
    ChatRequest,
    ErrorEvent,
    Finish,
    ImagePart,
    Message,
    RateLimitError,
    StreamEvent,
    StreamStart,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallPart,
    ToolChoiceTool,
    UpstreamTimeoutError,
    collect,
)
from switchboard.upstream import RetryPolicy, retrying_stream
from tests.fakes.script import Break, Fail, Reply, ScriptToolCall, Stall
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

VENDORS = ("openai", "openai_compatible", "anthropic", "mistral", "gemini")
KEY = "sk-test-contract-1234567890abcdef"
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
NO_WAIT = RetryPolicy(max_retries=2, initial_delay=0.0, max_delay=0.0)


class Harness:
    def __init__(self, module: ModuleType, vendor: FakeVendor, base_url: str) -> None:
        self.module = module
        self.vendor = vendor
        self.base_url = base_url

    def model(self, model_id: str | None = None, **config: Any) -> Any:
        provider = self.module.make_provider(self.base_url, api_key=KEY, **config)
        return provider.chat_model(model_id or self.module.MODEL)

    async def run(self, request: ChatRequest, policy: RetryPolicy = NO_WAIT,
                  **config: Any) -> list[StreamEvent]:
        model = self.model(**config)

        def open_stream() -> AsyncIterator[StreamEvent]:
            return model.stream(request)

        return [e async for e in retrying_stream(open_stream, policy, provider=self.module.KIND)]


@pytest.fixture(params=VENDORS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    module = importlib.import_module(f"tests.fakes.{request.param}")
    vendor = FakeVendor(module.Wire())
    with serve_in_thread(vendor) as base:
        yield Harness(module, vendor, base)


def hello() -> ChatRequest:
    return ChatRequest(messages=[Message.user("Say hello")], max_output_tokens=50)


def body_text(harness: Harness) -> str:
    return json.dumps(harness.vendor.chat_requests()[-1].body)


async def test_text_stream(harness: Harness) -> None:
    harness.vendor.then(Reply(chunks=["Hello", ", ", "world", "!"], input_tokens=12,
                              output_tokens=7))
    events = await harness.run(hello())
    assert isinstance(events[0], StreamStart)
    assert isinstance(events[-1], Finish)
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == "Hello, world!"
    assert len(deltas) >= 2, "the answer must arrive in several deltas"
    result = collect(events)
    assert result.finish_reason is not None and result.finish_reason.unified == "stop"
    assert result.usage.input_tokens == 12
    assert result.usage.output_tokens == 7
    sent = harness.vendor.chat_requests()
    assert len(sent) == 1
    assert KEY not in json.dumps(sent[0].body), "the key must travel in a header only"


async def test_non_stream(harness: Harness) -> None:
    harness.vendor.then(Reply(chunks=["One ", "answer."], input_tokens=5, output_tokens=3))
    result = await harness.model().generate(hello())
    assert result.text == "One answer."
    assert result.finish_reason is not None and result.finish_reason.unified == "stop"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (5, 3)
    assert len(harness.vendor.chat_requests()) == 1
    assert not harness.module.Wire().is_stream(harness.vendor.chat_requests()[0])


async def test_length_finish(harness: Harness) -> None:
    harness.vendor.then(Reply(chunks=["cut"], finish="length"))
    result = collect(await harness.run(hello()))
    assert result.finish_reason is not None and result.finish_reason.unified == "length"
    assert result.finish_reason.raw


async def test_tool_round_trip(harness: Harness) -> None:
    call = ScriptToolCall(id="call_abc123XYZ", name="get_weather", arguments='{"city": "Paris"}')
    harness.vendor.then(Reply(chunks=[], tool_calls=[call], finish="tool_calls"),
                        Reply(chunks=["It is sunny in Paris."]))
    first = ChatRequest(messages=[Message.user("Weather in Paris?")], tools=[WEATHER],
                        tool_choice=ToolChoiceTool(name="get_weather"), max_output_tokens=100)
    events = await harness.run(first)
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Paris"}
    result = collect(events)
    assert result.finish_reason is not None and result.finish_reason.unified == "tool_calls"
    assert [c.name for c in result.tool_calls] == ["get_weather"]

    history = [
        *first.messages,
        result.message,
        Message.tool_result(calls[0].id, '{"temp_c": 21, "sky": "sunny"}', name="get_weather"),
    ]
    second = ChatRequest(messages=history, tools=[WEATHER], max_output_tokens=100)
    answer = collect(await harness.run(second))
    assert answer.text == "It is sunny in Paris."
    sent = body_text(harness)
    assert "get_weather" in sent
    assert "sunny" in sent, "the tool result must be sent back to the vendor"


async def test_tool_call_from_another_vendor(harness: Harness) -> None:
    """History written by another vendor (foreign id format) converts cleanly."""
    harness.vendor.then(Reply(chunks=["Done."]))
    foreign = Message(role="assistant", parts=[
        ToolCallPart(id="toolu_01A09q90qw90lq917835lq9", name="get_weather",
                     arguments='{"city":"Oslo"}'),
    ])
    request = ChatRequest(messages=[
        Message.user("Weather in Oslo?"), foreign,
        Message.tool_result("toolu_01A09q90qw90lq917835lq9", "cold", name="get_weather"),
    ], tools=[WEATHER], max_output_tokens=50)
    events = await harness.run(request)
    assert isinstance(events[-1], Finish)
    assert "cold" in body_text(harness)


async def test_image_input(harness: Harness) -> None:
    harness.vendor.then(Reply(chunks=["A tiny image."]))
    request = ChatRequest(messages=[
        Message.user("What is this?", ImagePart(media_type="image/png", data=PIXEL)),
    ], max_output_tokens=50)
    provider = harness.module.make_provider(harness.base_url, api_key=KEY)
    model = provider.chat_model(harness.module.VISION_MODEL)
    result = await model.generate(request)
    assert result.text == "A tiny image."
    assert PIXEL in body_text(harness)


async def test_401_is_an_authentication_error(harness: Harness) -> None:
    harness.vendor.then(Fail(401, "Incorrect API key provided", error_type="authentication_error",
                             code="invalid_api_key"))
    with pytest.raises(AuthenticationError) as info:
        await harness.run(hello())
    assert info.value.status == 401
    assert "Incorrect API key" in str(info.value)
    assert KEY not in str(info.value)
    assert len(harness.vendor.chat_requests()) == 1, "401 is not retried"


async def test_429_with_retry_after_is_retried_then_surfaced(harness: Harness) -> None:
    limited = Fail(429, "Rate limit reached", error_type="rate_limit_error",
                   headers={"retry-after": "0"})
    harness.vendor.then(limited, limited, limited)
    with pytest.raises(RateLimitError) as info:
        await harness.run(hello())
    assert info.value.retry_after == 0
    assert len(harness.vendor.chat_requests()) == 3, "1 try + 2 retries"


async def test_429_then_success(harness: Harness) -> None:
    harness.vendor.then(Fail(429, "slow down", headers={"retry-after": "0"}), Reply())
    result = collect(await harness.run(hello()))
    assert result.text == "Hello, world!"
    assert len(harness.vendor.chat_requests()) == 2


async def test_500_is_retried(harness: Harness) -> None:
    harness.vendor.then(Fail(500, "internal error", error_type="api_error"), Reply())
    result = collect(await harness.run(hello()))
    assert result.complete and result.text == "Hello, world!"
    assert len(harness.vendor.chat_requests()) == 2


async def test_stream_broken_midway_keeps_partial_text(harness: Harness) -> None:
    harness.vendor.then(Break(Reply(chunks=["Part one. ", "Part two. ", "Never sent."]), after=2))
    events = await harness.run(hello())
    assert isinstance(events[-1], ErrorEvent)
    result = collect(events)
    assert result.text == "Part one. Part two. "
    assert result.error is not None
    assert len(harness.vendor.chat_requests()) == 1, "never retried after the first event"


async def test_read_timeout_mid_stream(harness: Harness) -> None:
    harness.vendor.then(Stall(Reply(chunks=["Slow ", "answer"]), after=1, seconds=3.0))
    events = await harness.run(hello(), timeout=0.3)
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, UpstreamTimeoutError)
    assert collect(events).text == "Slow "
