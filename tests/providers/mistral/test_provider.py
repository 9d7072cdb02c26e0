"""The provider against the fake Mistral: keys, URLs, headers, models, errors."""

from __future__ import annotations

import json

import httpx
import pytest

from switchboard.providers.mistral import MistralProvider
from switchboard.spec import (
    AuthenticationError,
    BadRequestError,
    ChatRequest,
    ContextLengthError,
    InvalidRequestError,
    Message,
    MissingApiKeyError,
    RateLimitError,
    StreamStart,
    collect,
)
from switchboard.upstream.errors import error_from_response
from tests.fakes import mistral
from tests.fakes.mistral import MODEL
from tests.fakes.script import Fail, Raw, Reply
from tests.providers.mistral.conftest import KEY, Fake

HELLO = ChatRequest(messages=[Message.user("Hello")], max_output_tokens=20)


def test_class_attributes() -> None:
    assert MistralProvider.kind == "mistral"
    assert MistralProvider.api_key_env == "MISTRAL_API_KEY"
    assert MistralProvider.base_url_env == "MISTRAL_BASE_URL"
    assert MistralProvider.default_base_url == "https://api.mistral.ai"
    assert MistralProvider().url("/v1/models") == "https://api.mistral.ai/v1/models"


async def test_missing_key_names_the_env_var_and_sends_nothing(fake: Fake) -> None:
    provider = mistral.make_provider(fake.base_url, api_key=None)
    with pytest.raises(MissingApiKeyError, match="MISTRAL_API_KEY"):
        [e async for e in provider.chat_model(MODEL).stream(HELLO)]
    with pytest.raises(MissingApiKeyError, match="MISTRAL_API_KEY"):
        await provider.chat_model(MODEL).generate(HELLO)
    with pytest.raises(MissingApiKeyError, match="MISTRAL_API_KEY"):
        await provider.list_models()
    assert fake.vendor.requests == []


async def test_bad_provider_option_fails_before_any_request(fake: Fake) -> None:
    request = ChatRequest(messages=[Message.user("Hi")],
                          provider_options={"mistral": {"stream_options": {}}})
    with pytest.raises(InvalidRequestError, match="stream_options"):
        [e async for e in fake.provider().chat_model(MODEL).stream(request)]
    assert fake.vendor.requests == []


async def test_env_vars_give_key_and_base_url(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "env-key-abcdef123456")
    # An OpenAI-style base URL with /v1 works as well as the SDK's bare server URL.
    monkeypatch.setenv("MISTRAL_BASE_URL", fake.base_url + "/v1/")
    result = await MistralProvider().chat_model(MODEL).generate(HELLO)
    assert result.text == "Hello, world!"
    sent = fake.vendor.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer env-key-abcdef123456"


async def test_headers_and_body_of_a_stream(fake: Fake) -> None:
    provider = fake.provider(extra_headers={"x-team": "blue"})
    events = [e async for e in provider.chat_model(MODEL).stream(HELLO)]
    assert isinstance(events[0], StreamStart)
    sent = fake.vendor.last
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["accept"] == "text/event-stream"
    assert sent.headers["x-team"] == "blue"
    assert sent.body == {"model": MODEL, "messages": [{"role": "user", "content": "Hello"}],
                         "stream": True, "max_tokens": 20}


async def test_warnings_arrive_in_stream_start(fake: Fake) -> None:
    request = ChatRequest(messages=[Message.user("Hi")], top_k=5, user="u1")
    events = [e async for e in fake.provider().chat_model(MODEL).stream(request)]
    assert isinstance(events[0], StreamStart)
    assert [w.setting for w in events[0].warnings] == ["top_k", "user"]
    assert collect(events).warnings == events[0].warnings


async def test_list_models_and_validate_key(fake: Fake) -> None:
    provider = fake.provider()
    models = await provider.list_models()
    assert [m.id for m in models] == [MODEL, mistral.VISION_MODEL, "magistral-medium-latest"]
    assert fake.vendor.last.path == "/v1/models"
    assert fake.vendor.last.headers["authorization"] == f"Bearer {KEY}"
    check = await provider.validate_key()
    assert check.ok and check.models_seen == 3


async def test_validate_key_with_a_bad_key(fake: Fake) -> None:
    vendor = fake.vendor
    vendor.key_check = lambda r: None if r.headers.get("authorization") == "Bearer good" \
        else "Unauthorized"
    with pytest.raises(AuthenticationError) as info:
        await fake.provider().validate_key()
    assert info.value.status == 401
    assert KEY not in str(info.value)


async def test_a_key_echoed_by_the_vendor_is_redacted(fake: Fake) -> None:
    fake.vendor.then(Fail(401, f"Invalid API key {KEY}"))
    with pytest.raises(AuthenticationError) as info:
        await fake.provider().chat_model(MODEL).generate(HELLO)
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert "[redacted]" in str(info.value)


async def test_fake_gate_refuses_undocumented_fields_like_mistral(fake: Fake) -> None:
    """The gate that every other test relies on really refuses what Mistral refuses."""
    fake.vendor.then(Reply())
    bad = {"model": MODEL, "stream_options": {"include_usage": True},
           "messages": [{"role": "user", "content": "x", "name": "bob"}]}
    async with httpx.AsyncClient() as client:
        response = await client.post(fake.base_url + "/v1/chat/completions", json=bad)
    assert response.status_code == 422
    locs = [d["loc"] for d in response.json()["detail"]]
    assert ["body", "stream_options"] in locs
    assert ["body", "messages", 0, "user", "name"] in locs
    error = error_from_response("mistral", 422, response.headers, response.content)
    assert isinstance(error, BadRequestError)
    assert "body.stream_options: Extra inputs are not permitted" in str(error)
    assert len(fake.vendor.script) == 1, "a refused request uses no script step"


async def test_fake_gate_refuses_foreign_tool_ids(fake: Fake) -> None:
    body = {"model": MODEL, "messages": [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_abc123XYZ", "type": "function",
             "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "content": "ok", "tool_call_id": "call_abc123XYZ"},
    ]}
    async with httpx.AsyncClient() as client:
        response = await client.post(fake.base_url + "/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert "length of 9" in response.json()["message"]


# -- Mistral's error bodies (status first; the body refines) ------------------------
@pytest.mark.parametrize(("status", "body", "cls", "text"), [
    (422, {"object": "error", "message": {"detail": [
        {"type": "extra_forbidden", "loc": ["body", "messages", 0, "user", "name"],
         "msg": "Extra inputs are not permitted", "input": None}]},
        "type": "invalid_request_error", "param": None, "code": None},
     BadRequestError, "body.messages.0.user.name: Extra inputs are not permitted"),
    (422, {"detail": [{"type": "extra_forbidden", "loc": ["body", "stream_options"],
                       "msg": "Extra inputs are not permitted", "input": {}}]},
     BadRequestError, "body.stream_options: Extra inputs are not permitted"),
    (422, {"object": "Error", "detail": [], "message": [
        {"type": "extra_forbidden", "loc": ["body", "tools"],
         "msg": "Extra inputs are not permitted", "input": []}],
        "type": "invalid_request_error", "code": 3001},
     BadRequestError, "body.tools: Extra inputs are not permitted"),
    (401, {"message": "Unauthorized", "request_id": "5b1c0e0d"},
     AuthenticationError, "Unauthorized"),
    (429, {"object": "error", "message": "Requests rate limit exceeded",
           "type": "rate_limited", "param": None, "code": "1300"},
     RateLimitError, "Requests rate limit exceeded"),
    (400, {"object": "error", "message": "Prompt contains 40000 tokens and 0 draft tokens, "
           "too large for model with 32768 maximum context length",
           "type": "invalid_request_message_error", "param": None, "code": "3051"},
     ContextLengthError, "too large for model"),
])
async def test_mistral_error_bodies(
    fake: Fake, status: int, body: dict[str, object], cls: type[Exception], text: str
) -> None:
    fake.vendor.then(Raw(status=status, body=json.dumps(body).encode(),
                         headers={"mistral-correlation-id": "corr-9"}))
    with pytest.raises(cls) as info:
        [e async for e in fake.provider().chat_model(MODEL).stream(HELLO)]
    assert text in str(info.value)
    assert str(info.value).startswith(f"mistral: HTTP {status}")


async def test_reply_default_round_trip_counts_one_request(fake: Fake) -> None:
    fake.vendor.then(Reply(chunks=["a", "b"], cached_tokens=4, input_tokens=10))
    result = collect([e async for e in fake.provider().chat_model(MODEL).stream(HELLO)])
    assert result.text == "ab"
    assert (result.usage.input_tokens, result.usage.cached_input_tokens) == (10, 4)
    assert len(fake.vendor.chat_requests()) == 1
