"""Configuration (keys, base URL), model discovery, bad input and unsupported settings."""

from __future__ import annotations

import json

import pytest

from switchboard.providers.gemini import GeminiConfig, GeminiProvider
from switchboard.spec import (
    ChatRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    MissingApiKeyError,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from tests.fakes.gemini import MODEL, Wire, make_provider
from tests.providers.gemini.conftest import FIXTURES, Server
from tests.providers.gemini.wire_fields import check_request

KEY = "AIzaSyTestKey0123456789abcdefghijklmn"
HELLO = ChatRequest(messages=[Message.user("Hello")])


# -- configuration ---------------------------------------------------------------------
async def test_missing_key_names_both_env_vars(server: Server) -> None:
    provider = make_provider(server.base_url, api_key=None)
    with pytest.raises(MissingApiKeyError) as info:
        await provider.chat_model(MODEL).generate(HELLO)
    assert "GEMINI_API_KEY" in str(info.value) and "GOOGLE_API_KEY" in str(info.value)
    assert "switchboard keys set gemini" in str(info.value)
    assert server.vendor.requests == [], "no network call without a key"
    with pytest.raises(MissingApiKeyError):
        await provider.list_models()


def test_key_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key")
    assert GeminiProvider().api_key == "google-key", "GOOGLE_API_KEY is the fallback"
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    assert GeminiProvider().api_key == "gemini-key", "GEMINI_API_KEY wins over GOOGLE_API_KEY"
    configured = GeminiProvider(GeminiConfig(api_key="configured-key"))
    assert configured.api_key == "configured-key", "an instance's own key wins over both"


def test_base_url_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    assert GeminiProvider().api_root == "https://generativelanguage.googleapis.com/v1beta"
    monkeypatch.setenv("GEMINI_BASE_URL", "https://proxy.example/gemini/")
    assert GeminiProvider().api_root == "https://proxy.example/gemini/v1beta"
    monkeypatch.setenv("GEMINI_BASE_URL", "https://proxy.example/gemini/v1beta")
    assert GeminiProvider().api_root == "https://proxy.example/gemini/v1beta", (
        "a base URL that already names the version is not given a second one"
    )
    pinned = GeminiProvider(GeminiConfig(base_url="https://x.example", api_version="v1"))
    assert pinned.api_root == "https://x.example/v1"


def test_config_refuses_unknown_and_bad_values() -> None:
    with pytest.raises(ValueError, match="api_version"):
        GeminiConfig(api_version="latest")
    with pytest.raises(ValueError, match="api_versoin"):
        GeminiConfig.model_validate({"api_versoin": "v1"})


async def test_bad_model_id_is_refused_before_any_call(server: Server) -> None:
    provider = make_provider(server.base_url, api_key=KEY)
    for bad in ("gemini-2.5-flash:generateContent", "a/b/c", "models/", "two words"):
        with pytest.raises(InvalidRequestError, match="not a Gemini model id"):
            await provider.chat_model(bad).generate(HELLO)
    assert server.vendor.requests == []
    await provider.chat_model("models/gemini-2.5-flash").generate(HELLO)
    assert server.vendor.last.path == "/v1beta/models/gemini-2.5-flash:generateContent"


# -- discovery -----------------------------------------------------------------------------
async def test_list_models_follows_pages_and_keeps_chat_models(server: Server) -> None:
    pages = [json.loads((FIXTURES / f"models_page{i}.json").read_text()) for i in (1, 2)]
    server.vendor.wire = Wire(model_pages=pages)
    models = await make_provider(server.base_url, api_key=KEY).list_models()
    assert [m.id for m in models] == ["gemini-2.5-flash", "gemini-2.0-flash",
                                      "gemini-2.5-flash-preview-tts"]
    flash = models[0]
    assert (flash.context_window, flash.max_output_tokens) == (1048576, 65536)
    assert flash.name == "Gemini 2.5 Flash"
    caps = flash.capabilities
    assert caps.streaming and caps.tools and caps.vision and caps.json_output and caps.reasoning
    assert not models[1].capabilities.reasoning
    assert not models[2].capabilities.tools, "a TTS model claims no tools"
    sent = server.vendor.requests
    assert [r.query.get("pageToken") for r in sent] == [None, pages[0]["nextPageToken"]]
    assert all(r.headers["x-goog-api-key"] == KEY and "key" not in r.query for r in sent)


async def test_validate_key_lists_models(server: Server) -> None:
    check = await make_provider(server.base_url, api_key=KEY).validate_key()
    assert check.ok and check.models_seen == 1


def test_capabilities_without_a_listing() -> None:
    provider = GeminiProvider()
    assert provider.capabilities("gemini-2.5-pro").tools
    assert provider.capabilities("gemini-2.5-flash-image").image_output
    unknown = provider.capabilities("learnlm-2.0-flash-experimental")
    assert unknown.streaming and not unknown.tools


# -- bad input and settings Gemini cannot honour ----------------------------------------
async def test_tool_call_arguments_must_be_an_object(server: Server) -> None:
    broken = Message(role="assistant", parts=[
        ToolCallPart(id="c1", name="get_weather", arguments='{"city": "Par'),
    ])
    request = ChatRequest(messages=[Message.user("Hi"), broken])
    with pytest.raises(InvalidRequestError) as info:
        await make_provider(server.base_url, api_key=KEY).chat_model(MODEL).generate(request)
    assert "'c1' (get_weather)" in str(info.value) and "JSON object" in str(info.value)
    assert server.vendor.requests == []


async def test_tool_result_needs_a_name_gemini_can_match(server: Server) -> None:
    request = ChatRequest(messages=[
        Message.user("Hi"),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="orphan", content="42")]),
    ])
    with pytest.raises(InvalidRequestError) as info:
        await make_provider(server.base_url, api_key=KEY).chat_model(MODEL).generate(request)
    assert "'orphan'" in str(info.value) and "set 'name'" in str(info.value)


async def test_system_prompt_alone_is_refused(server: Server) -> None:
    request = ChatRequest(messages=[Message.system("Be nice."), Message.user("")])
    with pytest.raises(InvalidRequestError, match="at least one non-empty user"):
        await make_provider(server.base_url, api_key=KEY).chat_model(MODEL).generate(request)
    assert server.vendor.requests == []


async def test_unsupported_settings_are_warned(server: Server) -> None:
    request = ChatRequest(
        messages=[Message.user("Look", ImagePart(url="http://example.com/a.png", detail="high"))],
        tools=[Tool(name="lookup", strict=True)], parallel_tool_calls=False, user="user-42",
    )
    result = await make_provider(server.base_url, api_key=KEY).chat_model(MODEL).generate(request)
    settings = sorted(w.setting or w.type for w in result.warnings)
    assert settings == ["detail", "parallel_tool_calls", "tools.strict", "unsupported-part",
                        "user"]
    url_warning = next(w for w in result.warnings if w.type == "unsupported-part")
    assert "HTTPS only" in url_warning.message
    body = server.vendor.last.body
    check_request(body)
    assert "user-42" not in json.dumps(body)


async def test_external_url_on_an_old_model_is_warned(server: Server) -> None:
    request = ChatRequest(messages=[
        Message.user("Look", ImagePart(url="https://example.com/a.png")),
    ])
    model = make_provider(server.base_url, api_key=KEY).chat_model("gemini-2.0-flash")
    result = await model.generate(request)
    assert len(result.warnings) == 1
    assert "Files API" in result.warnings[0].message


def test_field_check_catches_a_snake_case_slip() -> None:
    with pytest.raises(AssertionError, match="generation_config"):
        check_request({"contents": [], "generation_config": {"max_output_tokens": 5}})
    with pytest.raises(AssertionError, match="maxTokens"):
        check_request({"contents": [], "generationConfig": {"maxTokens": 5}})
    with pytest.raises(AssertionError, match="role"):
        check_request({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]})
