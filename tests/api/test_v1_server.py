"""``/v1`` on a real server, with the official ``openai`` SDK as the client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.server import Running, running_server


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


@pytest.fixture
def client(server: Running) -> openai.OpenAI:
    token = server.make_user()
    return openai.OpenAI(base_url=server.v1, api_key=token, max_retries=0)


def test_chat_non_stream(client: openai.OpenAI, server: Running) -> None:
    reply = client.chat.completions.create(
        model="offline:offline-chat", messages=[{"role": "user", "content": "Hello there"}])
    assert reply.object == "chat.completion"
    assert reply.model == "offline:offline-chat"
    assert reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.prompt_tokens > 0
    assert isinstance(reply.system_fingerprint, str)


def test_chat_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="offline:offline-chat", messages=[{"role": "user", "content": "Hello"}],
        stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_models(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "offline:offline-chat" in ids
    assert client.models.retrieve("offline:offline-chat").id == "offline:offline-chat"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope:nothing")


def test_auth_errors(server: Running) -> None:
    bad = openai.OpenAI(base_url=server.v1, api_key="sb-" + "x" * 43, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        bad.models.list()
    assert "Incorrect API key" in str(info.value)
    missing = httpx.post(f"{server.v1}/chat/completions", json={})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "invalid_api_key"


def test_bad_input_is_openai_shaped_400(client: openai.OpenAI, server: Running) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="offline:offline-chat", temperature=7,
                                       messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 400
    body = info.value.body
    assert isinstance(body, dict) and body["param"] == "temperature"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope:model",
                                       messages=[{"role": "user", "content": "x"}])
    raw = httpx.post(f"{server.v1}/chat/completions", content=b"{not json",
                     headers={"authorization": f"Bearer {client.api_key}"})
    assert raw.status_code == 400 and "parse the JSON" in raw.json()["error"]["message"]


def test_tool_round_trip(client: openai.OpenAI) -> None:
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}]
    messages: list[dict[str, object]] = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat.completions.create(
        model="offline:offline-chat", messages=messages, tools=tools,  # type: ignore[arg-type]
        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    calls = first.choices[0].message.tool_calls
    assert first.choices[0].finish_reason == "tool_calls" and calls
    args = json.loads(calls[0].function.arguments)  # type: ignore[union-attr]
    assert isinstance(args["city"], str)
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": calls[0].id, "content": '{"temp_c": 21}'}]
    second = client.chat.completions.create(model="offline:offline-chat",
                                            messages=messages, tools=tools)  # type: ignore[arg-type]
    assert second.choices[0].finish_reason == "stop"
    assert "21" in (second.choices[0].message.content or "")


def test_usage_is_recorded(client: openai.OpenAI, server: Running) -> None:
    client.chat.completions.create(model="offline:offline-chat",
                                   messages=[{"role": "user", "content": "count me"}])
    deadline = time.monotonic() + 10  # the recorder flushes in batches every 0.5 s
    rows = server.query("SELECT provider, model, source, status FROM usage_events")
    while not rows and time.monotonic() < deadline:
        rows = server.query("SELECT provider, model, source, status FROM usage_events")
    assert rows and rows[0][:4] == ("offline", "offline-chat", "api", "ok")
