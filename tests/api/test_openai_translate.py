"""The /v1 translation layer, wire <-> neutral, checked against OpenAI's own schemas."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from switchboard.api.openai.convert_request import (
    for_provider,
    invalid_from_validation,
    to_chat_request,
)
from switchboard.api.openai.errors import error_body, error_headers, error_status
from switchboard.api.openai.render import ChunkEncoder, completion_body
from switchboard.api.openai.wire import ChatCompletionRequest
from switchboard.spec import (
    AuthenticationError,
    ContextLengthError,
    ErrorEvent,
    Finish,
    FinishReason,
    ImagePart,
    InvalidRequestError,
    RateLimitError,
    ReasoningDelta,
    ServerError,
    StreamStart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallPart,
    ToolCallStart,
    ToolChoiceTool,
    ToolResultPart,
    UnknownModelError,
    Usage,
    collect,
)
from tests.spec_validation import validate_component, validate_request


def parse(body: dict[str, object]) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate(body)


FULL = {
    "model": "openai:gpt-4o",
    "messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [
            {"type": "text", "text": "What is in this image?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=",
                                                "detail": "low"}},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "lookup", "arguments": "{\"q\":\"cat\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
    ],
    "tools": [{"type": "function", "function": {
        "name": "lookup", "description": "Search",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}],
    "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    "temperature": 0.2, "max_tokens": 100, "stop": "END", "seed": 7,
    "response_format": {"type": "json_schema", "json_schema": {
        "name": "answer", "schema": {"type": "object"}, "strict": True}},
    "stream": True, "stream_options": {"include_usage": True},
}


def test_full_request_translates() -> None:
    validate_request("openai", "/chat/completions", FULL)
    request, warnings = to_chat_request(parse(FULL))
    assert warnings == []
    assert [m.role for m in request.messages] == ["system", "user", "assistant", "tool"]
    image = request.messages[1].parts[1]
    assert isinstance(image, ImagePart) and image.media_type == "image/png" and image.data
    assert request.messages[2].parts == [
        ToolCallPart(id="call_1", name="lookup", arguments='{"q":"cat"}')]
    result = request.messages[3].parts[0]
    assert isinstance(result, ToolResultPart) and result.content == "a cat"
    assert request.tool_choice == ToolChoiceTool(name="lookup")
    assert (request.temperature, request.max_output_tokens, request.stop, request.seed) == (
        0.2, 100, ["END"], 7)
    assert request.response_format is not None and request.response_format.type == "json_schema"


def test_max_completion_tokens_wins() -> None:
    r, _ = to_chat_request(parse({"model": "m", "messages": [{"role": "user", "content": "x"}],
                                  "max_tokens": 5, "max_completion_tokens": 9}))
    assert r.max_output_tokens == 9


def test_unknown_parameter_is_a_400_naming_it() -> None:
    with pytest.raises(ValidationError) as info:
        parse({"model": "m", "messages": [], "temprature": 1})
    err = invalid_from_validation(info.value)
    assert err.param == "temprature"
    assert err.message == "Unrecognized request argument supplied: temprature"  # OpenAI's


@pytest.mark.parametrize(
    ("body", "param", "needle"),
    [
        ({"n": 9}, "n", "between 1 and 8"),
        ({"temperature": 5}, "temperature", "less than or equal to 2"),
        ({"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "ftp://x"}}]}]},
         "messages[0].content[0].image_url", "https://"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id",
         "tool_call_id"),
        ({"messages": [{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]},
         "messages[0].content[0]", "audio"),
        ({"tools": [{"type": "function", "function": {
            "name": "f", "parameters": {"type": "object", "properties": {"a": {"type": 1}}}}}]},
         "tools", "not a valid JSON Schema"),
        ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice",
         "not among the tools"),
        ({"max_tokens": 0}, "max_tokens", "greater than or equal to 1"),
        ({"max_completion_tokens": 0}, "max_completion_tokens", "greater than or equal"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs", "less than or equal"),
        ({"top_logprobs": 2}, "top_logprobs", "needs 'logprobs'"),
    ],
)
def test_bad_input_names_the_param(body: dict[str, object], param: str | None,
                                   needle: str) -> None:
    data = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **body}
    with pytest.raises(InvalidRequestError) as info:
        to_chat_request(parse(data))
    assert needle in info.value.message
    if param is not None:
        assert info.value.param is not None and info.value.param.startswith(param)


def test_vendor_only_settings_follow_the_policy() -> None:
    """Forwarded (as provider options) to the kinds that have them, warned elsewhere;
    the caller's own provider_options win."""
    body = parse({"model": "m", "logit_bias": {"1": 2}, "service_tier": "flex",
                  "provider_options": {"openai": {"service_tier": "priority"}},
                  "messages": [{"role": "user", "content": "x"}]})
    neutral, warnings = to_chat_request(body)
    assert warnings == []
    request, warnings = for_provider(body, neutral, "openai")
    assert request.provider_options == {"openai": {"service_tier": "priority",
                                                   "logit_bias": {"1": 2}}}
    assert warnings == []
    request, warnings = for_provider(body, neutral, "anthropic")
    assert request.provider_options == {"openai": {"service_tier": "priority"}}
    assert [w.setting for w in warnings] == ["service_tier", "logit_bias"]
    assert "only forwarded to openai and openai_compatible" in warnings[1].message


def test_top_k_is_neutral_except_for_compatible_servers() -> None:
    body = parse({"model": "m", "top_k": 7, "min_p": 0.1,
                  "messages": [{"role": "user", "content": "x"}]})
    neutral, _ = to_chat_request(body)
    assert neutral.top_k == 7
    request, _ = for_provider(body, neutral, "openai_compatible")
    assert request.top_k is None
    assert request.provider_options == {"openai_compatible": {"top_k": 7, "min_p": 0.1}}
    request, warnings = for_provider(body, neutral, "anthropic")
    assert request.top_k == 7 and [w.setting for w in warnings] == ["min_p"]


def chunks(raw: bytes) -> list[object]:
    out: list[object] = []
    for block in raw.decode().split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: "):]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def test_stream_chunks_match_openai_schema() -> None:
    enc = ChunkEncoder("chatcmpl-1", 1700000000, "openai:gpt-4o", "sb_1", include_usage=True)
    events = [
        StreamStart(), ReasoningDelta("hmm"), TextDelta("Hi"), TextDelta(""),
        ToolCallStart("c1", "f"), ToolCallDelta("c1", '{"a"'), ToolCallDelta("c1", ":1}"),
        ToolCall("c1", "f", '{"a":1}'),
        ToolCall("c2", "g", "{}"),  # sent whole, never started
        Finish(FinishReason("tool_calls", "tool_use"),
               Usage(input_tokens=10, output_tokens=4, cached_input_tokens=2)),
    ]
    out = chunks(b"".join(enc.encode(e) for e in events))
    assert out[-1] == "[DONE]"
    objs = [c for c in out if isinstance(c, dict)]
    for c in objs:
        validate_component("openai", "CreateChatCompletionStreamResponse", c)
    deltas = [c["choices"][0]["delta"] for c in objs if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": "", "refusal": None}
    assert {"reasoning_content": "hmm"} in deltas and {"content": "Hi"} in deltas
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert [c["index"] for c in calls] == [0, 0, 0, 1]
    assert "".join(c["function"]["arguments"] for c in calls[:3]) == '{"a":1}'
    assert objs[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert objs[-1]["choices"] == [] and objs[-1]["usage"]["prompt_tokens"] == 10
    assert objs[-1]["usage"]["prompt_tokens_details"]["cached_tokens"] == 2


def test_stream_without_usage_and_with_error() -> None:
    enc = ChunkEncoder("x", 1, "m", "fp", include_usage=False)
    out = chunks(enc.encode(Finish(FinishReason("stop"))))
    assert out[-1] == "[DONE]" and len(out) == 2
    err = chunks(ChunkEncoder("x", 1, "m", "fp", False).encode(
        ErrorEvent(ServerError("upstream died"))))
    assert err == [{"error": {"message": "upstream died", "type": "upstream_error",
                              "param": None, "code": "server_error"}}]


def test_completion_body_matches_openai_schema() -> None:
    result = collect([StreamStart(), TextDelta("Hello"),
                      Finish(FinishReason("stop", "end_turn"),
                             Usage(input_tokens=3, output_tokens=1))])
    body = completion_body(result, "chatcmpl-2", 1700000000, "anthropic:claude", "sb_1")
    validate_component("openai", "CreateChatCompletionResponse", body)
    assert body["choices"][0]["message"]["content"] == "Hello"
    tool = collect([StreamStart(), ToolCall("c", "f", "{}"),
                    Finish(FinishReason("tool_calls"), Usage())])
    body = completion_body(tool, "chatcmpl-3", 1, "m", "fp")
    validate_component("openai", "CreateChatCompletionResponse", body)
    assert body["choices"][0]["message"]["content"] is None
    assert body["usage"]["total_tokens"] == 0  # unknown usage: integers on the wire


def test_error_mapping() -> None:
    assert error_status(InvalidRequestError("x", param="n"))[0] == 400
    assert error_status(UnknownModelError("x"))[:2] == (404, "invalid_request_error")
    assert error_status(ContextLengthError("x"))[2] == "context_length_exceeded"
    auth = AuthenticationError("bad upstream key", status=401)
    assert error_status(auth)[0] == 502
    assert error_headers(auth) == {"x-should-retry": "false"}
    limited = RateLimitError("slow", retry_after=1.2, request_id="req_9")
    assert error_headers(limited) == {"retry-after": "2", "x-should-retry": "false",
                                      "x-upstream-request-id": "req_9"}
    assert error_body(InvalidRequestError("bad", param="n"))["error"]["param"] == "n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": []}, "messages must hold at least one message"),
        ({"max_tokens": -1}, "max_tokens: Input should be greater than or equal to 1"),
    ],
)
def test_a_message_names_its_parameter_once(body: dict[str, object], message: str) -> None:
    """A whole-request check already starts with its field's name ("messages must hold
    …"): the param is not put in front of it a second time ("messages: messages …")."""
    data = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **body}
    with pytest.raises(InvalidRequestError) as info:
        to_chat_request(parse(data))
    assert info.value.message == message
