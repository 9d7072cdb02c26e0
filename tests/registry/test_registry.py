"""Routing, provider caching and the catalog, on real provider classes (no network)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import ClassVar

import pytest

from switchboard.providers.offline import OfflineProvider
from switchboard.providers.openai import OpenAIProvider
from switchboard.registry import (
    DEFAULT_MODEL_REF,
    KindNotInstalledError,
    ProviderDisabledError,
    ProviderInstance,
    Registry,
)
from switchboard.spec import (
    Capabilities,
    ChatModel,
    ChatRequest,
    ConfigurationError,
    Finish,
    FinishReason,
    InvalidRequestError,
    Message,
    MissingApiKeyError,
    ModelInfo,
    Price,
    Provider,
    ProviderConfig,
    StreamEvent,
    StreamStart,
    TextDelta,
    UnknownModelError,
    UnknownProviderError,
    Usage,
)

TOOLS = Capabilities(streaming=True, tools=True)
PRICE = Price(input=Decimal("2.50"), output=Decimal("10"), cached_input=Decimal("1.25"))


class LocalConfig(ProviderConfig):
    flavour: str = "plain"


class LocalModel(ChatModel):
    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        yield StreamStart()
        yield TextDelta(f"{self.provider.name}/{self.model_id}")
        yield Finish(FinishReason("stop"), Usage(input_tokens=1, output_tokens=1))


class LocalProvider(Provider):
    """A keyless local-server style provider."""

    kind: ClassVar[str] = "local"
    display_name: ClassVar[str] = "Local"
    Config: ClassVar[type[ProviderConfig]] = LocalConfig
    requires_api_key: ClassVar[bool] = False
    default_model: ClassVar[str | None] = "small"

    def chat_model(self, model_id: str) -> ChatModel:
        return LocalModel(self, model_id)

    async def list_models(self) -> list[ModelInfo]:
        return []


def info(model_id: str, **kw: object) -> ModelInfo:
    return ModelInfo(id=model_id, capabilities=TOOLS, **kw)  # type: ignore[arg-type]


def make_registry(**extra: ProviderInstance) -> Registry:
    instances = [
        ProviderInstance("offline", "offline", models={"offline-chat": info("offline-chat")}),
        ProviderInstance("ollama", "local", LocalConfig(flavour="ollama"), models={
            "llama3:8b": info("llama3:8b"), "shared": info("shared")}),
        ProviderInstance("vllm", "local", models={
            "shared": info("shared"), "qwen": info("qwen", price=PRICE, context_window=32000)},
            default_model="qwen"),
        ProviderInstance("openai", "openai", models={"gpt-4o": info("gpt-4o", price=PRICE)}),
        ProviderInstance("old", "local", enabled=False, models={"legacy": info("legacy")}),
    ]
    named = {i.name: i for i in instances} | extra  # extras add or replace
    return Registry([OfflineProvider, LocalProvider, OpenAIProvider], named.values())


REQUEST = ChatRequest(messages=[Message.user("hi")])


def test_provider_colon_model_splits_on_the_first_colon() -> None:
    r = make_registry().resolve("ollama:llama3:8b")
    assert (r.provider_name, r.kind, r.model_id, r.ref) == (
        "ollama", "local", "llama3:8b", "ollama:llama3:8b")
    assert r.info is not None and r.capabilities == TOOLS


def test_a_bare_model_id_known_to_one_enabled_provider_resolves() -> None:
    registry = make_registry()
    assert registry.resolve("qwen").ref == "vllm:qwen"
    assert registry.resolve("llama3:8b").ref == "ollama:llama3:8b"  # colon, not a provider


def test_an_ambiguous_bare_model_lists_the_candidates() -> None:
    with pytest.raises(InvalidRequestError) as err:
        make_registry().resolve("shared")
    assert str(err.value) == (
        "model 'shared' is offered by several providers; name one: ollama:shared, vllm:shared")


def test_no_ref_means_the_default_model_and_a_provider_means_its_default() -> None:
    registry = make_registry()
    assert registry.resolve(None).ref == DEFAULT_MODEL_REF == "offline:offline-chat"
    assert registry.resolve("").ref == DEFAULT_MODEL_REF
    assert registry.resolve("vllm").ref == "vllm:qwen"  # instance default
    assert registry.resolve("ollama:").ref == "ollama:small"  # the kind's default


def test_unknown_provider_lists_the_providers_and_suggests() -> None:
    with pytest.raises(UnknownProviderError) as err:
        make_registry().resolve("opneai:gpt-4o")
    message = str(err.value)
    assert "unknown provider 'opneai' (did you mean 'openai'?)" in message
    assert "providers: offline, old, ollama, openai, vllm" in message


def test_unknown_bare_model_suggests_provider_model_and_the_models_command() -> None:
    with pytest.raises(UnknownModelError) as err:
        make_registry().resolve("gpt-9")
    assert "'provider:model'" in str(err.value)
    assert "switchboard models" in str(err.value)


def test_a_model_the_catalog_does_not_know_passes_through_with_unknown_price() -> None:
    r = make_registry().resolve("vllm:brand-new-model")
    assert r.info is None
    assert r.price is None
    assert r.capabilities == Capabilities(streaming=True)
    assert r.cost(Usage(input_tokens=1000, output_tokens=10)) is None


def test_cost_uses_the_catalog_price() -> None:
    r = make_registry().resolve("openai:gpt-4o")
    usage = Usage(input_tokens=1_000, cached_input_tokens=400, output_tokens=100)
    # 600 * 2.50 + 400 * 1.25 + 100 * 10, per million
    assert r.cost(usage) == Decimal("0.003")
    assert r.price == PRICE


def test_disabled_providers_give_a_clear_error() -> None:
    registry = make_registry()
    with pytest.raises(ProviderDisabledError, match="provider 'old' was switched off"):
        registry.resolve("old:legacy")
    with pytest.raises(ProviderDisabledError, match="only offered by disabled provider"):
        registry.resolve("legacy")


async def test_missing_key_raises_when_called_before_any_network() -> None:
    # Port 9 (discard) on loopback: were a request attempted, the error would be a
    # connection error, not the missing key.
    registry = make_registry(openai=ProviderInstance(
        "openai", "openai", OpenAIProvider.Config(base_url="http://127.0.0.1:9/v1")))
    resolved = registry.resolve("openai:gpt-4o")  # routing itself needs no key
    with pytest.raises(MissingApiKeyError) as err:
        resolved.stream(REQUEST)
    assert "OPENAI_API_KEY" in str(err.value)
    assert "switchboard keys set openai" in str(err.value)
    with pytest.raises(MissingApiKeyError):
        await resolved.generate(REQUEST)


def test_an_instance_of_a_kind_not_installed_names_the_installed_kinds() -> None:
    registry = make_registry(ghost=ProviderInstance("ghost", "anthropic"))
    with pytest.raises(KindNotInstalledError) as err:
        registry.resolve("ghost:claude")
    assert "kind 'anthropic', which is not installed" in str(err.value)
    assert "installed kinds: local, offline, openai" in str(err.value)


def test_a_bad_setting_is_a_configuration_error_naming_provider_and_setting() -> None:
    bad = ProviderInstance("bad", "local", ProviderConfig(max_retries=3))
    registry = make_registry(bad=bad)
    assert registry.provider("bad").config.max_retries == 3  # coerced to LocalConfig
    assert isinstance(registry.provider("bad").config, LocalConfig)
    wrong = ProviderInstance("wrong", "offline", LocalConfig(flavour="x"))
    with pytest.raises(ConfigurationError) as err:
        make_registry(wrong=wrong).resolve("wrong:offline-chat")
    assert "provider 'wrong' (offline) is misconfigured: flavour: " in str(err.value)


def test_providers_are_cached_until_the_instance_changes() -> None:
    registry = make_registry()
    first = registry.provider("ollama")
    assert registry.provider("ollama") is first
    assert isinstance(first.config, LocalConfig) and first.config.flavour == "ollama"
    assert first.name == "ollama"
    version = registry.version
    same = ProviderInstance("ollama", "local", LocalConfig(flavour="ollama"), models={
        "llama3:8b": info("llama3:8b"), "shared": info("shared")})
    registry.upsert(same)  # equal content: nothing to rebuild
    assert registry.provider("ollama") is first
    registry.upsert(ProviderInstance("ollama", "local", LocalConfig(flavour="new")))
    rebuilt = registry.provider("ollama")
    assert rebuilt is not first
    assert isinstance(rebuilt.config, LocalConfig) and rebuilt.config.flavour == "new"
    assert registry.version == version + 2
    registry.remove("ollama")
    with pytest.raises(UnknownProviderError):
        registry.provider("ollama")


def test_instances_validate_names() -> None:
    with pytest.raises(ValueError, match="contain no ':'"):
        ProviderInstance("a:b", "local")
    with pytest.raises(ValueError, match="two provider instances are named 'x'"):
        Registry([LocalProvider], [ProviderInstance("x", "local"),
                                   ProviderInstance("x", "local")])


def test_the_catalog_lists_every_model_with_status(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = make_registry()
    entries = {e.ref: e for e in registry.catalog()}
    assert list(entries) == [
        "offline:offline-chat", "old:legacy", "ollama:llama3:8b", "ollama:shared",
        "openai:gpt-4o", "vllm:qwen", "vllm:shared"]
    assert entries["offline:offline-chat"].is_default
    assert entries["offline:offline-chat"].configured
    assert not entries["openai:gpt-4o"].configured
    assert not entries["old:legacy"].enabled
    qwen = entries["vllm:qwen"].as_dict()
    assert qwen["price_per_million"] == {"input": 2.5, "cached_input": 1.25, "output": 10,
                                         "cache_write": None}
    assert qwen["context_window"] == 32000
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert all(e.configured for e in registry.catalog("openai"))
    with pytest.raises(UnknownProviderError):
        registry.catalog("nope")


async def test_a_resolved_model_streams_and_generates() -> None:
    resolved = make_registry().resolve("vllm:qwen")
    events = [e async for e in resolved.stream(REQUEST)]
    assert [type(e).__name__ for e in events] == ["StreamStart", "TextDelta", "Finish"]
    result = await resolved.generate(REQUEST)
    assert result.text == "vllm/qwen"
