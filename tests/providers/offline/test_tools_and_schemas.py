"""Tool calls and structured output: arguments and JSON that validate against the schema,
filled from the user's words where they plausibly fit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from switchboard.spec import ChatRequest, Message, Tool, ToolChoiceTool
from tests.providers.offline.helpers import ask, model

WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city"],
    },
)
SEARCH = Tool(
    name="search_docs",
    description="Search the product documentation for a query",
    parameters={
        "type": "object",
        "properties": {"query": {"type": "string"},
                       "limit": {"type": "integer", "minimum": 1, "maximum": 20}},
        "required": ["query"],
        "additionalProperties": False,
    },
)
EMAIL = Tool(
    name="send_email",
    description="Send an email message to a recipient",
    parameters={
        "type": "object",
        "properties": {"to": {"type": "string", "format": "email"},
                       "subject": {"type": "string", "minLength": 3, "maxLength": 40},
                       "urgent": {"type": "boolean"}},
        "required": ["to", "subject", "urgent"],
    },
)
TOOLS = [WEATHER, SEARCH, EMAIL]


def valid(schema: dict[str, Any], value: Any) -> None:
    errors = list(Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
                  .iter_errors(value))
    assert not errors, [e.message for e in errors]


async def call_of(request: ChatRequest) -> tuple[str, dict[str, Any]] | None:
    result = await model().generate(request)
    if not result.tool_calls:
        return None
    assert result.finish_reason is not None and result.finish_reason.unified == "tool_calls"
    call = result.tool_calls[0]
    return call.name, json.loads(call.arguments)


async def test_forced_tool_uses_values_from_the_text() -> None:
    found = await call_of(ask("What's the weather in Paris for 3 days in fahrenheit?",
                              tools=TOOLS, tool_choice=ToolChoiceTool(name="get_weather")))
    assert found is not None
    name, args = found
    assert name == "get_weather"
    valid(WEATHER.parameters, args)
    assert args == {"city": "Paris", "unit": "fahrenheit", "days": 3}


async def test_numbers_are_clamped_to_the_schema() -> None:
    found = await call_of(ask("weather in lisbon for 30 days", tools=[WEATHER],
                              tool_choice=ToolChoiceTool(name="get_weather")))
    assert found is not None
    valid(WEATHER.parameters, found[1])
    assert found[1]["city"] == "Lisbon" and found[1]["days"] == 7


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
async def test_forced_arguments_validate_without_hints(tool: Tool) -> None:
    found = await call_of(ask("ok", tools=TOOLS, tool_choice=ToolChoiceTool(name=tool.name)))
    assert found is not None and found[0] == tool.name
    valid(tool.parameters, found[1])


async def test_quoted_text_goes_to_the_query() -> None:
    found = await call_of(ask("Look up 'rate limits' in the docs, top 5", tools=TOOLS,
                              tool_choice=ToolChoiceTool(name="search_docs")))
    assert found == ("search_docs", {"query": "rate limits", "limit": 5})


async def test_required_picks_the_best_matching_tool() -> None:
    found = await call_of(ask("Please email Bob about lunch", tools=TOOLS,
                              tool_choice="required"))
    assert found is not None and found[0] == "send_email"
    valid(EMAIL.parameters, found[1])
    fallback = await call_of(ask("xyzzy", tools=TOOLS, tool_choice="required"))
    assert fallback is not None and fallback[0] == "get_weather", "a tie picks the first tool"


@pytest.mark.parametrize("prompt,expected", [
    ("What's the weather in Paris?", "get_weather"),
    ("Use the search_docs tool to find 'webhooks'", "search_docs"),
    ("call send email for me", "send_email"),
    ("search the documentation for billing", "search_docs"),
])
async def test_auto_calls_a_tool_the_user_plainly_asks_for(prompt: str, expected: str) -> None:
    found = await call_of(ask(prompt, tools=TOOLS, tool_choice="auto"))
    assert found is not None and found[0] == expected
    tool = next(t for t in TOOLS if t.name == expected)
    valid(tool.parameters, found[1])


@pytest.mark.parametrize("prompt", ["Hello!", "Tell me a joke", "I like cities"])
async def test_auto_answers_in_text_otherwise(prompt: str) -> None:
    assert await call_of(ask(prompt, tools=TOOLS)) is None


async def test_none_never_calls() -> None:
    assert await call_of(ask("Use get_weather for Paris", tools=TOOLS, tool_choice="none")) is None


async def test_tool_result_ends_the_loop_even_when_forced() -> None:
    first = await model().generate(ask("Weather in Paris?", tools=TOOLS,
                                       tool_choice=ToolChoiceTool(name="get_weather")))
    call = first.tool_calls[0]
    again = ChatRequest(
        messages=[Message.user("Weather in Paris?"), first.message,
                  Message.tool_result(call.id, "Sunny, 21 °C")],
        tools=TOOLS, tool_choice=ToolChoiceTool(name="get_weather"),
    )
    result = await model().generate(again)
    assert result.tool_calls == [] and "Sunny, 21 °C" in result.text


SCHEMAS: dict[str, dict[str, Any]] = {
    "flat": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0},
                       "member": {"type": "boolean"}},
        "required": ["name", "age", "member"],
        "additionalProperties": False,
    },
    "nested": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 5, "maxLength": 12},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3,
                     "uniqueItems": True},
            "author": {"type": "object",
                       "properties": {"email": {"type": "string", "format": "email"},
                                      "site": {"type": "string", "format": "uri"}},
                       "required": ["email", "site"]},
            "status": {"enum": ["draft", "published"]},
            "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "step": {"type": "integer", "multipleOf": 5, "minimum": 12},
        },
        "required": ["title", "tags", "author", "status", "score", "step"],
    },
    "formats": {
        "type": "object",
        "properties": {f: {"type": "string", "format": f} for f in
                       ("date", "date-time", "time", "ipv4", "ipv6", "uuid", "hostname")},
        "required": ["date", "date-time", "ipv4", "uuid"],
    },
    "refs": {
        "$defs": {"node": {"type": "object",
                           "properties": {"label": {"type": "string"},
                                          "children": {"type": "array",
                                                       "items": {"$ref": "#/$defs/node"}}},
                           "required": ["label"]}},
        "$ref": "#/$defs/node",
    },
    "unions": {
        "type": "object",
        "properties": {
            "maybe": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 10}]},
            "either": {"oneOf": [{"type": "string", "const": "x"}, {"type": "number"}]},
            "both": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}},
                                "required": ["a"]},
                               {"properties": {"b": {"type": "integer"}}, "required": ["b"]}]},
            "nullable": {"type": ["string", "null"]},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                     "items": False, "minItems": 2},
        },
        "required": ["maybe", "either", "both", "nullable", "pair"],
    },
    "array_root": {"type": "array", "items": {"type": "number"}, "maxItems": 0},
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
async def test_json_schema_output_validates(name: str) -> None:
    schema = SCHEMAS[name]
    request = ask("My name is Ada Lovelace and I am 36",
                  response_format={"type": "json_schema", "name": name, "schema": schema})
    result = await model().generate(request)
    assert result.finish_reason is not None and result.finish_reason.unified == "stop"
    valid(schema, json.loads(result.text))


async def test_json_schema_uses_the_users_words() -> None:
    request = ask("My name is Ada Lovelace and I am 36",
                  response_format={"type": "json_schema", "schema": SCHEMAS["flat"]})
    value = json.loads((await model().generate(request)).text)
    assert value == {"name": "Ada Lovelace", "age": 36, "member": False}
