"""Cheap size checks on a ``/v1`` chat body, on the raw JSON, before it is validated.

``ChatRequest`` enforces ``spec.limits`` for every surface, but on ``/v1`` it is built
*after* the wire models (``wire.py``) and the translation (``convert_request.py``) have
turned every message and tool into objects — and after ``jsonschema`` has checked every
tool's schema. A body with a million messages or 100,000 schema nodes would cost seconds
before the limit could refuse it. These checks count list lengths and walk the schemas
with a budget, so refusing costs at most a few milliseconds whatever the body holds, and
name the caller's own parameter (``messages[3].content``, ``tools[2].function.parameters``)
in OpenAI's error shape. Decision 0013.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.spec import InvalidRequestError
from switchboard.spec.limits import (
    MAX_MESSAGES,
    MAX_OPTION_DEPTH,
    MAX_OPTION_NODES,
    MAX_PARTS,
    MAX_PARTS_PER_MESSAGE,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    MAX_STOP_SEQUENCES,
    MAX_TOOLS,
    TooLarge,
    json_size,
    raw_json_problem,
)

KIB = 1024
PARSE_IN_THREAD_BYTES = 256 * KIB
"""Bodies above this are parsed and validated in a worker thread (``routes._parse``):
below it, inline is cheaper than the thread hop (see bench/large_bodies.py)."""
VALIDATE_IN_THREAD_SCHEMA_NODES = 500
"""A smaller body whose JSON Schemas hold more values than this is validated in a worker
thread too: the meta-schema check costs ~0.15 ms per value, whatever the body's size."""


def prescan(raw: bytes) -> None:
    """Refuse a large body that would parse into too many objects, before parsing it
    (``spec.limits.raw_json_problem``: counted at C speed, nothing built)."""
    problem = raw_json_problem(raw)
    if problem is not None:
        raise InvalidRequestError(problem)


def _count(value: Any, limit: int, param: str, what: str) -> int:
    if isinstance(value, list) and len(value) > limit:
        raise InvalidRequestError(f"{param}: at most {limit:,} {what} per request; this one "
                                  f"has {len(value):,}", param=param)
    return len(value) if isinstance(value, list) else 0


def _messages(messages: Any, name: str = "messages") -> None:
    if not isinstance(messages, list):
        return
    _count(messages, MAX_MESSAGES, name, "messages")
    parts = 0
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list):
            if len(content) > MAX_PARTS_PER_MESSAGE:
                param = f"{name}[{i}].content"
                raise InvalidRequestError(
                    f"{param}: a message holds at most {MAX_PARTS_PER_MESSAGE:,} content "
                    f"parts; this one has {len(content):,}", param=param)
            parts += len(content)
        else:
            parts += 1
        calls = message.get("tool_calls")
        if calls is not None and isinstance(calls, list):
            parts += len(calls)
    if parts > MAX_PARTS:
        raise InvalidRequestError(f"{name}: a request holds at most {MAX_PARTS:,} content "
                                  f"parts and tool calls in all; this one has {parts:,}",
                                  param=name)


SchemaFinder = Callable[[dict[str, Any]], list[tuple[str, Any]]]
"""Where a wire keeps its JSON Schemas: (parameter as the caller wrote it, schema)."""


def chat_schemas(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """Chat Completions: ``tools[i].function.parameters`` and the response format's."""
    found: list[tuple[str, Any]] = []
    tools = data.get("tools")
    for i, tool in enumerate(tools if isinstance(tools, list) else []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and "parameters" in function:
            found.append((f"tools[{i}].function.parameters", function["parameters"]))
    fmt = data.get("response_format")
    spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
    if isinstance(spec, dict) and "schema" in spec:
        found.append(("response_format.json_schema.schema", spec["schema"]))
    return found


def precheck(data: dict[str, Any], *, messages: str = "messages", stop: str = "stop",
             schemas: SchemaFinder = chat_schemas) -> int:
    """Raise ``InvalidRequestError`` (naming the caller's parameter) if the raw body is over
    a limit of ``spec.limits``; else return how many JSON Schema values it holds. Costs
    O(messages) plus at most ``MAX_SCHEMA_NODES`` steps. The other wires (``/v1/messages``,
    ``/v1/responses``) name their own list of messages, stop sequences and schemas."""
    # Each check is skipped where its value is absent (most calls send no tools, stop or
    # options): the same answer, fewer calls on every request (issue 12, fourth pass).
    _messages(data.get(messages), messages)
    tools = data.get("tools")
    if tools is not None:
        _count(tools, MAX_TOOLS, "tools", "tools")
    stops = data.get(stop)
    if stops is not None:
        _count(stops, MAX_STOP_SEQUENCES, stop, "stop sequences")
    budget = MAX_SCHEMA_NODES
    for param, schema in schemas(data):
        try:
            budget -= json_size(schema, max_nodes=budget, max_depth=MAX_SCHEMA_DEPTH,
                                what=param)
        except TooLarge as exc:
            why = (str(exc) if exc.too_deep else
                   f"{param}: the JSON Schemas of tools and response_format hold more than "
                   f"{MAX_SCHEMA_NODES:,} JSON values in all, the limit")
            raise InvalidRequestError(why, param=param) from None
    options = data.get("provider_options")
    if options is not None:  # None is one JSON value: within any budget
        try:
            json_size(options, max_nodes=MAX_OPTION_NODES, max_depth=MAX_OPTION_DEPTH,
                      what="provider_options")
        except TooLarge as exc:
            raise InvalidRequestError(str(exc), param="provider_options") from None
    return MAX_SCHEMA_NODES - budget
