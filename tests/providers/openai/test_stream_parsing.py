"""Recorded OpenAI payloads (streams and JSON, shaped as the API reference shows them)
served over HTTP by the fake, parsed into neutral events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.providers.openai import OpenAIConfig, OpenAIProvider
from switchboard.providers.openai.convert_stream import StreamConverter
from switchboard.providers.openai.convert_usage import convert_usage
from switchboard.providers.openai.map_finish import map_finish
from switchboard.spec import (
    ChatModel,
    ChatRequest,
    ErrorEvent,
    Finish,
    Message,
    ResponseMetadata,
    ServerError,
    StreamBrokenError,
    StreamStart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    collect,
    collect_stream,
)
from tests.fakes.vendor import FakeVendor
from tests.providers.openai.helpers import KEY, fake_vendor, raw_json, raw_sse, reset

FIXTURES = Path(__file__).parent / "fixtures"
HELLO = ChatRequest(messages=[Message.user("Hello")])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeVendor, str]]:
    with fake_vendor() as served:
        yield served


@pytest.fixture
def model(server: tuple[FakeVendor, str]) -> ChatModel:
    vendor, base = server
    reset(vendor)
    return OpenAIProvider(OpenAIConfig(base_url=base, api_key=KEY)).chat_model("gpt-4o-mini")


def then(server: tuple[FakeVendor, str], step: object) -> None:
    server[0].then(step)  # type: ignore[arg-type]


async def test_text_stream_usage_and_metadata(server: tuple[FakeVendor, str],
                                              model: ChatModel) -> None:
    then(server, raw_sse(FIXTURES / "stream_text.sse"))
    events = [e async for e in model.stream(HELLO)]
    assert isinstance(events[0], StreamStart)
    assert [e.text for e in events if isinstance(e, TextDelta)] == [
        "Hello", "! How can I", " help you today?"]
    meta = events[1]
    assert isinstance(meta, ResponseMetadata)
    assert meta.response_id == "chatcmpl-AE2dhHeGu3VkRqnb2g9Z1xLMNpQ4z"
    assert meta.model == "gpt-4o-mini-2024-07-18"
    assert meta.request_id == "req_fixture_1"
    assert meta.extra["system_fingerprint"] == "fp_f85bea6784"
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert finish.finish_reason.unified == "stop" and finish.finish_reason.raw == "stop"
    u = finish.usage
    assert (u.input_tokens, u.output_tokens, u.cached_input_tokens, u.reasoning_tokens) == (
        1200, 9, 1024, 0)
    assert u.raw["total_tokens"] == 1209


async def test_parallel_tool_calls_stream(server: tuple[FakeVendor, str],
                                         model: ChatModel) -> None:
    then(server, raw_sse(FIXTURES / "stream_parallel_tool_calls.sse"))
    events = [e async for e in model.stream(HELLO)]
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert [(s.id, s.name, s.index) for s in starts] == [
        ("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", 0),
        ("call_ABmO9pD3xa9XTPNJ32zg2hcB", "get_time", 1)]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [d.arguments_delta for d in deltas if d.index == 0] == ['{"ci', 'ty": "Paris"}']
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", '{"city": "Paris"}'),
        ("call_ABmO9pD3xa9XTPNJ32zg2hcB", "get_time", '{"tz": "Europe/Paris"}')]
    # complete calls come after every delta of theirs, before Finish
    assert events.index(calls[0]) > events.index(deltas[-1])
    result = collect(events)
    assert result.finish_reason is not None and result.finish_reason.unified == "tool_calls"
    assert len(result.tool_calls) == 2 and result.text == ""


async def test_refusal_is_text_marked_in_metadata(server: tuple[FakeVendor, str],
                                                  model: ChatModel) -> None:
    then(server, raw_sse(FIXTURES / "stream_refusal.sse"))
    result = await collect_stream(model.stream(HELLO))
    assert result.text == "I'm sorry, I can't help with that."
    assert result.metadata.extra["refusal"] is True
    assert result.complete


async def test_stream_without_done_is_broken_with_usage_kept(
        server: tuple[FakeVendor, str], model: ChatModel) -> None:
    then(server, raw_sse(FIXTURES / "stream_no_done.sse"))
    events = [e async for e in model.stream(HELLO)]
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert isinstance(last.error, StreamBrokenError)
    assert "[DONE]" in str(last.error)
    assert last.usage is not None and last.usage.input_tokens == 1200
    assert not any(isinstance(e, Finish) for e in events)
    assert collect(events).text == "Hello! How can I help you today?"


async def test_in_band_error_chunk(server: tuple[FakeVendor, str], model: ChatModel) -> None:
    then(server, raw_sse(FIXTURES / "stream_in_band_error.sse"))
    events = [e async for e in model.stream(HELLO)]
    last = events[-1]
    assert isinstance(last, ErrorEvent) and isinstance(last.error, ServerError)
    assert "server had an error" in str(last.error)
    assert last.error.request_id == "req_fixture_1"
    assert collect(events).text == "Partial"


async def test_unparseable_chunk_ends_in_error(server: tuple[FakeVendor, str],
                                               model: ChatModel) -> None:
    from tests.fakes.script import Raw

    then(server, Raw(200, b'data: {"id": "x", "choices": [\n\n', content_type="text/event-stream"))
    events = [e async for e in model.stream(HELLO)]
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, StreamBrokenError)
    assert "unreadable stream chunk" in str(events[-1].error)


@pytest.mark.parametrize(("fixture", "text", "finish", "usage"), [
    ("response_text.json", "Hello! How can I assist you today?", "stop", (19, 10, 0, 0)),
    ("response_reasoning.json", "The answer is 42.", "length", (2048, 1500, 1920, 1472)),
    ("response_content_filter.json", "", "content_filter", (15, 0, None, None)),
])
async def test_non_stream_responses(server: tuple[FakeVendor, str], model: ChatModel,
                                    fixture: str, text: str, finish: str,
                                    usage: tuple[int, int, int | None, int | None]) -> None:
    then(server, raw_json(FIXTURES / fixture))
    result = await model.generate(HELLO)
    assert result.text == text
    assert result.finish_reason is not None
    assert (result.finish_reason.unified, result.finish_reason.raw) == (finish, finish)
    u = result.usage
    assert (u.input_tokens, u.output_tokens, u.cached_input_tokens, u.reasoning_tokens) == usage
    assert result.metadata.request_id == "req_fixture_1"


async def test_non_stream_tool_calls(server: tuple[FakeVendor, str], model: ChatModel) -> None:
    then(server, raw_json(FIXTURES / "response_tool_calls.json"))
    result = await model.generate(HELLO)
    assert [(c.id, c.name) for c in result.tool_calls] == [("call_abc123", "get_current_weather")]
    assert result.tool_calls[0].arguments == '{\n"location": "Boston, MA"\n}'
    assert result.finish_reason is not None and result.finish_reason.unified == "tool_calls"
    assert result.usage.cached_input_tokens is None  # not reported: never a fake zero


async def test_non_stream_error_body_with_200_raises(server: tuple[FakeVendor, str],
                                                     model: ChatModel) -> None:
    from tests.fakes.script import Raw

    then(server, Raw(200, b'{"error": {"message": "boom", "type": "server_error"}}'))
    with pytest.raises(ServerError, match="boom"):
        await model.generate(HELLO)


@pytest.mark.parametrize(("raw", "unified"), [
    ("stop", "stop"), ("length", "length"), ("tool_calls", "tool_calls"),
    ("function_call", "tool_calls"), ("content_filter", "content_filter"),
    ("something_new", "other"), (None, "other"),
])
def test_map_finish(raw: str | None, unified: str) -> None:
    reason = map_finish(raw)
    assert reason.unified == unified and reason.raw == raw


def test_usage_missing_and_partial() -> None:
    assert convert_usage(None) is None
    u = convert_usage({"prompt_tokens": 5})
    assert u is not None
    assert (u.input_tokens, u.output_tokens, u.cached_input_tokens) == (5, None, None)


def test_tool_call_without_index_or_id_uses_position() -> None:
    conv = StreamConverter("openai", None, None)
    events = conv.feed('{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":['
                       '{"function":{"name":"a","arguments":"{}"}},'
                       '{"function":{"name":"b","arguments":"{\\"x\\":1}"}}]},'
                       '"finish_reason":"tool_calls"}]}')
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_0", "a", "{}"), ("call_1", "b", '{"x":1}')]
    done = conv.feed("[DONE]")
    assert isinstance(done[-1], Finish) and conv.done
    assert done[-1].usage.input_tokens is None
