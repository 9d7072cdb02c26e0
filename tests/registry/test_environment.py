"""``Registry.from_environment()`` / ``open_database_registry()``: instances from env vars."""

from __future__ import annotations

import pytest

from switchboard.providers.openai_compatible import OpenAICompatibleProvider
from switchboard.registry import Registry, load_kinds
from switchboard.registry.environment import preset_base_url_env
from switchboard.services.registry_source import open_database_registry
from switchboard.spec import ChatRequest, Message, MissingApiKeyError, collect
from tests.fakes import openai as fake_openai
from tests.fakes.script import Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

REQUEST = ChatRequest(messages=[Message.user("hi")])


async def test_a_bare_environment_answers_through_the_offline_model() -> None:
    registry = await open_database_registry()
    assert isinstance(registry, Registry)
    resolved = registry.resolve(None)
    assert resolved.ref == "offline:offline-chat"
    result = await resolved.generate(REQUEST)
    assert result.complete and result.text


def test_one_instance_per_vendor_kind_and_no_presets_without_keys() -> None:
    registry = Registry.from_environment()
    names = {i.name for i in registry}
    vendor_kinds = {k.kind for k in load_kinds()} - {"openai_compatible"}
    assert names == vendor_kinds
    assert {"offline", "openai"} <= names
    openai = registry.instance("openai")
    assert openai.default_model in openai.models
    assert not registry.provider("openai").is_configured
    with pytest.raises(MissingApiKeyError, match="OPENAI_API_KEY"):
        registry.resolve("openai").stream(REQUEST)


async def test_vendor_env_vars_configure_the_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    app = FakeVendor(fake_openai.Wire()).then(Reply(chunks=["from ", "env"]))
    with serve_in_thread(app) as base:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{base}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env-key-123456")
        registry = Registry.from_environment()
        assert registry.provider("openai").is_configured
        result = collect([e async for e in registry.resolve("openai:gpt-4o-mini")
                          .stream(REQUEST)])
    assert result.text == "from env"
    assert app.last.headers["authorization"] == "Bearer sk-env-key-123456"


def test_hosted_presets_appear_when_their_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk_secret_value_1234")
    registry = Registry.from_environment()
    groq = registry.instance("groq")
    assert groq.kind == "openai_compatible"
    # The key stays in the environment: the config only names the variable.
    assert groq.config.api_key is None
    provider = registry.provider("groq")
    assert isinstance(provider, OpenAICompatibleProvider)
    assert provider.is_configured
    assert provider.base_url == "https://api.groq.com/openai/v1"
    assert registry.resolve("groq").ref == f"groq:{groq.default_model}"
    assert "together" not in {i.name for i in registry}


def test_local_presets_appear_only_with_their_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "ollama" not in {i.name for i in Registry.from_environment()}
    assert preset_base_url_env("ollama") == "OLLAMA_BASE_URL"
    assert preset_base_url_env("lm-studio") == "LM_STUDIO_BASE_URL"
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:11434/v1")
    registry = Registry.from_environment()
    assert registry.provider("ollama").base_url == "http://127.0.0.1:11434/v1"
    resolved = registry.resolve("ollama:llama3:8b")  # a model the catalog does not know
    assert (resolved.model_id, resolved.price) == ("llama3:8b", None)
