"""Exact outgoing request bodies (as received by the fake over HTTP), snapshotted and
validated against OpenAI's official OpenAPI schema for ``/chat/completions``."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.providers.openai import OpenAIConfig, OpenAIProvider
from switchboard.spec import (
    ChatRequest,
    FilePart,
    ImagePart,
    Message,
    ReasoningPart,
    ResponseFormatJson,
    ResponseFormatJsonSchema,
    TextPart,
    Tool,
    ToolCallPart,
    ToolChoiceTool,
    collect_stream,
)
from tests.fakes.vendor import FakeVendor
from tests.providers.openai.helpers import KEY, PIXEL, fake_vendor, reset
from tests.snapshot import assert_snapshot
from tests.spec_validation import validate_request

SNAPSHOTS = Path(__file__).parent / "snapshots"
WEATHER = Tool(name="get_weather", description="Current weather for a city",
               parameters={"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"], "additionalProperties": False},
               strict=True)
TIME = Tool(name="get_time", parameters={"type": "object", "properties": {}})
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}},
          "required": ["name"], "additionalProperties": False}
CALL = ToolCallPart(id="call_w1", name="get_weather", arguments='{"city":"Paris"}')


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeVendor, str]]:
    with fake_vendor() as served:
        yield served


def user(text: str = "Hello") -> list[Message]:
    return [Message.user(text)]


CASES: dict[str, tuple[str, Callable[[], ChatRequest]]] = {
    "plain_text": ("gpt-4o-mini", lambda: ChatRequest(messages=user())),
    "system_prompt": ("gpt-4o-mini", lambda: ChatRequest(
        system="You are terse.", messages=[Message.system("Answer in French."),
                                           Message.user("Hello")])),
    "multi_turn": ("gpt-4o-mini", lambda: ChatRequest(messages=[
        Message.user("Hi"), Message.assistant("Hello! How can I help?"),
        Message.user("Tell me a joke")], max_output_tokens=200)),
    "tools": ("gpt-4o-mini", lambda: ChatRequest(
        messages=user("Weather in Paris?"), tools=[WEATHER, TIME], tool_choice="required",
        parallel_tool_calls=False)),
    "tool_choice_named": ("gpt-4o-mini", lambda: ChatRequest(
        messages=user("Weather?"), tools=[WEATHER],
        tool_choice=ToolChoiceTool(name="get_weather"))),
    "tool_result": ("gpt-4o-mini", lambda: ChatRequest(messages=[
        Message.user("Weather in Paris?"),
        Message(role="assistant", parts=[CALL]),
        Message.tool_result("call_w1", '{"temp_c": 21}', name="get_weather"),
    ], tools=[WEATHER])),
    "cross_vendor_history": ("gpt-4o-mini", lambda: ChatRequest(messages=[
        Message.user("Weather in Oslo?"),
        Message(role="assistant", parts=[
            ReasoningPart(text="Use the tool.",
                          provider_metadata={"anthropic": {"signature": "sig=="}}),
            TextPart(text="Checking."),
            ToolCallPart(id="toolu_01A09q90qw90lq917835lq9:with/odd+chars-and-a-long-tail",
                         name="get_weather", arguments='{"city":"Oslo"}'),
        ]),
        Message.tool_result("toolu_01A09q90qw90lq917835lq9:with/odd+chars-and-a-long-tail",
                            "cold"),
    ], tools=[WEATHER])),
    "images": ("gpt-4o", lambda: ChatRequest(messages=[Message.user(
        "Compare these",
        ImagePart(media_type="image/png", data=PIXEL, detail="low"),
        ImagePart(url="https://example.com/cat.jpg", media_type="image/jpeg"),
    )])),
    "pdf_file": ("gpt-4o", lambda: ChatRequest(messages=[Message.user(
        "Summarise", FilePart(media_type="application/pdf", filename="report.pdf",
                              data=base64.b64encode(b"%PDF-1.4 fake").decode()))])),
    "json_schema": ("gpt-4o-mini", lambda: ChatRequest(
        messages=user("Who?"), response_format=ResponseFormatJsonSchema(
            name="person", description="A person", schema_=SCHEMA, strict=True))),
    "json_object": ("gpt-4o-mini", lambda: ChatRequest(
        messages=user("JSON please"), response_format=ResponseFormatJson())),
    "stop_sequences": ("gpt-4o-mini", lambda: ChatRequest(
        messages=user(), stop=["\n\n", "END"])),
    "sampling": ("gpt-4o-mini", lambda: ChatRequest(
        messages=user(), temperature=0.2, top_p=0.9, frequency_penalty=0.5,
        presence_penalty=-0.5, seed=7, user="user-42", max_output_tokens=64)),
    "reasoning_model": ("o3-mini", lambda: ChatRequest(
        system="Be rigorous.", messages=user("Prove it"), temperature=0.3,
        max_output_tokens=2000, reasoning_effort="high")),
    "provider_options": ("gpt-4o-mini", lambda: ChatRequest(
        messages=user(), temperature=0.5,
        provider_options={"openai": {"service_tier": "flex", "temperature": 0.1},
                          "anthropic": {"ignored": True}})),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_stream_request_body(case: str, server: tuple[FakeVendor, str]) -> None:
    vendor, base = server
    reset(vendor)
    model_id, build = CASES[case]
    provider = OpenAIProvider(OpenAIConfig(base_url=base + "/v1", api_key=KEY))
    result = await collect_stream(provider.chat_model(model_id).stream(build()))
    assert result.complete, result.error
    sent = vendor.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert_snapshot(sent.body, SNAPSHOTS / f"{case}.json")
    validate_request("openai", "/chat/completions", sent.body)


async def test_non_stream_body_has_no_stream_fields(server: tuple[FakeVendor, str]) -> None:
    vendor, base = server
    reset(vendor)
    provider = OpenAIProvider(OpenAIConfig(base_url=base, api_key=KEY))
    await provider.chat_model("gpt-4o-mini").generate(ChatRequest(messages=user()))
    body: dict[str, Any] = vendor.last.body
    assert "stream" not in body and "stream_options" not in body
    assert_snapshot(body, SNAPSHOTS / "non_stream.json")
    validate_request("openai", "/chat/completions", body)
