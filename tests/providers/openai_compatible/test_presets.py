"""Every bundled preset builds a working provider: right path, right key, right quirks."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from switchboard.providers.openai_compatible import (
    OpenAICompatibleConfig,
    OpenAICompatibleProvider,
    load_presets,
)
from switchboard.spec import ChatRequest, Message, MissingApiKeyError, UnknownProviderError
from tests.fakes.vendor import FakeVendor
from tests.providers.openai.helpers import KEY, fake_vendor, reset

PRESETS = load_presets()
HELLO = ChatRequest(messages=[Message.user("Hello")], max_output_tokens=10)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeVendor, str]]:
    with fake_vendor() as served:
        yield served


def test_bundled_presets() -> None:
    assert set(PRESETS) == {"groq", "together", "openrouter", "deepseek", "xai", "fireworks",
                            "ollama", "vllm", "lmstudio"}
    for preset in PRESETS.values():
        assert preset.base_url.startswith(("https://", "http://localhost:"))
        assert preset.docs_url.startswith("https://")
        local = preset.base_url.startswith("http://localhost")
        assert (preset.api_key_env is None) == local, preset.name
        assert preset.quirks.get("requires_api_key", True) is not local, preset.name


@pytest.mark.parametrize("name", sorted(PRESETS))
async def test_preset_request_goes_to_the_documented_path(
        name: str, server: tuple[FakeVendor, str], monkeypatch: pytest.MonkeyPatch) -> None:
    vendor, base = server
    reset(vendor)
    preset = PRESETS[name]
    if preset.api_key_env:
        monkeypatch.setenv(preset.api_key_env, KEY)
    # Same path as the vendor documents, on the fake's host.
    path = urlsplit(preset.base_url).path.rstrip("/")
    provider = OpenAICompatibleProvider.from_preset(name, base_url=base + path)
    assert provider.name == name
    model = provider.compat.default_model
    assert model == preset.default_model
    result = await provider.chat_model(model).generate(HELLO)
    assert result.complete
    sent = vendor.last
    assert sent.path == f"{path}/chat/completions"
    assert sent.body["model"] == preset.default_model
    expected_field = preset.quirks.get("max_tokens_field", "max_completion_tokens")
    assert sent.body[expected_field] == 10
    if preset.api_key_env:
        assert sent.headers["authorization"] == f"Bearer {KEY}"
    else:
        assert "authorization" not in sent.headers


def test_preset_keeps_the_documented_base_url() -> None:
    provider = OpenAICompatibleProvider.from_preset("groq", api_key=KEY)
    assert provider.base_url == "https://api.groq.com/openai/v1"
    assert provider.quirks.reasoning_field == "reasoning"
    assert provider.is_configured


def test_preset_overrides_and_instance_name() -> None:
    provider = OpenAICompatibleProvider.from_preset(
        "ollama", name="gpu-box", base_url="http://10.0.0.5:11434/v1", timeout=5.0,
        supports_seed=False)
    assert provider.name == "gpu-box"
    assert provider.base_url == "http://10.0.0.5:11434/v1"
    assert provider.quirks.supports_seed is False
    assert provider.config.timeout == 5.0
    assert provider.describe()["default_model"] == "llama3.2"


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(UnknownProviderError, match="groq"):
        OpenAICompatibleProvider.from_preset("grok")


def test_missing_key_names_the_presets_env_var() -> None:
    provider = OpenAICompatibleProvider.from_preset("together")
    assert not provider.is_configured
    with pytest.raises(MissingApiKeyError, match="TOGETHER_API_KEY"):
        provider.require_api_key()


def test_base_url_is_required_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match=r"base_url is required.*localhost:11434/v1"):
        OpenAICompatibleConfig()
    with pytest.raises(ValueError, match="http:// or https://"):
        OpenAICompatibleConfig(base_url="localhost:8000/v1")
    with pytest.raises(ValueError, match="max_token_field"):
        OpenAICompatibleConfig(base_url="http://x/v1", max_token_field="max_tokens")  # type: ignore[call-arg]
