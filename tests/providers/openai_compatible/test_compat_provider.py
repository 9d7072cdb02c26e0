"""The ``openai_compatible`` provider: keys, options, model discovery, request bodies."""

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
    Message,
    MissingApiKeyError,
    ResponseFormatJsonSchema,
    Tool,
    collect_stream,
)
from tests.fakes.openai import Wire
from tests.fakes.script import Raw
from tests.fakes.vendor import FakeVendor
from tests.providers.openai.helpers import KEY, fake_vendor, reset
from tests.snapshot import assert_snapshot
from tests.spec_validation import validate_request

SNAPSHOTS = Path(__file__).parent / "snapshots"
HELLO = ChatRequest(messages=[Message.user("Hello")])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeVendor, str]]:
    with fake_vendor() as served:
        yield served


@pytest.fixture
def vendor(server: tuple[FakeVendor, str]) -> FakeVendor:
    return reset(server[0])


@pytest.fixture
def base(server: tuple[FakeVendor, str]) -> str:
    return server[1]


async def test_no_key_needed_sends_no_authorization(vendor: FakeVendor, base: str) -> None:
    p = OpenAICompatibleProvider(OpenAICompatibleConfig(base_url=base,
                                                        requires_api_key=False))
    assert p.is_configured
    result = await collect_stream(p.chat_model("llama3.2").stream(HELLO))
    assert result.complete
    assert "authorization" not in vendor.last.headers


async def test_key_required_by_default(vendor: FakeVendor, base: str) -> None:
    p = OpenAICompatibleProvider(OpenAICompatibleConfig(base_url=base), name="corp-llm")
    with pytest.raises(MissingApiKeyError, match=r"corp-llm.*requires_api_key"):
        await collect_stream(p.chat_model("m").stream(HELLO))
    assert vendor.requests == []


async def test_key_from_configured_env_var(vendor: FakeVendor, base: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORP_LLM_KEY", KEY)
    p = OpenAICompatibleProvider(OpenAICompatibleConfig(base_url=base,
                                                        api_key_env="CORP_LLM_KEY"))
    await p.chat_model("m").generate(HELLO)
    assert vendor.last.headers["authorization"] == f"Bearer {KEY}"


async def test_provider_options_by_kind_then_instance_name(vendor: FakeVendor,
                                                          base: str) -> None:
    p = OpenAICompatibleProvider.from_preset("openrouter", api_key=KEY, base_url=base)
    request = ChatRequest(messages=[Message.user("hi")], provider_options={
        "openai_compatible": {"top_logprobs": 1, "transforms": ["a"]},
        "openrouter": {"transforms": ["middle-out"], "models": ["x/y", "z/w"]},
        "openai": {"service_tier": "flex"},
    })
    await p.chat_model("openai/gpt-4o-mini").generate(request)
    body = vendor.last.body
    assert body["transforms"] == ["middle-out"]
    assert body["models"] == ["x/y", "z/w"] and body["top_logprobs"] == 1
    assert "service_tier" not in body


class ListingWire(Wire):
    """A compatible server whose model list says more than OpenAI's (OpenRouter's
    architecture and parameters, Together's type and context length, Ollama's bare list,
    Groq's speech models that only the id tells apart)."""

    def models_body(self) -> Any:
        return {"object": "list", "data": [
            {"id": "openai/gpt-4o", "name": "OpenAI: GPT-4o", "context_length": 128000,
             "architecture": {"input_modalities": ["text", "image"]},
             "supported_parameters": ["tools", "response_format", "max_tokens"]},
            {"id": "meta/llama", "type": "chat", "context_length": 8192},
            {"id": "embed-1", "type": "embedding"},
            {"id": "llama3.2:latest", "object": "model", "created": 1, "owned_by": "library"},
            {"id": "nomic-embed-text:latest", "object": "model", "owned_by": "library"},
            {"id": "whisper-large-v3", "object": "model", "owned_by": "OpenAI"},
            {"id": "black-forest-labs/FLUX.1-schnell",
             "architecture": {"input_modalities": ["text"], "output_modalities": ["image"]}},
        ]}


async def test_list_models_reads_what_the_server_says() -> None:
    with fake_vendor(ListingWire()) as (vendor, base):
        p = OpenAICompatibleProvider(OpenAICompatibleConfig(base_url=base, api_key=KEY))
        models = {m.id: m for m in await p.list_models()}
    assert sorted(models) == ["llama3.2:latest", "meta/llama", "openai/gpt-4o"]
    gpt = models["openai/gpt-4o"]
    assert gpt.capabilities.vision and gpt.capabilities.tools and gpt.capabilities.json_output
    assert gpt.context_window == 128000 and gpt.display_name == "OpenAI: GPT-4o"
    llama = models["llama3.2:latest"].capabilities
    assert llama.streaming and not (llama.tools or llama.vision)
    assert models["meta/llama"].context_window == 8192
    assert vendor.last.path == "/models"


async def test_validate_key_reports_refusal(vendor: FakeVendor, base: str) -> None:
    vendor.key_check = lambda r: "Invalid API Key"
    try:
        p = OpenAICompatibleProvider(OpenAICompatibleConfig(base_url=base, api_key=KEY))
        check = await p.validate_key()
    finally:
        vendor.key_check = None
    assert not check.ok and "Invalid API Key" in check.message


async def test_http_error_from_a_compatible_server(vendor: FakeVendor, base: str) -> None:
    vendor.then(Raw(404, b'{"error": "model \\"nope\\" not found, try pulling it first"}'))
    p = OpenAICompatibleProvider(OpenAICompatibleConfig(base_url=base,
                                                        requires_api_key=False))
    with pytest.raises(Exception, match="not found, try pulling it"):
        await collect_stream(p.chat_model("nope").stream(HELLO))


@pytest.mark.parametrize("preset", ["deepseek", "ollama"])
async def test_preset_request_body_snapshot(preset: str, vendor: FakeVendor,
                                            base: str) -> None:
    p = OpenAICompatibleProvider.from_preset(preset, api_key=KEY, base_url=base)
    request = ChatRequest(
        system="Be brief.", messages=[Message.user("List two colours")],
        max_output_tokens=100, seed=1, temperature=0.2,
        tools=[Tool(name="lookup", parameters={"type": "object", "properties": {}})],
        parallel_tool_calls=True,
        response_format=ResponseFormatJsonSchema(name="colours", schema_={"type": "object"}))
    result = await collect_stream(p.chat_model(p.compat.default_model or "").stream(request))
    assert result.complete
    body = vendor.last.body
    assert_snapshot({"body": body, "warnings": sorted(w.setting or "" for w in result.warnings)},
                    SNAPSHOTS / f"{preset}.json")
    validate_request("openai", "/chat/completions", body)
