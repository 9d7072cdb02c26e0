"""Recorded compatible-server payloads: reasoning fields, usage in odd places or absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.providers.openai_compatible import (
    OpenAICompatibleConfig,
    OpenAICompatibleProvider,
)
from switchboard.spec import (
    ChatRequest,
    Finish,
    Message,
    ReasoningDelta,
    ReasoningPart,
    TextPart,
    collect,
)
from tests.fakes.openai import Wire
from tests.fakes.script import Reply
from tests.fakes.vendor import FakeVendor
from tests.providers.openai.helpers import KEY, fake_vendor, raw_json, raw_sse, reset

FIXTURES = Path(__file__).parent / "fixtures"
HELLO = ChatRequest(messages=[Message.user("Which is greater, 9.11 or 9.8?")])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeVendor, str]]:
    with fake_vendor() as served:
        yield served


def provider(server: tuple[FakeVendor, str], **config: Any) -> OpenAICompatibleProvider:
    reset(server[0])
    return OpenAICompatibleProvider(OpenAICompatibleConfig(
        base_url=server[1] + "/v1", api_key=KEY, **config))


async def test_deepseek_reasoning_content_stream(server: tuple[FakeVendor, str]) -> None:
    p = provider(server, reasoning_field="reasoning_content", max_tokens_field="max_tokens")
    server[0].then(raw_sse(FIXTURES / "deepseek_reasoner_stream.sse"))
    events = [e async for e in p.chat_model("deepseek-reasoner").stream(HELLO)]
    reasoning = [e.text for e in events if isinstance(e, ReasoningDelta)]
    assert reasoning == ["9.11 vs 9.8: ", "compare tenths."]
    result = collect(events)
    assert result.text == "9.8 is greater."
    assert isinstance(result.parts[0], ReasoningPart) and isinstance(result.parts[1], TextPart)
    u = result.usage
    assert (u.input_tokens, u.output_tokens, u.reasoning_tokens, u.cached_input_tokens) == (
        20, 40, 30, 0)


async def test_reasoning_ignored_without_the_flag(server: tuple[FakeVendor, str]) -> None:
    p = provider(server)
    server[0].then(raw_sse(FIXTURES / "deepseek_reasoner_stream.sse"))
    events = [e async for e in p.chat_model("deepseek-reasoner").stream(HELLO)]
    assert not any(isinstance(e, ReasoningDelta) for e in events)
    assert collect(events).text == "9.8 is greater."


async def test_openrouter_reasoning_field_and_comments(server: tuple[FakeVendor, str]) -> None:
    p = provider(server, reasoning_field="reasoning")
    server[0].then(raw_sse(FIXTURES / "openrouter_reasoning_stream.sse"))
    result = collect([e async for e in p.chat_model("deepseek/deepseek-r1").stream(HELLO)])
    assert result.text == "Hi there!"
    assert isinstance(result.parts[0], ReasoningPart)
    assert result.parts[0].text == "Thinking briefly."
    assert result.usage.reasoning_tokens == 5


async def test_groq_usage_in_x_groq(server: tuple[FakeVendor, str]) -> None:
    p = provider(server)
    server[0].then(raw_sse(FIXTURES / "groq_x_groq_usage_stream.sse"))
    result = collect([e async for e in p.chat_model("llama-3.3-70b-versatile").stream(HELLO)])
    assert result.text == "Fast answer."
    assert (result.usage.input_tokens, result.usage.output_tokens) == (40, 12)
    assert result.usage.cached_input_tokens is None


async def test_no_usage_at_all_gives_unknown_not_zero(server: tuple[FakeVendor, str]) -> None:
    p = provider(server, supports_stream_options=False)
    server[0].then(raw_sse(FIXTURES / "local_no_usage_stream.sse", request_id=None))
    events = [e async for e in p.chat_model("qwen2.5-7b-instruct").stream(HELLO)]
    finish = events[-1]
    assert isinstance(finish, Finish) and finish.finish_reason.unified == "stop"
    u = finish.usage
    assert (u.input_tokens, u.output_tokens, u.cached_input_tokens, u.reasoning_tokens) == (
        None, None, None, None)
    assert u.raw == {}
    assert collect(events).metadata.request_id is None
    assert "stream_options" not in server[0].last.body


async def test_usage_sent_without_being_asked(server: tuple[FakeVendor, str]) -> None:
    """A server that ignores stream_options and sends usage anyway is still counted."""
    p = provider(server, supports_stream_options=False)
    server[0].then(raw_sse(FIXTURES / "deepseek_reasoner_stream.sse"))
    result = collect([e async for e in p.chat_model("deepseek-chat").stream(HELLO)])
    assert result.usage.input_tokens == 20


async def test_deepseek_non_stream_reasoning_and_cache_hits(
        server: tuple[FakeVendor, str]) -> None:
    p = provider(server, reasoning_field="reasoning_content")
    server[0].then(raw_json(FIXTURES / "deepseek_response.json"))
    result = await p.chat_model("deepseek-reasoner").generate(HELLO)
    assert result.text == "9.8 is greater."
    assert isinstance(result.parts[0], ReasoningPart)
    assert result.parts[0].text == "Compare 0.11 with 0.80."
    u = result.usage
    assert (u.input_tokens, u.cached_input_tokens, u.output_tokens, u.reasoning_tokens) == (
        64, 48, 120, 100)


async def test_non_stream_without_usage(server: tuple[FakeVendor, str]) -> None:
    p = provider(server)
    server[0].then(raw_json(FIXTURES / "no_usage_response.json"))
    result = await p.chat_model("llama3.2").generate(HELLO)
    assert result.text == "No numbers here." and result.complete
    assert result.usage.input_tokens is None and result.usage.output_tokens is None


async def test_fake_wire_with_reasoning_field() -> None:
    """The shared fake speaks a compatible server's reasoning deltas too."""
    with fake_vendor(Wire(reasoning_field="reasoning")) as (vendor, base):
        vendor.then(Reply(reasoning=["step 1. ", "step 2."], chunks=["Done."]))
        p = OpenAICompatibleProvider(OpenAICompatibleConfig(
            base_url=base, reasoning_field="reasoning", requires_api_key=False))
        result = collect([e async for e in p.chat_model("qwen3").stream(HELLO)])
    assert result.text == "Done."
    assert isinstance(result.parts[0], ReasoningPart)
    assert result.parts[0].text == "step 1. step 2."
