"""Issue 10 item 1: the offline model stays cheap whatever it is asked.

Before the fix, ``response_format`` with ``minLength: 500000000`` built a 500 MB string
(about 6 s, every other request stalled), ``minItems: 3000000`` streamed for 14.5 minutes,
``multipleOf: 5e-324`` was a 500, and a ``$ref`` fan-out (five required properties that
each refer back to the root) ran for a minute and produced 94 MB. Now a schema that cannot
be satisfied within the model's output limit is a clear 400 naming ``response_format`` or
``tools``, and every numeric edge case gets a value.
"""

from __future__ import annotations

import json
import math
from contextlib import closing
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from switchboard.providers.offline.answer import plan_answer
from switchboard.providers.offline.hints import Hints
from switchboard.providers.offline.limits import MAX_OUTPUT_CHARS
from switchboard.providers.offline.schema_values import SchemaTooCostly, value_for
from switchboard.spec import ChatRequest, Message, TextPart, Tool
from tests.security_review.conftest import bearer
from tests.server import Running

MODEL = "offline:offline-chat"
BIG = 1.7976931348623157e308
TINY = 5e-324


def _schema_request(schema: dict[str, Any], stream: bool = False) -> dict[str, Any]:
    return {"model": MODEL, "stream": stream,
            "messages": [{"role": "user", "content": "fill it in"}],
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "out", "schema": schema}}}


def _fan_out(width: int) -> dict[str, Any]:
    names = [f"p{i}" for i in range(width)]
    return {"type": "object", "properties": {n: {"$ref": "#"} for n in names},
            "required": names}


@pytest.mark.parametrize(("schema", "stream"), [
    ({"type": "string", "minLength": 500_000_000}, False),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 3_000_000}, True),
    ({"type": "object", "properties": {"a": {"type": "string", "minLength": 20_000},
                                       "b": {"type": "string", "minLength": 20_000}},
      "required": ["a", "b"]}, False),
    (_fan_out(5), True),
])
def test_schemas_beyond_the_output_limit_are_a_clear_400(
        server: Running, schema: dict[str, Any], stream: bool) -> None:
    token = server.make_user("mel")
    with closing(bearer(server, token)) as api:
        response = api.post("/v1/chat/completions", json=_schema_request(schema, stream))
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "response_format"
    assert error["code"] == "schema_too_costly"
    assert f"{MAX_OUTPUT_CHARS:,} characters" in error["message"]


def test_forced_tool_with_a_huge_schema_is_a_clear_400(server: Running) -> None:
    token = server.make_user("mel")
    tool = {"type": "function", "function": {"name": "fill", "parameters": {
        "type": "object", "properties": {"rows": {"type": "array", "minItems": 10**9}},
        "required": ["rows"]}}}
    with closing(bearer(server, token)) as api:
        response = api.post("/v1/chat/completions", json={
            "model": MODEL, "messages": [{"role": "user", "content": "go"}],
            "tools": [tool], "tool_choice": "required"})
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error"]["param"] == "tools"


def test_tiny_multiple_of_gets_a_value_not_a_500(server: Running) -> None:
    token = server.make_user("mel")
    with closing(bearer(server, token)) as api:
        response = api.post("/v1/chat/completions", json=_schema_request(
            {"type": "object", "properties": {"x": {"type": "number", "multipleOf": TINY}},
             "required": ["x"]}))
    assert response.status_code == 200, response.text[:300]
    value = json.loads(response.json()["choices"][0]["message"]["content"])
    assert isinstance(value["x"], int | float)


NUMERIC_EDGES: list[dict[str, Any]] = [
    {"type": "number", "multipleOf": TINY},
    {"type": "number", "multipleOf": TINY, "minimum": BIG / 2},
    {"type": "number", "multipleOf": BIG},
    {"type": "number", "multipleOf": BIG, "minimum": 1},
    {"type": "number", "multipleOf": 3, "minimum": BIG},
    {"type": "number", "minimum": BIG},
    {"type": "number", "maximum": -BIG},
    {"type": "number", "exclusiveMinimum": BIG / 2},
    {"type": "number", "exclusiveMaximum": -BIG / 2},
    {"type": "number", "minimum": TINY, "maximum": TINY},
    {"type": "integer", "minimum": BIG},
    {"type": "integer", "maximum": -BIG},
    {"type": "integer", "minimum": 0.5, "maximum": 0.6},
    {"type": "integer", "multipleOf": 0.1, "minimum": 1e300},
    {"type": "integer", "exclusiveMinimum": 2**62, "multipleOf": 7},
    {"type": "number", "minimum": 1e300, "maximum": 1e300, "multipleOf": 1e-300},
]


@pytest.mark.parametrize("schema", NUMERIC_EDGES)
def test_numeric_edge_cases_give_a_number_or_a_clear_refusal(schema: dict[str, Any]) -> None:
    try:
        value = value_for(schema, Hints("", ""), param="response_format")
    except SchemaTooCostly as exc:
        assert exc.param == "response_format"
        return
    assert isinstance(value, int | float) and not isinstance(value, bool)
    assert math.isfinite(value)
    assert len(json.dumps(value)) < 400


SIZE_EDGES: list[dict[str, Any]] = [
    {"type": "string", "minLength": 10**18},
    {"type": "string", "minLength": 1e300},
    {"type": "array", "minItems": 1e300},
    {"type": "array", "minItems": 10**6, "maxItems": 10**6, "uniqueItems": True},
    {"type": "object", "required": [f"k{i}" for i in range(50_000)]},
    {"type": "object", "properties": {f"k{i}": {"type": "boolean"} for i in range(20_000)}},
    {"allOf": [{"$ref": "#"}, {"$ref": "#"}, {"$ref": "#"}], "type": "object"},
    {"$defs": {"n": {"type": "array", "minItems": 9, "items": {"$ref": "#/$defs/n"}}},
     "$ref": "#/$defs/n"},
    {"type": "object", "properties": {"c": {"const": "x" * 100_000}}, "required": ["c"]},
    _fan_out(12),
]


@pytest.mark.parametrize("schema", SIZE_EDGES, ids=range(len(SIZE_EDGES)))
def test_size_edge_cases_stay_within_the_output_limit(schema: dict[str, Any]) -> None:
    try:
        value = value_for(schema, Hints("a long message " * 4000, "x"), param="tools")
    except SchemaTooCostly as exc:
        assert exc.param == "tools"
        return
    assert len(json.dumps(value, separators=(",", ":"))) <= MAX_OUTPUT_CHARS


def test_a_satisfiable_schema_still_validates() -> None:
    schema = {"type": "object", "properties": {
        "tags": {"type": "array", "items": {"type": "string", "minLength": 3},
                 "minItems": 40, "uniqueItems": True},
        "score": {"type": "number", "multipleOf": 0.25, "minimum": 1.1, "maximum": 9}},
        "required": ["tags", "score"]}
    value = value_for(schema, Hints("score 3.3", "x"))
    assert not list(Draft202012Validator(schema).iter_errors(value))


def test_replies_and_tool_choice_read_a_bounded_part_of_huge_messages() -> None:
    """A 4 MB message, 128 tools and 900 parts: the reply stays small."""
    text = "Alpha beta. " * 350_000
    tools = [Tool(name=f"tool_{i}", description="does things with alpha " * 20)
             for i in range(128)]
    request = ChatRequest(messages=[Message(role="user", parts=[
        TextPart(text=text), *(TextPart(text="x") for _ in range(900))])], tools=tools)
    answer = plan_answer(request)
    assert len(answer.text) <= MAX_OUTPUT_CHARS
    many_results = ChatRequest(messages=[
        Message.user("go"),
        *(Message.tool_result(f"c{i}", json.dumps({f"k{j}": "v" * 1000 for j in range(50)}))
          for i in range(200))])
    assert len(plan_answer(many_results).text) <= MAX_OUTPUT_CHARS
