"""Recorded-shape Gemini payloads (``fixtures/``) served byte for byte by the fake, read
through the adapter: usage, finish reasons, function calls, thoughts, in-band errors."""

from __future__ import annotations

import json

import pytest

from switchboard.spec import (
    AuthenticationError,
    ChatRequest,
    ErrorEvent,
    Finish,
    Message,
    OverloadedError,
    RateLimitError,
    ReasoningDelta,
    ResponseMetadata,
    StreamBrokenError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    collect,
)
from tests.fakes.gemini import MODEL, make_provider
from tests.fakes.script import InBandError, Raw, Reply
from tests.providers.gemini.conftest import FIXTURES, Server
from tests.providers.gemini.wire_fields import check_request

KEY = "AIzaSyTestKey0123456789abcdefghijklmn"
HELLO = ChatRequest(messages=[Message.user("Hello")])


def raw_stream(name: str) -> Raw:
    return Raw(body=(FIXTURES / name).read_bytes(), content_type="text/event-stream")


def raw_json(name: str, status: int = 200) -> Raw:
    return Raw(status=status, body=(FIXTURES / name).read_bytes())


async def stream(server: Server, request: ChatRequest = HELLO,
                 model: str = MODEL) -> list[StreamEvent]:
    provider = make_provider(server.base_url, api_key=KEY)
    return [e async for e in provider.chat_model(model).stream(request)]


async def test_text_stream_usage_and_metadata(server: Server) -> None:
    server.vendor.then(raw_stream("stream_text.sse"))
    events = await stream(server)
    assert isinstance(events[0], StreamStart)
    assert isinstance(events[1], ResponseMetadata)
    assert (events[1].response_id, events[1].model) == ("mmJ0aNGnH5mLz7IPx9mu8Qo",
                                                        "gemini-2.5-flash")
    assert [e.text for e in events if isinstance(e, TextDelta)] == [
        "The sky", " is blue because of Rayleigh", " scattering."]
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert (finish.finish_reason.unified, finish.finish_reason.raw) == ("stop", "STOP")
    usage = finish.usage
    assert usage.input_tokens == 9
    assert usage.output_tokens == 11 + 23, "thoughts count as output"
    assert usage.reasoning_tokens == 23
    assert usage.total_tokens == 43
    assert usage.raw["thoughtsTokenCount"] == 23


async def test_thoughts_and_parallel_function_calls(server: Server) -> None:
    server.vendor.then(raw_stream("stream_thinking_tools.sse"))
    events = await stream(server, model="gemini-3-flash-preview")
    thoughts = [e for e in events if isinstance(e, ReasoningDelta)]
    assert "".join(t.text for t in thoughts).endswith("should call get_weather.")
    assert len({t.id for t in thoughts}) == 1, "consecutive thought parts are one block"

    starts = [e for e in events if isinstance(e, ToolCallStart)]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    calls = [e for e in events if isinstance(e, ToolCall)]
    rid = "x2N0aKbLCoqVz7IP4_vO-Q0"
    assert [c.id for c in calls] == [f"call_{rid}_0", f"call_{rid}_1"], (
        "calls without a vendor id get deterministic ids from the response id"
    )
    assert [s.id for s in starts] == [d.id for d in deltas] == [c.id for c in calls]
    assert [json.loads(d.arguments_delta) for d in deltas] == [{"city": "Paris"},
                                                               {"city": "Lyon"}]
    assert calls[0].provider_metadata == {"gemini": {"thought_signature": "CiQBcsjafAbc1+/sig=="}}
    assert calls[1].provider_metadata is None
    # every call: start, one delta, then the whole call
    first = events.index(starts[0])
    assert events[first:first + 3] == [starts[0], deltas[0], calls[0]]

    result = collect(events)
    assert result.finish_reason is not None
    assert (result.finish_reason.unified, result.finish_reason.raw) == ("tool_calls", "STOP")
    assert (result.usage.output_tokens, result.usage.reasoning_tokens) == (78, 48)


async def test_stream_result_replays_to_gemini(server: Server) -> None:
    """The collected answer (reasoning, signed call) converts back into a valid body that
    echoes the signature on the call it came with."""
    server.vendor.then(raw_stream("stream_thinking_tools.sse"))
    result = collect(await stream(server, model="gemini-3-flash-preview"))
    history = [
        Message.user("Weather?"), result.message,
        Message.tool_result(result.tool_calls[0].id, '{"temp_c": 20}'),
        Message.tool_result(result.tool_calls[1].id, '{"temp_c": 18}'),
    ]
    await stream(server, ChatRequest(messages=history), model="gemini-3-flash-preview")
    body = server.vendor.last.body
    check_request(body)
    model_parts = body["contents"][1]["parts"]
    assert model_parts[0]["thought"] is True
    assert model_parts[1] == {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                              "thoughtSignature": "CiQBcsjafAbc1+/sig=="}
    assert [p["functionResponse"]["name"] for p in body["contents"][2]["parts"]] == [
        "get_weather", "get_weather"]


async def test_signature_on_a_text_part_round_trips(server: Server) -> None:
    server.vendor.then(raw_stream("stream_text_signature.sse"))
    result = collect(await stream(server, model="gemini-3-pro-preview"))
    assert result.text == "Paris is the capital of France."
    assert result.usage.reasoning_tokens == 105
    await stream(server, ChatRequest(messages=[
        Message.user("Capital of France?"), result.message, Message.user("Thanks")]),
        model="gemini-3-pro-preview")
    assert server.vendor.last.body["contents"][1]["parts"] == [
        {"text": "Paris is the capital of France.", "thoughtSignature": "EvsBCvgBAdHtim9sig"}]


async def test_stream_without_finish_reason_is_broken(server: Server) -> None:
    server.vendor.then(raw_stream("stream_truncated.sse"))
    events = await stream(server)
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert isinstance(last.error, StreamBrokenError)
    assert "without a finishReason" in str(last.error)
    assert last.usage is not None and last.usage.input_tokens == 5
    assert collect(events).text == "A long answer that never"


async def test_prompt_blocked_is_a_content_filter_finish(server: Server) -> None:
    server.vendor.then(raw_stream("stream_prompt_blocked.sse"))
    result = collect(await stream(server))
    assert result.error is None
    assert result.finish_reason is not None
    assert result.finish_reason.unified == "content_filter"
    assert result.finish_reason.raw == "promptFeedback.blockReason=PROHIBITED_CONTENT"
    assert "blocked the prompt (PROHIBITED_CONTENT)" in result.metadata.extra["message"]
    assert result.usage.input_tokens == 14
    assert result.text == ""


async def test_in_band_error_chunk(server: Server) -> None:
    server.vendor.then(raw_stream("stream_error.sse"))
    events = await stream(server)
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert isinstance(last.error, OverloadedError)
    assert last.error.vendor_type == "UNAVAILABLE"
    assert "overloaded" in str(last.error)
    assert collect(events).text == "Partial"
    assert not any(isinstance(e, Finish) for e in events)


async def test_scripted_in_band_error(server: Server) -> None:
    """The fake renders the neutral ``InBandError`` step as Google's error chunk."""
    server.vendor.then(InBandError(Reply(chunks=["One ", "two"]), after=1,
                                   error_type="rate_limit_error", message="Quota exceeded"))
    events = await stream(server)
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, RateLimitError)
    assert events[-1].usage is not None and events[-1].usage.input_tokens == 12
    assert collect(events).text == "One "


async def test_non_stream_cached_usage(server: Server) -> None:
    server.vendor.then(raw_json("response_cached.json"))
    provider = make_provider(server.base_url, api_key=KEY)
    result = await provider.chat_model("gemini-2.0-flash").generate(HELLO)
    assert result.text == "Bonjour ! Comment puis-je vous aider ?"
    assert result.usage.input_tokens == 2061, "promptTokenCount already includes the cache"
    assert result.usage.cached_input_tokens == 2048
    assert result.usage.output_tokens == 10
    assert result.usage.reasoning_tokens is None
    assert result.metadata.response_id == "9mJ0aJmHAqTUz7IPgJ-dqAQ"
    assert result.metadata.model == "gemini-2.0-flash"


@pytest.mark.parametrize(("fixture", "unified", "raw"), [
    ("response_max_tokens_thinking.json", "length", "MAX_TOKENS"),
    ("response_safety.json", "content_filter", "SAFETY"),
    ("response_malformed_call.json", "error", "MALFORMED_FUNCTION_CALL"),
])
async def test_non_stream_finish_reasons(server: Server, fixture: str, unified: str,
                                         raw: str) -> None:
    server.vendor.then(raw_json(fixture))
    result = await make_provider(server.base_url, api_key=KEY).chat_model(MODEL).generate(HELLO)
    assert result.finish_reason is not None
    assert (result.finish_reason.unified, result.finish_reason.raw) == (unified, raw)
    assert result.error is None


async def test_thinking_used_the_whole_budget(server: Server) -> None:
    server.vendor.then(raw_json("response_max_tokens_thinking.json"))
    result = await make_provider(server.base_url, api_key=KEY).chat_model(MODEL).generate(HELLO)
    assert result.text == ""
    assert (result.usage.output_tokens, result.usage.reasoning_tokens) == (49, 49)


async def test_malformed_call_keeps_finish_message(server: Server) -> None:
    server.vendor.then(raw_json("response_malformed_call.json"))
    result = await make_provider(server.base_url, api_key=KEY).chat_model(MODEL).generate(HELLO)
    assert result.metadata.extra["finish_message"].startswith("Malformed function call")


async def test_invalid_key_400_is_an_authentication_error(server: Server) -> None:
    server.vendor.then(raw_json("error_400_api_key.json", status=400))
    with pytest.raises(AuthenticationError) as info:
        await stream(server)
    assert info.value.status == 400
    assert not info.value.retryable
    assert "API key not valid" in str(info.value)
    assert KEY not in str(info.value)


async def test_quota_429_and_overloaded_503(server: Server) -> None:
    server.vendor.then(raw_json("error_429.json", status=429),
                       raw_json("error_503.json", status=503))
    model = make_provider(server.base_url, api_key=KEY).chat_model(MODEL)
    with pytest.raises(RateLimitError) as limited:
        await model.generate(HELLO)
    assert limited.value.vendor_type == "RESOURCE_EXHAUSTED" and limited.value.retryable
    with pytest.raises(OverloadedError) as busy:
        await model.generate(HELLO)
    assert busy.value.status == 503 and busy.value.retryable


async def test_chunk_that_is_not_json(server: Server) -> None:
    server.vendor.then(Raw(body=b"data: {\"candidates\": [\r\n\r\n",
                           content_type="text/event-stream"))
    events = await stream(server)
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, StreamBrokenError)
