"""The ``openai`` provider: configuration, keys, warnings, model list, key check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.providers.openai import OpenAIConfig, OpenAIProvider
from switchboard.providers.openai.convert_request import build_body
from switchboard.providers.openai.quirks import OPENAI_QUIRKS, is_reasoning_model
from switchboard.spec import (
    ChatRequest,
    FilePart,
    ImagePart,
    Message,
    MissingApiKeyError,
    ReasoningPart,
    TextPart,
    collect_stream,
)
from tests.fakes.script import Fail
from tests.fakes.vendor import FakeVendor
from tests.providers.openai.helpers import KEY, fake_vendor, reset

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


def test_kind_attributes() -> None:
    assert OpenAIProvider.kind == "openai"
    assert OpenAIProvider.api_key_env == "OPENAI_API_KEY"
    assert OpenAIProvider.base_url_env == "OPENAI_BASE_URL"
    assert OpenAIProvider().base_url == "https://api.openai.com/v1"


async def test_missing_key_names_env_var_before_any_request(vendor: FakeVendor,
                                                            base: str) -> None:
    provider = OpenAIProvider(OpenAIConfig(base_url=base))
    with pytest.raises(MissingApiKeyError, match="OPENAI_API_KEY"):
        await collect_stream(provider.chat_model("gpt-4o-mini").stream(HELLO))
    with pytest.raises(MissingApiKeyError, match="OPENAI_API_KEY"):
        await provider.list_models()
    assert vendor.requests == []


async def test_key_and_base_url_from_env(vendor: FakeVendor, base: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", base + "/v1/")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-123")
    provider = OpenAIProvider()
    result = await provider.chat_model("gpt-4o-mini").generate(HELLO)
    assert result.complete
    sent = vendor.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["openai-organization"] == "org-123"
    assert "openai-project" not in sent.headers


async def test_org_and_project_env_are_read_once_per_provider_the_key_per_call(
        vendor: FakeVendor, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decision 0211: ``OPENAI_ORG_ID`` / ``OPENAI_PROJECT_ID`` are read once per
    provider object (as the official SDK reads them per client); the key from
    ``OPENAI_API_KEY`` is still read at each call (decision 0035)."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)
    provider = OpenAIProvider(OpenAIConfig(base_url=base))
    await provider.chat_model("gpt-4o-mini").generate(HELLO)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-2")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-2")
    monkeypatch.setenv("OPENAI_API_KEY", KEY + "-new")
    await provider.chat_model("gpt-4o-mini").generate(HELLO)
    assert vendor.last.headers["openai-organization"] == "org-1"
    assert "openai-project" not in vendor.last.headers
    assert vendor.last.headers["authorization"] == f"Bearer {KEY}-new"
    await OpenAIProvider(OpenAIConfig(base_url=base)).chat_model("gpt-4o-mini").generate(HELLO)
    assert vendor.last.headers["openai-organization"] == "org-2"
    assert vendor.last.headers["openai-project"] == "proj-2"


async def test_config_headers(vendor: FakeVendor, base: str) -> None:
    provider = OpenAIProvider(OpenAIConfig(
        base_url=base, api_key=KEY, project="proj_1", extra_headers={"x-trace": "abc"}))
    await provider.chat_model("gpt-4o-mini").generate(HELLO)
    assert vendor.last.headers["openai-project"] == "proj_1"
    assert vendor.last.headers["x-trace"] == "abc"


def test_unknown_config_field_is_refused() -> None:
    with pytest.raises(ValueError, match="organisation"):
        OpenAIConfig(organisation="org-1")  # type: ignore[call-arg]


async def test_warnings_reach_the_stream_start(vendor: FakeVendor, base: str) -> None:
    provider = OpenAIProvider(OpenAIConfig(base_url=base, api_key=KEY))
    request = ChatRequest(messages=[Message.user("Hi")], top_k=5, temperature=0.7, top_p=0.5)
    result = await collect_stream(provider.chat_model("o4-mini").stream(request))
    settings = sorted(w.setting or "" for w in result.warnings)
    assert settings == ["temperature", "top_k", "top_p"]
    assert all(w.type == "unsupported-setting" for w in result.warnings)
    for key in ("top_k", "temperature", "top_p"):
        assert key not in vendor.last.body


def test_tool_settings_without_tools_are_warned() -> None:
    request = ChatRequest(messages=[Message.user("Hi")], tool_choice="none",
                          parallel_tool_calls=True)
    body, warnings = build_body(request, "gpt-4o", stream=False, quirks=OPENAI_QUIRKS)
    assert "tool_choice" not in body and "parallel_tool_calls" not in body
    assert sorted(w.setting or "" for w in warnings) == ["parallel_tool_calls", "tool_choice"]


def test_reasoning_effort_on_a_non_reasoning_model_is_warned() -> None:
    request = ChatRequest(messages=[Message.user("Hi")], reasoning_effort="low")
    body, warnings = build_body(request, "gpt-4o", stream=False, quirks=OPENAI_QUIRKS)
    assert "reasoning_effort" not in body
    assert [w.setting for w in warnings] == ["reasoning_effort"]
    body, warnings = build_body(request, "gpt-5-mini", stream=False, quirks=OPENAI_QUIRKS)
    assert body["reasoning_effort"] == "low" and warnings == []


@pytest.mark.parametrize(("model_id", "reasoning"), [
    ("o1", True), ("o3-mini", True), ("o4-mini-2025-04-16", True), ("gpt-5", True),
    ("gpt-5-mini", True), ("openai/o3-mini", True), ("gpt-5-chat-latest", False),
    ("gpt-4o", False), ("gpt-4.1-mini", False), ("orca-mini", False), ("omni-x", False),
])
def test_reasoning_model_ids(model_id: str, reasoning: bool) -> None:
    assert is_reasoning_model(model_id) is reasoning


def test_parts_the_api_cannot_take_are_warned_once() -> None:
    history = [
        Message(role="user", parts=[
            TextPart(text="look"),
            FilePart(media_type="application/pdf", url="https://example.com/a.pdf"),
            FilePart(media_type="image/tiff", data="AAAA"),
        ]),
        Message(role="assistant", parts=[ReasoningPart(text="hmm"), TextPart(text="ok"),
                                         ImagePart(url="https://example.com/x.png")]),
        Message(role="assistant", parts=[ReasoningPart(text="again")]),
        Message.user("next"),
    ]
    body, warnings = build_body(ChatRequest(messages=history), "gpt-4o", stream=False,
                                quirks=OPENAI_QUIRKS)
    kinds = [w.message.split(" ")[0] for w in warnings]
    assert all(w.type == "unsupported-part" for w in warnings)
    assert len(warnings) == 4, kinds  # file URL, tiff, reasoning (once), assistant image
    assert body["messages"][0]["content"] == [{"type": "text", "text": "look"}]
    assert body["messages"][2] == {"role": "assistant", "content": ""}


def test_text_and_audio_files_are_inlined() -> None:
    import base64

    msg = Message(role="user", parts=[
        FilePart(media_type="text/plain", filename="notes.txt",
                 data=base64.b64encode(b"remember milk").decode()),
        FilePart(media_type="audio/mpeg", data="SUQz"),
    ])
    body, warnings = build_body(ChatRequest(messages=[msg]), "gpt-4o-audio-preview",
                                stream=False, quirks=OPENAI_QUIRKS)
    assert warnings == []
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "[file notes.txt]\nremember milk"},
        {"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3"}},
    ]


async def test_list_models_keeps_chat_models_with_guessed_capabilities(
        vendor: FakeVendor, base: str) -> None:
    provider = OpenAIProvider(OpenAIConfig(base_url=base, api_key=KEY))
    models = {m.id: m for m in await provider.list_models()}
    assert sorted(models) == ["gpt-4o", "gpt-4o-mini", "o3-mini"]
    assert vendor.last.path == "/models"
    gpt4o = models["gpt-4o"].capabilities
    assert gpt4o.streaming and gpt4o.tools and gpt4o.vision and gpt4o.json_output
    assert not gpt4o.reasoning
    o3 = models["o3-mini"].capabilities
    assert o3.reasoning and not o3.vision
    assert models["gpt-4o"].owned_by == "system" and models["gpt-4o"].created
    assert provider.capabilities("gpt-4o").vision
    assert not provider.capabilities("some-fine-tune").tools


async def test_validate_key_ok_and_refused(vendor: FakeVendor, base: str) -> None:
    good = OpenAIProvider(OpenAIConfig(base_url=base, api_key=KEY))
    check = await good.validate_key()
    assert check.ok and check.models_seen == 3

    bad_key = "sk-bad-key-0123456789abcdefgh"
    vendor.key_check = lambda r: (
        f"Incorrect API key provided: {bad_key}" if bad_key in r.headers.get(
            "authorization", "") else None)
    try:
        bad = OpenAIProvider(OpenAIConfig(base_url=base, api_key=bad_key))
        check = await bad.validate_key()
    finally:
        vendor.key_check = None
    assert not check.ok
    assert "Incorrect API key" in check.message
    assert bad_key not in check.message


async def test_errors_never_carry_the_key(vendor: FakeVendor, base: str) -> None:
    vendor.then(Fail(400, f"Invalid value, your key {KEY} is fine though",
                     error_type="invalid_request_error", code="invalid_value"))
    provider = OpenAIProvider(OpenAIConfig(base_url=base, api_key=KEY))
    with pytest.raises(Exception) as info:
        await collect_stream(provider.chat_model("gpt-4o-mini").stream(HELLO))
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert "invalid_request_error" in str(info.value)
