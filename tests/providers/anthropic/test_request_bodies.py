"""Snapshots of the exact bodies the adapter sends (as the fake vendor received them over
HTTP), each also checked against Anthropic's OpenAPI description where it applies.

The spec in ../shared/specs is a 2024-11 mirror: it predates extended thinking, URL image
sources, PDF/text documents, ``tool_choice: none`` and ``service_tier``. Bodies that use
those are marked ``validate=False`` (a rejection would be a false positive); everything
else must validate. ``UPDATE_SNAPSHOTS=1`` rewrites the snapshots.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from switchboard.spec import (
    ChatRequest,
    FilePart,
    Finish,
    ImagePart,
    Message,
    ReasoningPart,
    ResponseFormatJson,
    ResponseFormatJsonSchema,
    TextPart,
    Tool,
    ToolCallPart,
    ToolChoiceTool,
    ToolResultPart,
)
from tests.fakes.anthropic import MODEL
from tests.providers.anthropic.conftest import KEY, SNAPSHOTS, Fake
from tests.snapshot import assert_snapshot
from tests.spec_validation import validate_request

PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAAB"
         "JRU5ErkJggg==")
PDF = base64.b64encode(b"%PDF-1.4\n%fake\n").decode()
WEATHER = Tool(name="get_weather", description="Current weather for a city", parameters={
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
CLOCK = Tool(name="get_time", parameters={
    "type": "object", "properties": {"tz": {"type": "string"}}})
PERSON = {"type": "object", "properties": {"name": {"type": "string"},
                                           "born": {"type": "integer"}},
          "required": ["name", "born"], "additionalProperties": False}
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"


def weather_turn(call_id: str) -> list[Message]:
    return [
        Message.user("Weather in Paris?"),
        Message(role="assistant", parts=[
            TextPart(text="Let me check."),
            ToolCallPart(id=call_id, name="get_weather", arguments='{"city": "Paris"}'),
        ]),
        Message(role="tool", parts=[
            ToolResultPart(tool_call_id=call_id, name="get_weather", content="21C, sunny")]),
    ]


@dataclass
class Case:
    name: str
    request: Callable[[], ChatRequest]
    model: str = MODEL
    validate: bool = True
    stream: bool = True


CASES = [
    Case("plain_text", lambda: ChatRequest(
        messages=[Message.user("Hello, Claude")], max_output_tokens=256)),
    Case("default_max_tokens", lambda: ChatRequest(messages=[Message.user("Hello")])),
    Case("non_stream", lambda: ChatRequest(
        messages=[Message.user("Hello")], max_output_tokens=64), stream=False),
    Case("system_prompt", lambda: ChatRequest(
        system="You are terse.",
        messages=[Message.system("Answer in French."), Message.user("Hello")],
        max_output_tokens=64)),
    Case("multi_turn", lambda: ChatRequest(messages=[
        Message.user("Hi"), Message.assistant("Hello! How can I help?"),
        Message.user("Tell me a joke."), Message.user("A short one."),
    ], max_output_tokens=64)),
    Case("tools", lambda: ChatRequest(
        messages=[Message.user("Weather in Paris?")], tools=[WEATHER, CLOCK],
        tool_choice="auto", parallel_tool_calls=False, max_output_tokens=128)),
    Case("tool_choice_required", lambda: ChatRequest(
        messages=[Message.user("Weather in Paris?")], tools=[WEATHER],
        tool_choice="required", max_output_tokens=128)),
    Case("tool_choice_named", lambda: ChatRequest(
        messages=[Message.user("Weather in Paris?")], tools=[WEATHER, CLOCK],
        tool_choice=ToolChoiceTool(name="get_weather"), max_output_tokens=128)),
    Case("tool_choice_none", lambda: ChatRequest(
        messages=[Message.user("Weather in Paris?")], tools=[WEATHER],
        tool_choice="none", max_output_tokens=128), validate=False),
    Case("tool_result", lambda: ChatRequest(messages=[
        *weather_turn("toolu_01A09q90qw90lq917835lq9"),
        Message.user("Thanks! And is that warm?"),
    ], tools=[WEATHER], max_output_tokens=128)),
    Case("tool_result_error_and_foreign_ids", lambda: ChatRequest(messages=[
        Message.user("Weather in Paris and the time?"),
        Message(role="assistant", parts=[
            ToolCallPart(id="call:0.weather", name="get_weather", arguments='{"city":"Paris"}'),
            ToolCallPart(id="fc_7f3a/time", name="get_time", arguments=""),
        ]),
        Message(role="tool", parts=[
            ToolResultPart(tool_call_id="call:0.weather", content="timeout", is_error=True)]),
        Message(role="tool", parts=[
            ToolResultPart(tool_call_id="fc_7f3a/time", content="12:00")]),
    ], tools=[WEATHER, CLOCK], max_output_tokens=128)),
    Case("image_base64", lambda: ChatRequest(messages=[
        Message.user("What is this?", ImagePart(media_type="image/png", data=PIXEL)),
    ], max_output_tokens=64)),
    Case("images_url_and_data_url", lambda: ChatRequest(messages=[
        Message.user("Compare these.",
                     ImagePart(url="https://example.com/cat.jpg", media_type="image/jpeg"),
                     ImagePart(url=f"data:image/png;base64,{PIXEL}")),
    ], max_output_tokens=64), validate=False),
    Case("documents", lambda: ChatRequest(messages=[
        Message.user("Summarise these.",
                     FilePart(media_type="application/pdf", data=PDF, filename="report.pdf"),
                     FilePart(media_type="application/pdf", url="https://example.com/a.pdf"),
                     FilePart(media_type="text/plain",
                              data=base64.b64encode(b"plain notes").decode())),
    ], max_output_tokens=64), validate=False),
    Case("json_schema", lambda: ChatRequest(
        messages=[Message.user("Who wrote the first program?")],
        response_format=ResponseFormatJsonSchema(name="person", schema=PERSON),
        max_output_tokens=128)),
    Case("json_mode", lambda: ChatRequest(
        messages=[Message.user("List three colours as JSON.")],
        response_format=ResponseFormatJson(), max_output_tokens=128)),
    Case("stop_and_sampling", lambda: ChatRequest(
        messages=[Message.user("Count.")], stop=["\n\nHuman:", "END"], temperature=0.3,
        top_p=0.9, top_k=40, max_output_tokens=64), model="claude-3-7-sonnet-20250219"),
    Case("thinking_from_effort", lambda: ChatRequest(
        messages=[Message.user("Prove there are infinitely many primes.")],
        reasoning_effort="medium"), validate=False),
    Case("thinking_history_echoed", lambda: ChatRequest(messages=[
        Message.user("Weather in Paris?"),
        Message(role="assistant", parts=[
            ReasoningPart(text="The user wants weather; call the tool.",
                          provider_metadata={"anthropic": {"signature": SIGNATURE}}),
            ReasoningPart(provider_metadata={"anthropic": {"redacted_data": "EmwKAhgBEgy3va3"}}),
            ToolCallPart(id="toolu_01CswdEQBMshySk6Y9DFKrfq", name="get_weather",
                         arguments='{"city": "Paris"}'),
        ]),
        Message(role="tool", parts=[ToolResultPart(
            tool_call_id="toolu_01CswdEQBMshySk6Y9DFKrfq", content="21C, sunny")]),
    ], tools=[WEATHER], max_output_tokens=8000,
        provider_options={"anthropic": {"thinking": {"type": "enabled",
                                                     "budget_tokens": 4000}}}),
        validate=False),
    Case("provider_options_and_user", lambda: ChatRequest(
        messages=[Message.user("Hello")], user="user-42", max_output_tokens=64,
        provider_options={"anthropic": {"service_tier": "standard_only", "top_k": 5}}),
        validate=False),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_request_body(fake: Fake, case: Case) -> None:
    model = fake.model(case.model)
    if case.stream:
        events = [e async for e in model.stream(case.request())]
        assert isinstance(events[-1], Finish), events[-1]
    else:
        assert (await model.generate(case.request())).complete
    received = fake.vendor.last
    assert_snapshot(received.body, SNAPSHOTS / f"{case.name}.json")
    assert KEY not in str(received.body)
    if case.validate:
        validate_request("anthropic", "/v1/messages", received.body)


async def test_headers(fake: Fake) -> None:
    model = fake.model(beta=["pdfs-2024-09-25", "token-efficient-tools-2025-02-19"],
                       extra_headers={"x-team": "blue"})
    [e async for e in model.stream(ChatRequest(messages=[Message.user("Hi")]))]
    headers = fake.vendor.last.headers
    assert headers["x-api-key"] == KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["anthropic-beta"] == "pdfs-2024-09-25,token-efficient-tools-2025-02-19"
    assert headers["x-team"] == "blue"
    assert "authorization" not in headers
    assert fake.vendor.last.path == "/v1/messages"


def _validate_bad(body: dict[str, Any]) -> None:
    validate_request("anthropic", "/v1/messages", body)


def test_spec_validation_can_fail() -> None:
    """The validator really checks: a body without max_tokens is refused."""
    with pytest.raises(AssertionError, match="max_tokens"):
        _validate_bad({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]})
