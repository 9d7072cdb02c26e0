"""The offline model keeps the adapter contract: event order, chunking, determinism,
stream == generate, usage, limits, warnings, and the retry wrapper."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from switchboard.providers.offline import OfflineConfig, OfflineProvider
from switchboard.providers.offline.tokens import IMAGE_TOKENS
from switchboard.spec import (
    ChatRequest,
    Finish,
    ImagePart,
    Message,
    ReasoningPart,
    ResponseMetadata,
    StreamStart,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    ToolChoiceTool,
    UnknownModelError,
    collect,
)
from switchboard.upstream import RetryPolicy, retrying_stream
from tests.providers.offline.helpers import PIXEL, ask, events_of, model

WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)

REQUESTS = {
    "greeting": ask("Hello there"),
    "code": ask("Write a Python function that reverses a string"),
    "summary": ask("The quick brown fox jumps over the lazy dog. " * 12),
    "tool": ask("Weather in Paris?", tools=[WEATHER],
                tool_choice=ToolChoiceTool(name="get_weather")),
    "json": ask("Give me JSON", response_format={"type": "json"}),
    "image": ChatRequest(messages=[Message.user("What is this?", ImagePart(data=PIXEL))]),
    "limited": ask("Tell me a long story about dragons and castles", max_output_tokens=5),
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
async def test_stream_and_generate_agree(name: str) -> None:
    request = REQUESTS[name]
    streamed = collect(await events_of(request))
    generated = await model().generate(request)
    assert streamed.text == generated.text
    assert streamed.parts == generated.parts
    assert streamed.finish_reason == generated.finish_reason
    assert streamed.usage == generated.usage
    assert streamed.metadata == generated.metadata
    assert streamed.complete and generated.complete


@pytest.mark.parametrize("name", sorted(REQUESTS))
async def test_event_order(name: str) -> None:
    events = await events_of(REQUESTS[name])
    assert isinstance(events[0], StreamStart)
    assert isinstance(events[1], ResponseMetadata)
    assert events[1].model == "offline-chat" and events[1].response_id
    assert isinstance(events[-1], Finish)
    assert sum(isinstance(e, Finish) for e in events) == 1


async def test_deterministic() -> None:
    request = REQUESTS["code"]
    first, second = await events_of(request), await events_of(request)
    assert repr(first) == repr(second)
    other = await events_of(ask("Write a Rust function that sorts numbers"))
    assert collect(other).text != collect(first).text
    assert other[1] != first[1], "a different request gets a different response id"


async def test_text_arrives_in_word_pieces() -> None:
    events = await events_of(ask("Hello there"))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 10
    assert all(d and not d[0].isspace() for d in deltas)
    assert all(len(d.split()) == 1 for d in deltas)
    assert "".join(deltas) == collect(events).text


async def test_tool_call_is_streamed_as_start_deltas_and_call() -> None:
    events = await events_of(REQUESTS["tool"])
    start = next(e for e in events if isinstance(e, ToolCallStart))
    deltas = [e.arguments_delta for e in events if isinstance(e, ToolCallDelta)]
    call = next(e for e in events if isinstance(e, ToolCall))
    assert start.id == call.id and start.name == call.name == "get_weather"
    assert len(deltas) > 1 and "".join(deltas) == call.arguments
    assert events.index(start) < events.index(call)
    finish = events[-1]
    assert isinstance(finish, Finish) and finish.finish_reason.unified == "tool_calls"


async def test_chunk_delay_still_streams_everything() -> None:
    events = await events_of(ask("hi"), chunk_delay_ms=1)
    assert collect(events).complete


async def test_usage_is_estimated_from_the_request() -> None:
    short = collect(await events_of(ask("Hi"))).usage
    long = collect(await events_of(ask("Hi " + "word " * 400))).usage
    assert short.input_tokens is not None and long.input_tokens is not None
    assert 5 <= short.input_tokens < 20
    assert long.input_tokens - short.input_tokens == pytest.approx(500, rel=0.05)
    with_tool = collect(await events_of(ask("Hi", tools=[WEATHER], tool_choice="none"))).usage
    assert with_tool.input_tokens is not None and with_tool.input_tokens > short.input_tokens + 10
    image = ChatRequest(messages=[Message.user("Hi", ImagePart(data=PIXEL))])
    with_image = collect(await events_of(image)).usage
    assert with_image.input_tokens == short.input_tokens + IMAGE_TOKENS
    result = collect(await events_of(ask("Hi")))
    assert result.usage.output_tokens == -(-len(result.text) // 4)
    assert result.usage.raw["estimated"] is True


async def test_max_output_tokens_truncates_with_length() -> None:
    full = await model().generate(ask("Tell me a long story about dragons and castles"))
    cut = await model().generate(REQUESTS["limited"])
    assert cut.finish_reason is not None and cut.finish_reason.unified == "length"
    assert cut.usage.output_tokens is not None and cut.usage.output_tokens <= 5
    assert full.text.startswith(cut.text) and len(cut.text) < len(full.text)


async def test_max_output_tokens_large_enough_is_a_normal_stop() -> None:
    result = await model().generate(ask("Hello", max_output_tokens=4000))
    assert result.finish_reason is not None and result.finish_reason.unified == "stop"


async def test_stop_sequence_cuts_the_text() -> None:
    full = await model().generate(ask("Hello"))
    result = await model().generate(ask("Hello", stop=["offline", "zzz-never"]))
    assert result.finish_reason is not None
    assert (result.finish_reason.unified, result.finish_reason.raw) == ("stop", "stop_sequence")
    assert result.text == full.text[: full.text.index("offline")]
    assert "offline" not in result.text


async def test_json_mode_returns_an_object() -> None:
    result = await model().generate(REQUESTS["json"])
    value = json.loads(result.text)
    assert isinstance(value, dict) and value["model"] == "offline-chat"


async def test_unsupported_settings_are_warned_not_dropped() -> None:
    request = ChatRequest(
        messages=[
            Message.user("Hi"),
            Message(role="assistant", parts=[
                ReasoningPart(text="hmm", provider_metadata={"anthropic": {"signature": "s"}})]),
            Message.user("Again"),
        ],
        temperature=0.2, top_p=0.5, reasoning_effort="high",
        provider_options={"offline": {"fast": True}},
    )
    result = await model().generate(request)
    settings = {w.setting for w in result.warnings}
    assert {"temperature", "top_p", "reasoning_effort", "provider_options.offline.fast"} <= settings
    assert any(w.type == "unsupported-part" for w in result.warnings)
    assert all(w.message for w in result.warnings)
    plain = await model().generate(ask("Hi", seed=7))
    assert plain.warnings == [], "seed is honoured: the model is deterministic"


async def test_through_the_retry_wrapper() -> None:
    chat = model()
    request = REQUESTS["tool"]
    wrapped = [e async for e in retrying_stream(lambda: chat.stream(request), RetryPolicy(),
                                                provider="offline")]
    assert repr(wrapped) == repr(await events_of(request))


async def test_provider_surface() -> None:
    provider = OfflineProvider()
    assert provider.kind == "offline" and provider.display_name == "Offline (built-in)"
    assert provider.requires_api_key is False and provider.is_configured
    assert provider.default_model == "offline-chat"
    [info, embed, image] = await provider.list_models()
    assert info.id == "offline-chat" and info.type == "chat"
    assert embed.id == "offline-embed" and embed.type == "embedding"
    assert image.id == "offline-image" and image.type == "image"
    assert image.capabilities.image_output and provider.model_type("offline-image") == "image"
    caps = info.capabilities
    assert caps.streaming and caps.tools and caps.vision and caps.json_output
    assert provider.capabilities("offline-chat") == caps
    check = await provider.validate_key()
    assert check.ok
    assert provider.config.chunk_delay_ms == 15
    assert provider.estimate_cost("offline-chat", collect(await events_of(ask("Hi"))).usage) == 0


def test_unknown_model_names_the_real_one() -> None:
    with pytest.raises(UnknownModelError, match="'offline-chat'"):
        OfflineProvider().chat_model("gpt-4o")


def test_config_rejects_bad_settings() -> None:
    with pytest.raises(ValidationError, match="chunk_delay_ms"):
        OfflineConfig(chunk_delay_ms=-1)
    with pytest.raises(ValidationError, match="chunk_delay"):
        OfflineConfig(chunk_delay=5)  # type: ignore[call-arg]
