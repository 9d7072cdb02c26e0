"""Recorded non-streaming Messages API responses (fixtures/*.json, shaped like the API
reference's examples) through ``generate()`` via the fake vendor."""

from __future__ import annotations

import json

import pytest

from switchboard.spec import (
    ChatRequest,
    Message,
    OverloadedError,
    ReasoningPart,
    ResponseFormatJsonSchema,
    StreamBrokenError,
    TextDelta,
    TextPart,
    Tool,
    ToolCallPart,
    ToolCallStart,
    collect,
)
from tests.fakes.script import Raw, Reply, ScriptToolCall
from tests.providers.anthropic.conftest import Fake, fixture_bytes

HELLO = ChatRequest(messages=[Message.user("Hello")], max_output_tokens=100)
PERSON = {"type": "object", "properties": {"name": {"type": "string"},
                                           "born": {"type": "integer"}}}


def recorded(name: str, status: int = 200) -> Raw:
    return Raw(status=status, body=fixture_bytes(name), headers={"request-id": "req_rec_1"})


async def test_text_message_usage(fake: Fake) -> None:
    fake.vendor.then(recorded("message_text.json"))
    result = await fake.model().generate(HELLO)
    assert result.text == "Hi! My name is Claude."
    assert result.finish_reason is not None and result.finish_reason.raw == "end_turn"
    assert result.usage.input_tokens == 2095 + 2051 + 2051
    assert result.usage.cached_input_tokens == 2051
    assert result.usage.cache_write_tokens == 2051
    assert result.usage.output_tokens == 503
    assert result.metadata.response_id == "msg_013Zva2CMHLNnXjNJJKqJ2EF"
    assert result.metadata.request_id == "req_rec_1"
    assert "stream" not in fake.vendor.last.body


async def test_tool_use_message(fake: Fake) -> None:
    fake.vendor.then(recorded("message_tool_use.json"))
    tool = Tool(name="get_weather", parameters={"type": "object", "properties": {}})
    result = await fake.model().generate(
        ChatRequest(messages=[Message.user("Weather?")], tools=[tool]))
    assert result.finish_reason is not None and result.finish_reason.unified == "tool_calls"
    [call] = result.tool_calls
    assert call.id == "toolu_01A09q90qw90lq917835lq9" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"location": "San Francisco, CA", "unit": "celsius"}
    assert [type(p) for p in result.parts] == [TextPart, ToolCallPart]


async def test_thinking_message(fake: Fake) -> None:
    fake.vendor.then(recorded("message_thinking.json"))
    result = await fake.model("claude-3-7-sonnet-20250219").generate(HELLO)
    thinking, redacted, text = result.parts
    assert isinstance(thinking, ReasoningPart) and isinstance(redacted, ReasoningPart)
    assert thinking.text == "Let me analyze this step by step..."
    assert thinking.provider_metadata is not None
    assert thinking.provider_metadata["anthropic"]["signature"].startswith("WaUjzkypQ2mUEVM3")
    assert redacted.provider_metadata is not None
    assert redacted.provider_metadata["anthropic"]["redacted_data"].startswith("EmwKAhgB")
    assert isinstance(text, TextPart) and result.text == "Based on my analysis..."
    assert result.usage.output_tokens == 1730


async def test_stop_sequence_message(fake: Fake) -> None:
    fake.vendor.then(recorded("message_stop_sequence.json"))
    result = await fake.model().generate(
        ChatRequest(messages=[Message.user("List fruit")], stop=["3."]))
    assert result.finish_reason is not None
    assert (result.finish_reason.unified, result.finish_reason.raw) == ("stop", "stop_sequence")
    assert result.metadata.extra == {"stop_sequence": "3."}


async def test_json_schema_answer_comes_back_as_text(fake: Fake) -> None:
    fake.vendor.then(recorded("message_json_answer.json"))
    request = ChatRequest(messages=[Message.user("Who wrote the first program?")],
                          response_format=ResponseFormatJsonSchema(name="person", schema=PERSON))
    result = await fake.model().generate(request)
    assert json.loads(result.text) == {"name": "Ada Lovelace", "born": 1815}
    assert result.tool_calls == []
    assert result.finish_reason is not None
    assert (result.finish_reason.unified, result.finish_reason.raw) == ("stop", "tool_use")


async def test_json_schema_answer_when_streamed(fake: Fake) -> None:
    answer = ScriptToolCall(id="toolu_01JsonAnswer", name="json_response",
                            arguments='{"name": "Ada Lovelace", "born": 1815}', chunks=3)
    fake.vendor.then(Reply(chunks=[], tool_calls=[answer], finish="tool_calls"))
    request = ChatRequest(messages=[Message.user("Who wrote the first program?")],
                          response_format=ResponseFormatJsonSchema(name="person", schema=PERSON))
    events = [e async for e in fake.model().stream(request)]
    assert not any(isinstance(e, ToolCallStart) for e in events)
    assert len([e for e in events if isinstance(e, TextDelta)]) == 3
    result = collect(events)
    assert json.loads(result.text) == {"name": "Ada Lovelace", "born": 1815}
    assert result.finish_reason is not None and result.finish_reason.unified == "stop"


async def test_overloaded_529(fake: Fake) -> None:
    fake.vendor.then(recorded("error_overloaded.json", status=529))
    with pytest.raises(OverloadedError) as info:
        await fake.model().generate(HELLO)
    assert info.value.status == 529 and info.value.retryable
    assert info.value.vendor_type == "overloaded_error"
    assert info.value.request_id == "req_rec_1"


async def test_a_body_that_is_not_a_message_is_a_clear_error(fake: Fake) -> None:
    fake.vendor.then(Raw(body=b"[]"))
    with pytest.raises(StreamBrokenError, match="not a JSON object"):
        await fake.model().generate(HELLO)
