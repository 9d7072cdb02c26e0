"""``ResolvedModel`` over real HTTP: the framework's one retry policy around adapters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.providers.openai import OpenAIProvider
from switchboard.registry import ProviderInstance, Registry, ResolvedModel
from switchboard.spec import (
    AuthenticationError,
    BadRequestError,
    ChatRequest,
    ErrorEvent,
    Finish,
    Message,
    RateLimitError,
    ServerError,
    collect,
)
from tests.fakes import openai as fake_openai
from tests.fakes.script import Break, Fail, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

KEY = "sk-resolved-test-0123456789"
REQUEST = ChatRequest(messages=[Message.user("hi")])
NOW = {"retry-after": "0"}


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    app = FakeVendor(fake_openai.Wire())
    with serve_in_thread(app) as base:
        yield app, f"{base}/v1"


def resolve(base_url: str, max_retries: int = 2) -> ResolvedModel:
    config = OpenAIProvider.Config(base_url=base_url, api_key=KEY, max_retries=max_retries)
    registry = Registry([OpenAIProvider], [ProviderInstance("oa", "openai", config)])
    return registry.resolve("oa:gpt-4o-mini")


async def test_stream_retries_429_then_answers(vendor: tuple[FakeVendor, str]) -> None:
    app, base = vendor
    app.then(Fail(429, "slow down", headers=NOW), Reply(chunks=["Hel", "lo"]))
    result = collect([e async for e in resolve(base).stream(REQUEST)])
    assert result.text == "Hello"
    assert result.usage.input_tokens == 12
    assert len(app.chat_requests()) == 2


async def test_stream_gives_up_after_max_retries(vendor: tuple[FakeVendor, str]) -> None:
    app, base = vendor
    app.then(Fail(500, headers=NOW), Fail(500, headers=NOW), Reply())
    with pytest.raises(ServerError):
        [e async for e in resolve(base, max_retries=1).stream(REQUEST)]
    assert len(app.chat_requests()) == 2


async def test_401_is_not_retried_and_never_shows_the_key(
        vendor: tuple[FakeVendor, str]) -> None:
    app, base = vendor
    app.then(Fail(401, f"Incorrect API key provided: {KEY}"))
    with pytest.raises(AuthenticationError) as err:
        [e async for e in resolve(base).stream(REQUEST)]
    assert KEY not in str(err.value)
    assert len(app.chat_requests()) == 1


async def test_a_broken_stream_is_not_retried_and_keeps_the_partial_text(
        vendor: tuple[FakeVendor, str]) -> None:
    app, base = vendor
    app.then(Break(Reply(chunks=["one ", "two ", "three"]), after=2))
    events = [e async for e in resolve(base).stream(REQUEST)]
    assert isinstance(events[-1], ErrorEvent)
    assert not any(isinstance(e, Finish) for e in events)
    assert collect(events).text == "one two "
    assert len(app.chat_requests()) == 1


async def test_generate_makes_one_non_streaming_call_with_retries(
        vendor: tuple[FakeVendor, str]) -> None:
    app, base = vendor
    app.then(Fail(429, headers=NOW), Reply(chunks=["Hi", " there"]))
    result = await resolve(base).generate(REQUEST)
    assert result.text == "Hi there"
    assert result.complete
    bodies = [r.body for r in app.chat_requests()]
    assert [b.get("stream") for b in bodies] == [None, None]  # never streamed
    assert len(bodies) == 2


async def test_generate_does_not_retry_what_is_not_retryable(
        vendor: tuple[FakeVendor, str]) -> None:
    app, base = vendor
    app.then(Fail(400, "bad"))
    with pytest.raises(BadRequestError):
        await resolve(base).generate(REQUEST)
    app.then(Fail(429, headers=NOW), Fail(429, headers=NOW))
    with pytest.raises(RateLimitError):
        await resolve(base, max_retries=1).generate(REQUEST)
    assert len(app.chat_requests()) == 3
