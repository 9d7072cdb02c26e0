"""Anthropic Messages wire <-> neutral: the pure translation, both ways. Output is checked
against Anthropic's spec (../shared/specs; that copy predates thinking, so thinking
blocks and their deltas are checked against the installed SDK's types instead)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from anthropic.types import Message as SdkMessage
from anthropic.types import RawMessageStreamEvent
from pydantic import TypeAdapter

from switchboard.api.anthropic.convert_request import parse
from switchboard.api.anthropic.render import EventEncoder, message_body, usage_body
from switchboard.api.anthropic.wire import CountTokensRequest, MessagesRequest
from switchboard.spec import (
    ChatResult,
    ErrorEvent,
    Finish,
    FinishReason,
    ImageOutput,
    ImagePart,
    InvalidRequestError,
    OverloadedError,
    ReasoningDelta,
    ReasoningPart,
    ResponseMetadata,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallPart,
    ToolCallStart,
    ToolResultPart,
    Usage,
    collect,
)
from tests.api.translate_support import PIXEL
from tests.api.translate_support import named_events as sse_events
from tests.spec_validation import spec_available, validate_component

TOOL = {"name": "get_weather", "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


def test_a_tool_conversation_with_thinking_translates() -> None:
    _, chat, warnings = parse({
        "model": "openai:gpt-4o-mini", "max_tokens": 300,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Weather in Oslo? Here is a map."},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": PIXEL}}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Need the tool.", "signature": "sig-1"},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather",
                 "input": {"city": "Oslo"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": [
                    {"type": "text", "text": "-5C"}]},
                {"type": "text", "text": "And tomorrow?"}]}],
        "tools": [TOOL], "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "thinking": {"type": "enabled", "budget_tokens": 4000},
        "stop_sequences": ["END"], "top_k": 5, "metadata": {"user_id": "u-1"}},
        MessagesRequest)
    assert warnings == []
    assert chat.system == "Be brief."
    assert [m.role for m in chat.messages] == ["user", "assistant", "tool", "user"]
    assert isinstance(chat.messages[0].parts[1], ImagePart)
    thinking, call = chat.messages[1].parts
    assert isinstance(thinking, ReasoningPart)
    assert thinking.provider_metadata == {"anthropic": {"signature": "sig-1"}}
    assert isinstance(call, ToolCallPart) and json.loads(call.arguments) == {"city": "Oslo"}
    result = chat.messages[2].parts[0]
    assert isinstance(result, ToolResultPart) and result.content == "-5C"
    assert chat.messages[3].text == "And tomorrow?"
    assert chat.tool_choice == "required" and chat.parallel_tool_calls is False
    assert chat.max_output_tokens == 300 and chat.stop == ["END"] and chat.top_k == 5
    assert chat.user == "u-1"
    # Anthropic models get the thinking object itself; the others the nearest effort.
    assert chat.provider_options["anthropic"]["thinking"] == {"type": "enabled",
                                                             "budget_tokens": 4000}
    assert chat.reasoning_effort == "low"


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "frequency": 1},
     "frequency", "Extra inputs are not permitted"),
    ({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}],
      "tools": [{"type": "web_search_20250305", "name": "web_search"}]},
     "tools.0.type", "web_search_20250305"),
    ({"max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "server_tool_use", "id": "x", "name": "web_search", "input": {}}]}]},
     "messages.0.content.0", "server_tool_use"),
    ({"max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": "not base64!"}}]}]},
     "messages.0.content.0.source.data", "base64"),
    ({"messages": [{"role": "user", "content": "x"}]}, "max_tokens", "Field required"),
    ({"max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}, "max_tokens", "1"),
    ({"max_tokens": 5, "messages": [{"role": "assistant", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": "x"}]}]},
     "messages.0.content.0", "not allowed"),
])
def test_bad_input_names_the_field(body: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse({"model": "offline:offline-chat", **body}, MessagesRequest)
    assert caught.value.param == param
    assert words in caught.value.message


def test_count_tokens_takes_no_max_tokens() -> None:
    _, chat, _ = parse({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                        "tools": [TOOL]}, CountTokensRequest)
    assert chat.tools is not None and chat.max_output_tokens is None


STREAM_EVENTS = TypeAdapter(RawMessageStreamEvent)


_COMPONENTS = {"message_start": "MessageStartEvent",
               "content_block_start": "ContentBlockStartEvent",
               "content_block_delta": "ContentBlockDeltaEvent",
               "content_block_stop": "ContentBlockStopEvent",
               "message_delta": "MessageDeltaEvent", "message_stop": "MessageStopEvent",
               "error": "ErrorResponse"}


def _thinking(data: dict[str, Any]) -> bool:
    block = data.get("content_block") or data.get("delta") or {}
    return "thinking" in str(block.get("type")) or block.get("type") == "signature_delta"


def test_stream_events_follow_anthropics_order_and_schema() -> None:
    usage = Usage(input_tokens=120, output_tokens=30, cached_input_tokens=100,
                  cache_write_tokens=5)
    events = [StreamStart(), ResponseMetadata(response_id="x"),
              ReasoningDelta("Let me ", "r0"), ReasoningDelta("check.", "r0"),
              ReasoningDelta("", "r0", {"anthropic": {"signature": "sig"}}),
              TextDelta("Checking"), TextDelta(" now."),
              ToolCallStart("call_1", "get_weather"), ToolCallDelta("call_1", '{"city":'),
              ToolCallDelta("call_1", '"Oslo"}'), ToolCall("call_1", "get_weather",
                                                           '{"city":"Oslo"}'),
              ToolCall("call_2", "get_time", '{"tz":"CET"}'),
              Finish(FinishReason("tool_calls"), usage)]
    encoder = EventEncoder("msg_1", "openai:gpt-4o-mini")
    raw = b"".join(encoder.encode(e) for e in events)
    got = sse_events(raw)
    names = [n for n, _ in got]
    assert names == ["message_start", "ping",
                     "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_delta", "content_block_stop",
                     "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_stop",
                     "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_stop",
                     "content_block_start", "content_block_delta", "content_block_stop",
                     "message_delta", "message_stop"]
    for name, data in got:
        assert data["type"] == name
        if name != "ping":  # the SDK's own types (thinking included); ping is skipped
            STREAM_EVENTS.validate_python(data)
        if spec_available("anthropic") and name in _COMPONENTS and not _thinking(data):
            validate_component("anthropic", _COMPONENTS[name], data)
    assert [d["index"] for n, d in got if n == "content_block_start"] == [0, 1, 2, 3]
    delta = got[-2][1]
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert delta["usage"] == {"input_tokens": 15, "output_tokens": 30,
                              "cache_creation_input_tokens": 5, "cache_read_input_tokens": 100}
    assert got[5][1]["delta"] == {"type": "signature_delta", "signature": "sig"}
    args = "".join(d["delta"].get("partial_json", "") for n, d in got[11:15]
                   if n == "content_block_delta")
    assert json.loads(args) == {"city": "Oslo"}


def test_an_error_mid_stream_is_an_error_event() -> None:
    encoder = EventEncoder("msg_1", "m")
    raw = b"".join(encoder.encode(e) for e in [
        StreamStart(), TextDelta("Part"),
        ErrorEvent(OverloadedError("vendor overloaded", provider="x"))])
    got = sse_events(raw)
    assert [n for n, _ in got][-2:] == ["content_block_stop", "error"]
    assert got[-1][1] == {"type": "error", "error": {"type": "overloaded_error",
                                                     "message": "vendor overloaded"}}
    if spec_available("anthropic"):
        validate_component("anthropic", "ErrorResponse", got[-1][1])


def _result(events: list[Any]) -> ChatResult:
    return collect(events)


def test_message_body_matches_the_spec_and_the_sdk() -> None:
    result = _result([StreamStart(), TextDelta("Cold."), ToolCall("c1", "get_weather",
                                                                  '{"city":"Oslo"}'),
                      Finish(FinishReason("tool_calls"), Usage(input_tokens=9,
                                                              output_tokens=4))])
    body = message_body(result, "msg_1", "anthropic:claude-sonnet-4-5")
    if spec_available("anthropic"):
        validate_component("anthropic", "Message", body)
    message = SdkMessage.model_validate(body)
    assert message.stop_reason == "tool_use"
    assert [b.type for b in message.content] == ["text", "tool_use"]
    assert body["content"][1]["input"] == {"city": "Oslo"}
    thinking = _result([StreamStart(), ReasoningDelta("Hm.", "0", {"anthropic": {
        "signature": "s"}}), TextDelta("Yes."),
        Finish(FinishReason("stop"), Usage())])
    body = message_body(thinking, "msg_2", "m")
    assert body["content"][0] == {"type": "thinking", "thinking": "Hm.", "signature": "s"}
    SdkMessage.model_validate(body)


def test_usage_excludes_cache_tokens_from_input() -> None:
    assert usage_body(Usage(input_tokens=10, output_tokens=2, cached_input_tokens=7)) == {
        "input_tokens": 3, "output_tokens": 2, "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 7}


DRAWN: list[StreamEvent] = [StreamStart(), TextDelta("Here is "), TextDelta("a cat:"),
         ImageOutput(base64.b64decode(PIXEL)), TextDelta(" Enjoy."),
         Finish(FinishReason("stop"), Usage(input_tokens=5, output_tokens=1300))]
PICTURE = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                       "data": PIXEL}}


def _check_picture_block(block: dict[str, Any]) -> dict[str, Any]:
    """The picture block validated as the image block Anthropic's spec defines (for
    input: its response blocks have none, decision 0232); a text block in its place
    for validating what holds it."""
    assert block == PICTURE
    if spec_available("anthropic"):
        validate_component("anthropic", "RequestImageBlock", block)
    return {"type": "text", "text": "(picture)"}


def test_a_picture_streams_as_an_image_block_in_its_place() -> None:
    encoder = EventEncoder("msg_3", "gemini:gemini-2.5-flash-image")
    got = sse_events(b"".join(encoder.encode(e) for e in DRAWN))
    assert [n for n, _ in got] == [
        "message_start", "ping",
        "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop",
        "content_block_start", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_stop",
        "message_delta", "message_stop"]
    assert [d["index"] for n, d in got if n.startswith("content_block")] == [
        0, 0, 0, 0, 1, 1, 2, 2, 2]
    for name, data in got:
        if name == "content_block_start" and data["content_block"]["type"] == "image":
            data = {**data, "content_block": _check_picture_block(data["content_block"])}
        if name != "ping":
            STREAM_EVENTS.validate_python(data)
        if spec_available("anthropic") and name in _COMPONENTS:
            validate_component("anthropic", _COMPONENTS[name], data)
    assert got[-2][1]["usage"]["output_tokens"] == 1300, "usage as the vendor counted it"


def test_a_picture_in_the_message_body_and_back_in_the_next_turn() -> None:
    body = message_body(collect(DRAWN), "msg_4", "gemini:gemini-2.5-flash-image")
    assert [b["type"] for b in body["content"]] == ["text", "image", "text"]
    checked = {**body, "content": [b if b["type"] != "image" else _check_picture_block(b)
                                   for b in body["content"]]}
    if spec_available("anthropic"):
        validate_component("anthropic", "Message", checked)
    SdkMessage.model_validate(checked)
    # A client keeps the conversation: the answer's blocks go back as the assistant's
    # turn, the picture between its two texts.
    _, chat, warnings = parse({
        "model": "m", "max_tokens": 100, "messages": [
            {"role": "user", "content": "a cat"},
            {"role": "assistant", "content": body["content"]},
            {"role": "user", "content": "now a dog"}]}, MessagesRequest)
    assert warnings == []
    _, picture, _ = chat.messages[1].parts
    assert isinstance(picture, ImagePart) and picture.data == PIXEL
    assert chat.messages[1].text == "Here is a cat: Enjoy."
