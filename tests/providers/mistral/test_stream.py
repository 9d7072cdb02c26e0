"""Recorded Mistral SSE streams, served over real HTTP and read by the real adapter."""

from __future__ import annotations

import json

from switchboard.spec import (
    ChatRequest,
    ErrorEvent,
    Finish,
    Message,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ReasoningDelta,
    ReasoningPart,
    ResponseMetadata,
    ServerError,
    StreamBrokenError,
    StreamEvent,
    StreamStart,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    collect,
)
from tests.fakes.mistral import MODEL
from tests.fakes.script import InBandError, Raw, Reply
from tests.providers.mistral.conftest import Fake, fixture_bytes

HELLO = ChatRequest(messages=[Message.user("Who is the best French painter?")])


def sse_fixture(name: str, **headers: str) -> Raw:
    return Raw(body=fixture_bytes(name), content_type="text/event-stream", headers=headers)


async def run(fake: Fake, request: ChatRequest = HELLO) -> list[StreamEvent]:
    model = fake.provider().chat_model(MODEL)
    return [e async for e in model.stream(request)]


async def test_text_stream_fixture(fake: Fake) -> None:
    fake.vendor.then(sse_fixture("stream_text.sse", **{"mistral-correlation-id": "corr-1"}))
    events = await run(fake)
    assert isinstance(events[0], StreamStart) and events[0].warnings == []
    meta = events[1]
    assert isinstance(meta, ResponseMetadata)
    assert (meta.response_id, meta.model, meta.request_id) == (
        "cmpl-e5cc70bb28c444948073e77776eb30ef", "mistral-small-latest", "corr-1")
    assert isinstance(events[-1], Finish)
    assert sum(isinstance(e, Finish) for e in events) == 1
    result = collect(events)
    assert result.text == "Claude Monet is often cited."
    assert result.finish_reason is not None
    assert (result.finish_reason.unified, result.finish_reason.raw) == ("stop", "stop")
    assert (result.usage.input_tokens, result.usage.output_tokens) == (16, 8)
    assert result.usage.cached_input_tokens is None
    assert result.usage.raw == {"prompt_tokens": 16, "total_tokens": 24, "completion_tokens": 8}


async def test_whole_tool_calls_in_one_delta(fake: Fake) -> None:
    fake.vendor.then(sse_fixture("stream_tool_calls.sse"))
    events = await run(fake)
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [(s.id, s.name, s.index) for s in starts] == [
        ("D681PevKs", "retrieve_payment_status", 0), ("kT3pWq9Zx", "retrieve_payment_date", 1)]
    assert [(c.id, json.loads(c.arguments)) for c in calls] == [
        ("D681PevKs", {"transaction_id": "T1001"}), ("kT3pWq9Zx", {"transaction_id": "T1001"})]
    # every call: start, delta(s), then the complete call - all before Finish
    order = [type(e).__name__ for e in events if not isinstance(e, StreamStart
                                                                 | ResponseMetadata)]
    assert order == ["ToolCallStart", "ToolCallDelta", "ToolCallStart", "ToolCallDelta",
                     "ToolCall", "ToolCall", "Finish"]
    result = collect(events)
    assert result.finish_reason is not None and result.finish_reason.unified == "tool_calls"
    assert result.usage.input_tokens == 167 and result.usage.output_tokens == 48


async def test_fragmented_tool_call(fake: Fake) -> None:
    fake.vendor.then(sse_fixture("stream_tool_call_fragmented.sse"))
    events = await run(fake)
    assert [(e.id, e.name) for e in events if isinstance(e, ToolCallStart)] == [
        ("Ab3dE6gH9", "get_weather")]
    assert [e.arguments_delta for e in events if isinstance(e, ToolCallDelta)] == [
        '{"city": ', '"Paris"}']
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert len(calls) == 1
    assert (calls[0].id, calls[0].name, calls[0].arguments) == (
        "Ab3dE6gH9", "get_weather", '{"city": "Paris"}')


async def test_magistral_thinking_chunks_become_reasoning(fake: Fake) -> None:
    fake.vendor.then(sse_fixture("stream_magistral.sse"))
    events = await run(fake)
    reasoning = [e for e in events if isinstance(e, ReasoningDelta)]
    assert [e.text for e in reasoning] == ["The user asks for 2+2.", " That is 4."]
    assert {e.id for e in reasoning} == {"0"}, "consecutive thinking chunks are one block"
    result = collect(events)
    assert result.text == "2 + 2 = **4**"
    assert [type(p) for p in result.parts] == [ReasoningPart, TextPart]
    reasoning_part = result.parts[0]
    assert isinstance(reasoning_part, ReasoningPart)
    assert reasoning_part.text == "The user asks for 2+2. That is 4."
    assert result.usage.input_tokens == 1013
    assert result.usage.cached_input_tokens == 1008
    assert result.usage.output_tokens == 50


async def test_reasoning_from_the_fake_round_trips_into_the_next_request(fake: Fake) -> None:
    fake.vendor.then(Reply(chunks=["4"], reasoning=["Adding ", "two and two."]), Reply())
    first = collect(await run(fake))
    assert [type(p) for p in first.parts] == [ReasoningPart, TextPart]
    follow_up = ChatRequest(messages=[*HELLO.messages, first.message, Message.user("Sure?")])
    assert isinstance((await run(fake, follow_up))[-1], Finish)
    sent = fake.vendor.chat_requests()[-1].body["messages"][1]
    assert sent == {"role": "assistant", "content": [
        {"type": "thinking", "thinking": [{"type": "text", "text": "Adding two and two."}]},
        {"type": "text", "text": "4"},
    ]}


async def test_in_band_error_keeps_partial_text_and_usage_none(fake: Fake) -> None:
    fake.vendor.then(sse_fixture("stream_in_band_error.sse"))
    events = await run(fake)
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert isinstance(last.error, ProviderError)
    assert "Service unavailable" in str(last.error)
    assert last.error.vendor_type == "internal_server_error"
    assert collect(events).text == "Partial"
    assert not any(isinstance(e, Finish) for e in events)


async def test_in_band_error_is_classified_by_mistral_type_with_request_id(
        fake: Fake) -> None:
    """Mistral's own names (``internal_server_error``, ``rate_limited``...) give the right
    class and retry flag; the correlation id header names the request."""
    fake.vendor.then(sse_fixture("stream_in_band_error.sse",
                                 **{"mistral-correlation-id": "corr-5"}))
    error = (await run(fake))[-1]
    assert isinstance(error, ErrorEvent) and isinstance(error.error, ServerError)
    assert error.error.retryable and error.error.request_id == "corr-5"
    fake.vendor.then(InBandError(Reply(chunks=["a", "b"]), after=1,
                                 error_type="rate_limited", message="Rate limit exceeded"))
    error = (await run(fake))[-1]
    assert isinstance(error, ErrorEvent) and isinstance(error.error, RateLimitError)
    assert error.error.retryable and error.error.status == 429


async def test_in_band_overloaded_error_is_classified(fake: Fake) -> None:
    fake.vendor.then(InBandError(Reply(chunks=["a", "b"]), after=1,
                                 error_type="overloaded_error", message="Overloaded"))
    events = await run(fake)
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, OverloadedError)


async def test_stream_without_done_marker_is_broken(fake: Fake) -> None:
    fake.vendor.then(sse_fixture("stream_no_done.sse"))
    events = await run(fake)
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, StreamBrokenError)
    assert "[DONE]" in str(events[-1].error)
    assert collect(events).text == "Cut short"


async def test_garbage_chunk_is_a_broken_stream(fake: Fake) -> None:
    body = fixture_bytes("stream_no_done.sse") + b"data: {not json\n\n"
    fake.vendor.then(Raw(body=body, content_type="text/event-stream"))
    events = await run(fake)
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, StreamBrokenError)
    assert "not a JSON object" in str(events[-1].error)
