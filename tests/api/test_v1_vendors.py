"""``/v1`` with a configured vendor behind it (an HTTP fake of that vendor), driven by the
official SDK with strict response validation; bodies checked against OpenAI's spec."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.provider_models import create_model
from switchboard.services.providers import update_provider
from tests.fakes import anthropic as anthropic_fake
from tests.fakes import openai as openai_fake
from tests.fakes.script import Break, Fail, Reply, ScriptToolCall
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server
from tests.spec_validation import spec_available, validate_component

PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
         "AAAABJRU5ErkJggg==")
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}]


class Setup:
    def __init__(self, server: Running, vendors: dict[str, FakeVendor]) -> None:
        self.server = server
        self.vendors = vendors
        self.token = server.make_user("sdk-user")
        self.client = openai.OpenAI(base_url=server.v1, api_key=self.token, max_retries=0,
                                    _strict_response_validation=True)

    def raw(self, body: dict[str, object]) -> httpx.Response:
        return httpx.post(f"{self.server.v1}/chat/completions", json=body, timeout=30,
                          headers={"authorization": f"Bearer {self.token}"})


@pytest.fixture
def setup() -> Iterator[Setup]:
    oa = FakeVendor(openai_fake.Wire())
    an = FakeVendor(anthropic_fake.Wire())
    with running_server() as server, serve_in_thread(oa) as oa_url, \
            serve_in_thread(an) as an_url:
        async def configure() -> None:
            db = Database.from_url(server.settings.database_url, pooled=False)
            try:
                await update_provider(db, "openai", base_url=f"{oa_url}/v1", enabled=True)
                await set_provider_key(db, "openai", "sk-test-openai-0000000000001234")
                await update_provider(db, "anthropic", base_url=an_url, enabled=True)
                await set_provider_key(db, "anthropic", "sk-ant-test-00000000000005678")
            finally:
                await db.dispose()

        asyncio.run(configure())
        yield Setup(server, {"openai": oa, "anthropic": an})


@pytest.mark.parametrize("provider", ["openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5"])
def test_vendor_non_stream_and_stream(setup: Setup, provider: str) -> None:
    kind = provider.split(":")[0]
    setup.vendors[kind].then(Reply(chunks=["Hi ", "there"], input_tokens=9, output_tokens=2),
                             Reply(chunks=["Str", "eam", "ed"], input_tokens=4,
                                   output_tokens=3))
    body = {"model": provider, "messages": [{"role": "user", "content": "hello"}]}
    raw = setup.raw(body)
    assert raw.status_code == 200, raw.text
    if spec_available("openai"):  # the rest of the test runs in any clone
        validate_component("openai", "CreateChatCompletionResponse", raw.json())
    assert raw.json()["choices"][0]["message"]["content"] == "Hi there"
    assert raw.json()["usage"]["prompt_tokens"] == 9
    assert raw.headers["x-switchboard-model"] == provider
    chunks = list(setup.client.chat.completions.create(
        model=provider, messages=[{"role": "user", "content": "again"}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Streamed"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3


@pytest.mark.parametrize("provider", ["openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5"])
def test_vendor_streamed_tool_round_trip(setup: Setup, provider: str) -> None:
    kind = provider.split(":")[0]
    setup.vendors[kind].then(
        Reply(chunks=[], finish="tool_calls", tool_calls=[
            ScriptToolCall(id="call_9XyZ01", name="get_weather", arguments='{"city":"Oslo"}')]),
        Reply(chunks=["Cold in Oslo."]))
    stream = setup.client.chat.completions.create(
        model=provider, messages=[{"role": "user", "content": "Weather in Oslo?"}],
        tools=TOOLS, stream=True)  # type: ignore[arg-type]
    chunks = list(stream)
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].id and calls[0].function and calls[0].function.name == "get_weather"
    args = "".join(tc.function.arguments or "" for tc in calls if tc.function)
    assert json.loads(args) == {"city": "Oslo"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    answer = setup.client.chat.completions.create(model=provider, tools=TOOLS,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": "Weather in Oslo?"},
                  {"role": "assistant", "content": None, "tool_calls": [
                      {"id": calls[0].id, "type": "function",
                       "function": {"name": "get_weather", "arguments": args}}]},
                  {"role": "tool", "tool_call_id": calls[0].id, "content": "-5C"}])
    assert answer.choices[0].message.content == "Cold in Oslo."
    assert "-5C" in json.dumps(setup.vendors[kind].last.body)


def test_mid_stream_failure_is_raised_by_the_sdk(setup: Setup) -> None:
    setup.vendors["openai"].then(Break(Reply(chunks=["Par", "tial", "never"]), after=2))
    stream = setup.client.chat.completions.create(
        model="openai:gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
    got: list[str] = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            if chunk.choices:
                got.append(chunk.choices[0].delta.content or "")
    assert "".join(got) == "Partial"


def test_upstream_500_before_first_byte(setup: Setup) -> None:
    boom = Fail(500, "internal", error_type="server_error")
    setup.vendors["openai"].then(boom, boom, boom)
    r = setup.raw({"model": "openai:gpt-4o-mini", "stream": True,
                   "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 502
    assert r.headers["x-should-retry"] == "false"
    assert r.json()["error"]["type"] == "upstream_error"
    assert len(setup.vendors["openai"].chat_requests()) == 3  # 1 try + 2 retries, no more


def test_image_and_json_schema_through_offline(setup: Setup) -> None:
    reply = setup.client.chat.completions.create(model="offline:offline-chat", messages=[
        {"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}}]}])
    assert "image/png" in (reply.choices[0].message.content or "")
    schema = {"type": "object", "properties": {"name": {"type": "string"},
                                                "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}
    structured = setup.client.chat.completions.create(
        model="offline:offline-chat", messages=[{"role": "user", "content": "A person"}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "schema": schema, "strict": True}})
    value = json.loads(structured.choices[0].message.content or "")
    assert isinstance(value["name"], str) and isinstance(value["age"], int)


def test_image_to_a_model_without_vision_is_refused(setup: Setup) -> None:
    async def add_text_only() -> None:
        db = Database.from_url(setup.server.settings.database_url, pooled=False)
        try:
            await create_model(db, "openai", "text-only-1", name="Text only",
                               capabilities={"streaming": True, "tools": True,
                                             "vision": False})
        finally:
            await db.dispose()

    asyncio.run(add_text_only())
    r = setup.raw({"model": "openai:text-only-1", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}}]}]})
    assert r.status_code == 400, r.text
    assert "does not accept images" in r.json()["error"]["message"]
    assert setup.vendors["openai"].chat_requests() == []  # refused before any upstream call
