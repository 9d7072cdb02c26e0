"""OpenAI Responses wire <-> neutral: the pure translation, both ways. Output is checked
against OpenAI's OpenAPI spec (../shared/specs) and the official SDK's types."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from openai.types.responses import Response as SdkResponse
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from switchboard.api.responses.convert_request import (
    decode_reasoning,
    encode_reasoning,
    parse,
    to_chat_request,
)
from switchboard.api.responses.render import EventEncoder, Frame, response_body
from switchboard.spec import (
    ErrorEvent,
    Finish,
    FinishReason,
    ImageOutput,
    ImagePart,
    InvalidRequestError,
    Message,
    ReasoningDelta,
    ReasoningPart,
    ResponseFormatJsonSchema,
    ServerError,
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
from tests.api.translate_support import PIXEL, named_events
from tests.spec_validation import spec_available, validate_component

FN = {"type": "function", "name": "get_weather", "description": "Weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}


def translate(body: dict[str, Any], history: list[Message] | None = None) -> Any:
    return to_chat_request(parse({"model": "offline:offline-chat", **body}), history)[0]


def test_string_input_and_instructions() -> None:
    chat = translate({"input": "Hello", "instructions": "Be brief.", "max_output_tokens": 50,
                      "reasoning": {"effort": "high"}})
    assert chat.system == "Be brief." and chat.messages[0].text == "Hello"
    assert chat.max_output_tokens == 50 and chat.reasoning_effort == "high"


def test_items_fold_into_neutral_messages() -> None:
    meta = {"anthropic": {"signature": "sig-1"}}
    chat = translate({"input": [
        {"role": "developer", "content": "Use tools."},
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Oslo?"},
                                     {"type": "input_image",
                                      "image_url": f"data:image/png;base64,{PIXEL}"}]},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text",
                                                         "text": "Need the tool."}],
         "encrypted_content": encode_reasoning(meta)},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather",
         "arguments": '{"city":"Oslo"}'},
        {"type": "function_call", "call_id": "call_2", "name": "get_weather",
         "arguments": '{"city":"Bergen"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "-5C"},
        {"type": "function_call_output", "call_id": "call_2", "output": "2C"},
    ], "tools": [FN], "tool_choice": {"type": "function", "name": "get_weather"},
        "text": {"format": {"type": "json_schema", "name": "w", "strict": True,
                            "schema": {"type": "object", "properties": {}}}}})
    assert [m.role for m in chat.messages] == ["system", "user", "assistant", "tool"]
    assert isinstance(chat.messages[1].parts[1], ImagePart)
    reasoning, first, second = chat.messages[2].parts
    assert isinstance(reasoning, ReasoningPart) and reasoning.provider_metadata == meta
    assert isinstance(first, ToolCallPart) and isinstance(second, ToolCallPart)
    assert [p.tool_call_id for p in chat.messages[3].parts
            if isinstance(p, ToolResultPart)] == ["call_1", "call_2"]
    assert isinstance(chat.response_format, ResponseFormatJsonSchema)
    assert chat.tools is not None and chat.tools[0].name == "get_weather"


def test_history_comes_first() -> None:
    history = [Message.user("Hi"), Message.assistant("Hello!")]
    chat = translate({"input": "And you?"}, history)
    assert [m.text for m in chat.messages] == ["Hi", "Hello!", "And you?"]


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"input": "x", "tools": [{"type": "web_search_preview"}]}, "tools[0].type",
     "'web_search_preview'"),
    ({"input": "x", "tools": [{"type": "file_search", "vector_store_ids": ["v"]}]},
     "tools[0].type", "'file_search'"),
    ({"input": "x", "tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]},
     "tools[0].type", "'code_interpreter'"),
    ({"input": "x", "tool_choice": {"type": "web_search_preview"}}, "tool_choice.type",
     "web_search_preview"),
    ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type",
     "previous_response_id"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
     "input[0].content[0]", "file ids"),
    ({"input": "x", "background": True}, "background", "stream"),
    ({"input": "x", "temperatur": 1}, "temperatur", "Unrecognized"),
    ({}, "input", "input item"),
    ({"input": [{"type": "function_call", "name": "f"}]}, "input[0].call_id", "required"),
])
def test_bad_input_names_the_param(body: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        translate(body)
    assert caught.value.param == param
    assert words in caught.value.message


def test_foreign_encrypted_content_is_ignored() -> None:
    assert decode_reasoning("gAAAAABo-openai-own-encrypted") is None
    assert decode_reasoning("sb1:!!!") is None
    assert decode_reasoning(encode_reasoning({"gemini": {"sig": "x"}})) == {
        "gemini": {"sig": "x"}}


EVENTS = TypeAdapter(ResponseStreamEvent)
ECHO = {"instructions": None, "max_output_tokens": None, "metadata": {},
        "parallel_tool_calls": True, "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None}, "store": True, "temperature": 1.0,
        "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [FN | {
            "strict": None}], "top_p": 1.0, "truncation": "disabled"}


def sse(raw: bytes) -> list[dict[str, Any]]:
    """The events' data, each checked to carry its event's name as its ``type``."""
    events = named_events(raw)
    assert all(data["type"] == name for name, data in events)
    return [data for _, data in events]


_COMPONENTS = {
    "response.created": "ResponseCreatedEvent", "response.in_progress":
    "ResponseInProgressEvent", "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent",
    "response.output_text.done": "ResponseTextDoneEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.completed": "ResponseCompletedEvent",
    "response.incomplete": "ResponseIncompleteEvent",
    "response.failed": "ResponseFailedEvent", "error": "ResponseErrorEvent",
    "response.reasoning_summary_part.added": "ResponseReasoningSummaryPartAddedEvent",
    "response.reasoning_summary_text.delta": "ResponseReasoningSummaryTextDeltaEvent",
    "response.reasoning_summary_text.done": "ResponseReasoningSummaryTextDoneEvent",
    "response.reasoning_summary_part.done": "ResponseReasoningSummaryPartDoneEvent",
}


def check(events: list[dict[str, Any]]) -> None:
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    for event in events:
        EVENTS.validate_python(event)
        if spec_available("openai"):
            validate_component("openai", _COMPONENTS[event["type"]], event)


def test_stream_follows_openais_sequence() -> None:
    usage = Usage(input_tokens=50, output_tokens=20, cached_input_tokens=30,
                  reasoning_tokens=8)
    encoder = EventEncoder(Frame("resp_1", 1700000000, "offline:offline-chat", dict(ECHO)))
    raw = b"".join(encoder.encode(e) for e in [
        StreamStart(), ReasoningDelta("Think", "r"),
        ReasoningDelta("", "r", {"anthropic": {"signature": "s"}}),
        TextDelta("Hel"), TextDelta("lo"), ToolCallStart("call_1", "get_weather"),
        ToolCallDelta("call_1", '{"city":'), ToolCallDelta("call_1", '"Oslo"}'),
        ToolCall("call_1", "get_weather", '{"city":"Oslo"}'),
        Finish(FinishReason("tool_calls"), usage)])
    events = sse(raw)
    check(events)
    assert [e["type"] for e in events] == [
        "response.created", "response.in_progress",
        "response.output_item.added", "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done", "response.output_item.done",
        "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added", "response.function_call_arguments.delta",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.output_item.done", "response.completed"]
    final = events[-1]["response"]
    response = SdkResponse.model_validate(final)
    assert response.output_text == "Hello"
    assert [o.type for o in response.output] == ["reasoning", "message", "function_call"]
    assert final["usage"]["input_tokens_details"]["cached_tokens"] == 30
    assert final["usage"]["output_tokens_details"]["reasoning_tokens"] == 8
    assert decode_reasoning(final["output"][0]["encrypted_content"]) == {
        "anthropic": {"signature": "s"}}


def test_a_failure_mid_stream_is_error_then_failed() -> None:
    encoder = EventEncoder(Frame("resp_2", 1700000000, "m", dict(ECHO)))
    raw = b"".join(encoder.encode(e) for e in [
        StreamStart(), TextDelta("Par"), ErrorEvent(ServerError("upstream broke"))])
    events = sse(raw)
    check(events)
    assert [e["type"] for e in events][-2:] == ["error", "response.failed"]
    assert events[-1]["response"]["error"]["message"] == "upstream broke"


def test_cut_by_max_output_tokens_is_incomplete() -> None:
    encoder = EventEncoder(Frame("resp_3", 1700000000, "m", dict(ECHO)))
    events = sse(b"".join(encoder.encode(e) for e in [
        StreamStart(), TextDelta("Long"), Finish(FinishReason("length"), Usage())]))
    check(events)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_response_body_matches_the_spec() -> None:
    result = collect([StreamStart(), TextDelta("Cold."),
                      ToolCall("call_9", "get_weather", '{"city":"Oslo"}'),
                      Finish(FinishReason("tool_calls"), Usage(input_tokens=3,
                                                              output_tokens=4))])
    body = response_body(Frame("resp_4", 1700000000, "m", dict(ECHO)), result)
    if spec_available("openai"):
        validate_component("openai", "Response", body)
    response = SdkResponse.model_validate(body)
    assert response.status == "completed" and response.output_text == "Cold."
    assert body["output"][1]["call_id"] == "call_9"


_COMPONENTS.update({
    "response.image_generation_call.in_progress": "ResponseImageGenCallInProgressEvent",
    "response.image_generation_call.generating": "ResponseImageGenCallGeneratingEvent",
    "response.image_generation_call.completed": "ResponseImageGenCallCompletedEvent",
})
DRAWN: list[StreamEvent] = [StreamStart(), TextDelta("Here is "), TextDelta("a cat:"),
         ImageOutput(base64.b64decode(PIXEL)), TextDelta(" Enjoy."),
         Finish(FinishReason("stop"), Usage(input_tokens=5, output_tokens=1300))]


def test_a_picture_streams_as_an_image_generation_call_in_its_place() -> None:
    encoder = EventEncoder(Frame("resp_5", 1700000000, "gemini:gemini-2.5-flash-image",
                                 dict(ECHO)))
    events = sse(b"".join(encoder.encode(e) for e in DRAWN))
    check(events)
    assert [e["type"] for e in events] == [
        "response.created", "response.in_progress",
        "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added", "response.image_generation_call.in_progress",
        "response.image_generation_call.generating",
        "response.image_generation_call.completed", "response.output_item.done",
        "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed"]
    added, *progress, done = events[9:14]
    assert added["output_index"] == 1 and added["item"]["status"] == "in_progress"
    assert added["item"]["result"] is None
    item_id = added["item"]["id"]
    assert item_id.startswith("ig_")
    assert all(e["output_index"] == 1 and e["item_id"] == item_id for e in progress)
    assert done["item"] == {"type": "image_generation_call", "id": item_id,
                            "status": "completed", "result": PIXEL, "output_format": "png"}
    assert events[14]["output_index"] == 2
    final = events[-1]["response"]
    response = SdkResponse.model_validate(final)
    assert [o.type for o in response.output] == [
        "message", "image_generation_call", "message"]
    assert response.output_text == "Here is a cat: Enjoy."
    assert final["output"][1] == done["item"]
    assert final["usage"]["output_tokens"] == 1300, "usage as the vendor counted it"


def test_a_picture_in_the_response_body_and_back_as_input() -> None:
    body = response_body(Frame("resp_6", 1700000000, "m", dict(ECHO)), collect(DRAWN))
    if spec_available("openai"):
        validate_component("openai", "Response", body)
        validate_component("openai", "ImageGenToolCall", body["output"][1])
    response = SdkResponse.model_validate(body)
    assert [o.type for o in response.output] == [
        "message", "image_generation_call", "message"]
    assert body["output"][1]["result"] == PIXEL and body["output"][1]["status"] == "completed"
    # A client keeping the conversation itself sends the output back: the picture stays
    # in the assistant's turn, between its two texts.
    chat = translate({"input": [{"role": "user", "content": "a cat"}, *body["output"],
                                {"role": "user", "content": "now a dog"}]})
    assert [m.role for m in chat.messages] == ["user", "assistant", "user"]
    _, picture, _ = chat.messages[1].parts
    assert isinstance(picture, ImagePart) and picture.data == PIXEL
    assert picture.media_type == "image/png"
    assert chat.messages[1].text == "Here is a cat: Enjoy."


def test_a_picture_sent_back_is_checked_and_an_empty_one_skipped() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        translate({"input": [{"role": "user", "content": "x"}, {
            "type": "image_generation_call", "id": "ig_1", "status": "completed",
            "result": "not base64!"}]})
    assert caught.value.param == "input[1].result"
    chat = translate({"input": [
        {"role": "user", "content": "x"},
        {"type": "image_generation_call", "id": "ig_2", "status": "failed", "result": None},
        {"role": "user", "content": "y"}]})
    assert [m.role for m in chat.messages] == ["user", "user"]
