"""Recorded Anthropic streams (fixtures/*.sse, shaped like the streaming guide's examples)
through the stream converter, and through the whole adapter via the fake vendor."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.providers.anthropic.convert_request import build_request
from switchboard.providers.anthropic.convert_stream import StreamConverter
from switchboard.providers.anthropic.map_finish import map_finish
from switchboard.spec import (
    ChatRequest,
    ErrorEvent,
    Finish,
    Message,
    OverloadedError,
    ReasoningPart,
    ResponseMetadata,
    StreamBrokenError,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolCallPart,
    ToolCallStart,
    collect,
)
from switchboard.upstream import RetryPolicy, SSEDecoder, retrying_stream
from tests.fakes.script import Raw
from tests.providers.anthropic.conftest import Fake, fixture_bytes

WEATHER = Tool(name="get_weather", parameters={"type": "object", "properties": {
    "location": {"type": "string"}}})


def convert(name: str, chunk: int | None = None, **kwargs: Any) -> list[StreamEvent]:
    """Decode fixture ``name`` (optionally in ``chunk``-byte pieces) and convert it."""
    raw = fixture_bytes(name)
    pieces = [raw] if chunk is None else [raw[i:i + chunk] for i in range(0, len(raw), chunk)]
    decoder = SSEDecoder()
    converter = StreamConverter(**kwargs)
    events: list[StreamEvent] = []
    for piece in pieces:
        for sse in decoder.feed(piece):
            events += converter.feed(sse.event, sse.data)
    for sse in decoder.flush():
        events += converter.feed(sse.event, sse.data)
    return events


def test_text_stream() -> None:
    events = convert("text_stream.sse", request_id="req_1")
    assert events[0] == ResponseMetadata(
        response_id="msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
        model="claude-sonnet-4-5-20250929", request_id="req_1")
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello", "!"]
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert (finish.finish_reason.unified, finish.finish_reason.raw) == ("stop", "end_turn")
    assert (finish.usage.input_tokens, finish.usage.output_tokens) == (25, 15)
    assert finish.usage.cached_input_tokens is None, "not reported, so unknown"
    assert len(events) == 4, "ping, block start/stop and message_delta yield nothing"


def test_split_into_small_chunks_gives_the_same_events() -> None:
    assert convert("tool_use_stream.sse", chunk=7) == convert("tool_use_stream.sse")


def test_tool_use_stream() -> None:
    events = convert("tool_use_stream.sse")
    [start] = [e for e in events if isinstance(e, ToolCallStart)]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    call = events[-2]
    assert events.index(start) < events.index(deltas[0]), "start comes before the deltas"
    assert (start.id, start.name) == ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather")
    assert len(deltas) == 8, "the empty first partial_json is not a delta"
    assert isinstance(call, ToolCall)
    assert call.arguments == "".join(d.arguments_delta for d in deltas)
    assert json.loads(call.arguments) == {"location": "San Francisco, CA", "unit": "fahrenheit"}
    result = collect(events)
    assert result.text == "Okay, let's check the weather for San Francisco, CA:"
    assert result.finish_reason is not None and result.finish_reason.unified == "tool_calls"
    assert result.usage.output_tokens == 89
    assert [type(p) for p in result.parts] == [TextPart, ToolCallPart]


def test_thinking_stream_keeps_the_signature() -> None:
    result = collect(convert("thinking_stream.sse"))
    reasoning, text = result.parts
    assert isinstance(reasoning, ReasoningPart)
    assert reasoning.text.startswith("I need to find the GCD of 1071 and 462")
    assert reasoning.text.endswith("So GCD(1071, 462) = 21")
    assert reasoning.provider_metadata == {
        "anthropic": {"signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."}}
    assert isinstance(text, TextPart) and "**21**" in text.text
    assert (result.usage.input_tokens, result.usage.output_tokens) == (48, 212)
    assert (result.usage.cached_input_tokens, result.usage.cache_write_tokens) == (0, 0)


def test_redacted_thinking_is_kept_and_echoed_back_verbatim() -> None:
    result = collect(convert("redacted_thinking_stream.sse"))
    redacted, call = result.parts
    assert isinstance(redacted, ReasoningPart) and redacted.text == ""
    assert redacted.provider_metadata == {"anthropic": {
        "redacted_data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"}}
    assert isinstance(call, ToolCallPart) and json.loads(call.arguments) == {"location": "Paris"}
    history = [Message.user("Weather in Paris?"), result.message,
               Message.tool_result(call.id, "21C")]
    plan = build_request(ChatRequest(messages=history, tools=[WEATHER]),
                         "claude-3-7-sonnet-20250219", stream=True)
    assert plan.body["messages"][1]["content"] == [
        {"type": "redacted_thinking",
         "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"},
        {"type": "tool_use", "id": "toolu_01CswdEQBMshySk6Y9DFKrfq", "name": "get_weather",
         "input": {"location": "Paris"}},
    ]
    assert plan.warnings == []


def test_cache_usage_is_added_into_input_tokens() -> None:
    result = collect(convert("cached_usage_stream.sse"))
    usage = result.usage
    assert usage.input_tokens == 21 + 188 + 1800
    assert usage.cached_input_tokens == 1800
    assert usage.cache_write_tokens == 188
    assert usage.output_tokens == 393
    assert usage.reasoning_tokens is None
    assert usage.raw["service_tier"] == "standard"
    assert result.finish_reason is not None
    assert (result.finish_reason.unified, result.finish_reason.raw) == ("length", "max_tokens")


def test_in_band_error_event() -> None:
    events = convert("error_stream.sse", request_id="req_9")
    error = events[-1]
    assert isinstance(error, ErrorEvent)
    assert isinstance(error.error, OverloadedError)
    assert error.error.retryable and error.error.request_id == "req_9"
    assert "Overloaded" in str(error.error)
    assert error.usage is not None and error.usage.input_tokens == 25
    assert collect(events).text == "Once upon"


def test_truncated_stream_is_not_done() -> None:
    converter = StreamConverter()
    decoder = SSEDecoder()
    for sse in decoder.feed(fixture_bytes("truncated_stream.sse")) + decoder.flush():
        converter.feed(sse.event, sse.data)
    assert not converter.done
    assert converter.usage is not None and converter.usage.output_tokens == 15


def test_unknown_events_and_blocks_are_ignored() -> None:
    converter = StreamConverter()
    assert converter.feed("content_block_start", json.dumps({
        "type": "content_block_start", "index": 0, "content_block": {
            "type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}}
    )) == []
    assert converter.feed("content_block_delta", json.dumps({
        "type": "content_block_delta", "index": 0,
        "delta": {"type": "input_json_delta", "partial_json": "{\"q\":"}})) == []
    assert converter.feed("content_block_stop", '{"type":"content_block_stop","index":0}') == []
    assert converter.feed("brand_new_event", '{"type":"brand_new_event"}') == []
    assert not converter.done


def test_unreadable_event_ends_the_stream_with_an_error() -> None:
    converter = StreamConverter(provider="claude")
    [event] = converter.feed("message_start", "{not json")
    assert isinstance(event, ErrorEvent) and isinstance(event.error, StreamBrokenError)
    assert "claude" in str(event.error) and converter.done


@pytest.mark.parametrize(("raw", "unified"), [
    ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"),
    ("tool_use", "tool_calls"), ("refusal", "content_filter"), ("pause_turn", "other"),
    ("model_context_window_exceeded", "length"), ("something_new", "other"), (None, "other"),
])
def test_stop_reasons(raw: str | None, unified: str) -> None:
    reason = map_finish(raw)
    assert (reason.unified, reason.raw) == (unified, raw)


# -- the same recordings through the whole adapter ------------------------------------
NO_WAIT = RetryPolicy(max_retries=2, initial_delay=0.0, max_delay=0.0)


async def test_request_id_header_reaches_the_metadata(fake: Fake) -> None:
    fake.vendor.then(Raw(body=fixture_bytes("text_stream.sse"), content_type="text/event-stream",
                         headers={"request-id": "req_011CSHoEeqs5C35K2UUqR7Fy"}))
    events = [e async for e in fake.model().stream(ChatRequest(messages=[Message.user("Hi")]))]
    assert isinstance(events[0], StreamStart)
    result = collect(events)
    assert result.metadata.request_id == "req_011CSHoEeqs5C35K2UUqR7Fy"
    assert result.metadata.response_id == "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"
    assert result.metadata.model == "claude-sonnet-4-5-20250929"
    assert result.text == "Hello!" and result.complete


async def test_stream_without_message_stop_is_broken(fake: Fake) -> None:
    fake.vendor.then(Raw(body=fixture_bytes("truncated_stream.sse"),
                         content_type="text/event-stream"))
    events = [e async for e in fake.model().stream(ChatRequest(messages=[Message.user("Hi")]))]
    error = events[-1]
    assert isinstance(error, ErrorEvent) and isinstance(error.error, StreamBrokenError)
    assert "message_stop" in str(error.error)
    assert error.usage is not None and error.usage.output_tokens == 15
    assert collect(events).text == "Hello!"


async def test_in_band_error_after_output_is_not_retried(fake: Fake) -> None:
    fake.vendor.then(Raw(body=fixture_bytes("error_stream.sse"),
                         content_type="text/event-stream"))
    model = fake.model()
    request = ChatRequest(messages=[Message.user("Tell a story")])
    events = [e async for e in retrying_stream(lambda: model.stream(request), NO_WAIT,
                                               provider="anthropic")]
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, OverloadedError)
    assert collect(events).text == "Once upon"
    assert len(fake.vendor.chat_requests()) == 1
