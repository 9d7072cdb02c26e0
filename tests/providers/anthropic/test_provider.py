"""The adapter over HTTP against the fake vendor: keys, base URLs, errors, warnings,
retries, model listing and key validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.providers.anthropic import AnthropicConfig, AnthropicProvider
from switchboard.spec import (
    AuthenticationError,
    BadRequestError,
    ChatRequest,
    ErrorEvent,
    Finish,
    Message,
    MissingApiKeyError,
    OverloadedError,
    ProviderConfig,
    StreamStart,
    collect,
)
from switchboard.upstream import RetryPolicy, retrying_stream
from tests.fakes.anthropic import MODEL, Wire, make_provider
from tests.fakes.script import Fail, InBandError, Received, Reply
from tests.providers.anthropic.conftest import KEY, Fake, fixture_text

HELLO = ChatRequest(messages=[Message.user("Hello")], max_output_tokens=50)
NO_WAIT = RetryPolicy(max_retries=2, initial_delay=0.0, max_delay=0.0)


def test_kind_description() -> None:
    assert AnthropicProvider.describe(AnthropicProvider()) == {
        "kind": "anthropic", "display_name": "Anthropic", "api_key_env": "ANTHROPIC_API_KEY",
        "base_url_env": "ANTHROPIC_BASE_URL", "default_base_url": "https://api.anthropic.com",
        "default_model": "claude-sonnet-4-5", "requires_api_key": True,
    }
    assert AnthropicProvider().base_url == "https://api.anthropic.com"


async def test_missing_key_names_the_env_var_before_any_request(fake: Fake) -> None:
    model = make_provider(fake.base_url, api_key=None).chat_model(MODEL)
    with pytest.raises(MissingApiKeyError, match="ANTHROPIC_API_KEY"):
        [e async for e in model.stream(HELLO)]
    with pytest.raises(MissingApiKeyError, match="ANTHROPIC_API_KEY"):
        await model.generate(HELLO)
    with pytest.raises(MissingApiKeyError, match="ANTHROPIC_API_KEY"):
        await make_provider(fake.base_url, api_key=None).list_models()
    assert fake.vendor.requests == []


async def test_key_and_base_url_from_the_environment(
    fake: Fake, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-0000")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url + "/")
    result = await AnthropicProvider().chat_model(MODEL).generate(HELLO)
    assert result.text == "Hello, world!"
    assert fake.vendor.last.headers["x-api-key"] == "sk-ant-from-env-0000"
    assert fake.vendor.last.path == "/v1/messages"


async def test_a_plain_provider_config_is_accepted(fake: Fake) -> None:
    """The registry may build the config as the base class; it is upgraded, not refused."""
    provider = AnthropicProvider(ProviderConfig(api_key=KEY, base_url=fake.base_url))
    assert isinstance(provider.config, AnthropicConfig)
    assert (await provider.chat_model(MODEL).generate(HELLO)).complete


def test_config_refuses_unknown_settings() -> None:
    with pytest.raises(ValueError, match="betas"):
        AnthropicConfig(betas=["x"])  # type: ignore[call-arg]


async def test_401_does_not_leak_the_key(fake: Fake) -> None:
    fake.vendor.then(Fail(401, f"invalid x-api-key: {KEY}", error_type="authentication_error"))
    with pytest.raises(AuthenticationError) as info:
        [e async for e in fake.model().stream(HELLO)]
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert info.value.vendor_type == "authentication_error"


async def test_bad_request_from_the_vendor_is_clear(fake: Fake) -> None:
    """An escape-hatch field Anthropic does not know is sent, and its 400 surfaces."""
    request = ChatRequest(messages=[Message.user("Hi")],
                          provider_options={"anthropic": {"bogus_field": 1}})
    with pytest.raises(BadRequestError, match="bogus_field: Extra inputs are not permitted"):
        await fake.model().generate(request)


async def test_warnings_arrive_in_stream_start(fake: Fake) -> None:
    request = ChatRequest(messages=[Message.user("Hi")], seed=7, frequency_penalty=0.5,
                          presence_penalty=0.1, temperature=1.5)
    events = [e async for e in fake.model("claude-3-5-haiku-20241022").stream(request)]
    start = events[0]
    assert isinstance(start, StreamStart)
    assert [w.setting for w in start.warnings] == [
        "temperature", "seed", "frequency_penalty", "presence_penalty"]
    assert all(w.type == "unsupported-setting" for w in start.warnings)
    assert fake.vendor.last.body["temperature"] == 1.0
    for name in ("seed", "frequency_penalty", "presence_penalty"):
        assert name not in json.dumps(fake.vendor.last.body)


async def test_thinking_drops_what_the_api_refuses(fake: Fake) -> None:
    """The fake refuses temperature/top_k with thinking, as Anthropic does; the adapter
    drops them with warnings so the call succeeds."""
    request = ChatRequest(messages=[Message.user("Hi")], temperature=0.2, top_k=10,
                          reasoning_effort="low")
    result = await fake.model().generate(request)
    assert result.complete
    assert {w.setting for w in result.warnings} == {"temperature", "top_k"}
    assert fake.vendor.last.body["thinking"] == {"type": "enabled", "budget_tokens": 4096}


async def test_reasoning_streamed_with_signature(fake: Fake) -> None:
    fake.vendor.then(Reply(reasoning=["Think ", "hard."], reasoning_signature="sig_abc",
                           chunks=["Answer."]))
    result = collect([e async for e in fake.model().stream(
        ChatRequest(messages=[Message.user("Q")], reasoning_effort="high"))])
    reasoning = result.parts[0]
    assert reasoning.type == "reasoning" and reasoning.text == "Think hard."
    assert reasoning.provider_metadata == {"anthropic": {"signature": "sig_abc"}}
    assert result.text == "Answer."


async def test_in_band_overloaded_error(fake: Fake) -> None:
    fake.vendor.then(InBandError(Reply(chunks=["Part ", "two"]), after=1))
    events = [e async for e in fake.model().stream(HELLO)]
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, OverloadedError)
    assert collect(events).text == "Part "


async def test_529_is_retried_by_the_framework(fake: Fake) -> None:
    fake.vendor.then(Fail(529, "Overloaded"), Reply(chunks=["ok"]))
    model = fake.model()
    events = [e async for e in retrying_stream(lambda: model.stream(HELLO), NO_WAIT,
                                               provider="anthropic")]
    assert isinstance(events[-1], Finish) and collect(events).text == "ok"
    assert len(fake.vendor.chat_requests()) == 2


async def test_usage_with_cache_from_the_fake(fake: Fake) -> None:
    fake.vendor.then(Reply(input_tokens=1000, cached_tokens=800, cache_write_tokens=150,
                           output_tokens=20))
    result = collect([e async for e in fake.model().stream(HELLO)])
    assert result.usage.input_tokens == 1000
    assert (result.usage.cached_input_tokens, result.usage.cache_write_tokens) == (800, 150)
    assert result.usage.raw["input_tokens"] == 50


async def test_list_models(fake: Fake) -> None:
    models = await fake.provider().list_models()
    assert [m.id for m in models] == [MODEL, "claude-opus-4-1-20250805",
                                      "claude-3-5-haiku-20241022"]
    sonnet, opus, haiku = models
    assert sonnet.name == "Claude Sonnet 4.5" and sonnet.owned_by == "anthropic"
    assert sonnet.created == 1759104000
    assert sonnet.capabilities.reasoning and not haiku.capabilities.reasoning
    assert sonnet.capabilities.vision and sonnet.capabilities.tools
    assert (opus.max_output_tokens, haiku.max_output_tokens) == (32_000, 8_192)
    assert fake.vendor.last.query == {"limit": "1000"}
    assert fake.vendor.last.headers["x-api-key"] == KEY


class PagedWire(Wire):
    """Serves the two recorded pages in turn."""

    def __init__(self) -> None:
        self.pages = [json.loads(fixture_text("models_page1.json")),
                      json.loads(fixture_text("models_page2.json"))]

    def models_body(self) -> Any:
        return self.pages.pop(0)


async def test_list_models_follows_pages(fake: Fake) -> None:
    fake.vendor.wire = PagedWire()
    models = await fake.provider().list_models()
    assert [m.id for m in models] == ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805",
                                      "claude-3-5-haiku-20241022"]
    queries = [r.query for r in fake.vendor.requests]
    assert queries == [{"limit": "1000"},
                       {"limit": "1000", "after_id": "claude-opus-4-1-20250805"}]


async def test_validate_key(fake: Fake) -> None:
    check = await fake.provider().validate_key()
    assert check.ok and check.models_seen == 3

    def wrong_key(request: Received) -> str | None:
        return None if request.headers.get("x-api-key") == "right" else "invalid x-api-key"

    fake.vendor.key_check = wrong_key
    try:
        bad = await fake.provider().validate_key()
    finally:
        fake.vendor.key_check = None
    assert not bad.ok and "invalid x-api-key" in bad.message and KEY not in bad.message


def test_capabilities_from_the_model_table() -> None:
    provider = AnthropicProvider()
    assert provider.capabilities(MODEL).reasoning
    assert provider.capabilities("claude-sonnet-4-5-20250929").json_output
    assert not provider.capabilities("claude-3-5-haiku-20241022").reasoning
    assert provider.capabilities("claude-future-9").streaming
