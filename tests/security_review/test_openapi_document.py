"""Issue 10 item 13: ``/openapi.json`` describes what the server really answers — every
operation's error statuses in the ``{"error": …}`` shape actually sent (not FastAPI's
default 422 ``HTTPValidationError``), ids with their real bounds, and the ``/v1``
operations (plain Starlette handlers FastAPI cannot see) with their bodies and OpenAI's
error shape. The fuzzing gate (tests/fuzz) checks every response against it; this checks
the document itself and a few real errors against it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import orjson

from tests.security_review.conftest import bearer
from tests.server import Running

MAX_ID = 2**63 - 1


def _document(server: Running) -> tuple[dict[str, Any], httpx.Client]:
    admin = bearer(server, server.make_user("root", role="admin"))
    response = admin.get("/openapi.json")
    assert response.status_code == 200
    return response.json(), admin


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the document's components reachable (for jsonschema)."""
    return {**schema, "components": doc["components"]}


def test_every_operation_documents_its_errors_in_the_real_shape(server: Running) -> None:
    doc, _ = _document(server)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    operations = [(path, method, op) for path, item in doc["paths"].items()
                  for method, op in item.items()]
    assert {"/v1/chat/completions", "/v1/models", "/v1/models/{model}"} <= set(doc["paths"])
    for path, method, op in operations:
        label = f"{method.upper()} {path}"
        responses = op["responses"]
        assert {"500", "503"} <= set(responses), label
        error_ref = ("#/components/schemas/AnthropicError" if path.startswith("/v1/messages")
                     else "#/components/schemas/OpenAIError" if path.startswith("/v1")
                     else "#/components/schemas/ApiError")
        for status, response in responses.items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": error_ref}, (label, status)
        params = op.get("parameters", [])
        if any(p["in"] == "path" for p in params):
            assert "404" in responses, label
        for param in params:
            if param["name"].endswith("_id") and param["schema"].get("type") == "integer":
                assert param["schema"]["maximum"] == MAX_ID, (label, param["name"])
        if op.get("requestBody"):
            assert {"413", "422" if not path.startswith("/v1") else "400"} <= set(
                responses), label
        if op.get("security"):
            assert "401" in responses, label
        stream = responses.get("200", {}).get("content", {}).get("text/event-stream")
        if stream is not None:  # each event's data is a JSON object, not a string
            assert stream["schema"].get("type") != "string", label


def _integer_branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The integer alternatives of a property (``int | None`` is an ``anyOf``)."""
    branches = schema.get("anyOf", [schema])
    return [branch for branch in branches if branch.get("type") == "integer"]


def test_ids_in_request_bodies_state_their_bounds(server: Running) -> None:
    """A body id above 2^63-1 is refused (a 422, by the engine's value guard at the
    latest); the document must say so, or the fuzzing gate and generated clients send
    ids the server cannot take. (Exact integers: ``test_integer_bounds_are_exact_integers``.)"""
    doc, _ = _document(server)
    unbounded = []
    for name, schema in doc["components"]["schemas"].items():
        for prop, spec in schema.get("properties", {}).items():
            if not (prop.endswith("_id") or prop == "edit_of"):
                continue
            for branch in _integer_branches(spec):
                if (float(branch.get("maximum", "inf")) != float(MAX_ID)
                        or branch.get("minimum") != 1):
                    unbounded.append(f"{name}.{prop}")
    assert not unbounded, ", ".join(unbounded)


def test_real_errors_match_the_documented_schemas(server: Running) -> None:
    doc, admin = _document(server)
    api_error = _resolve(doc, {"$ref": "#/components/schemas/ApiError"})
    openai_error = _resolve(doc, {"$ref": "#/components/schemas/OpenAIError"})
    request = doc["components"]["schemas"]["ChatCompletionRequest"]
    assert {"model", "messages"} <= set(request["required"])
    for response in (admin.post("/api/tokens", json={"name": ""}),
                     admin.get(f"/api/conversations/{MAX_ID + 1}"),
                     admin.get("/api/conversations/1"),
                     httpx.get(f"{server.url}/api/me")):
        assert response.status_code >= 400
        jsonschema.validate(response.json(), api_error)
    for response in (admin.post("/v1/chat/completions", json={"model": "x"}),
                     admin.get("/v1/models/nope:nothing"),
                     admin.post("/v1/unknown"),
                     httpx.get(f"{server.url}/v1/models")):
        assert response.status_code >= 400
        jsonschema.validate(response.json(), openai_error)


def test_chat_bodies_read_by_the_route_itself_are_documented(server: Running) -> None:
    """``/api/chat`` reads its own body (large ones are parsed in a worker thread), so
    FastAPI no longer sees it: the document must still describe it, errors included."""
    doc, _ = _document(server)
    schemas = doc["components"]["schemas"]
    for path in ("/api/chat", "/api/chat/stream"):
        op = doc["paths"][path]["post"]
        body = op["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ChatInput"}, path
        assert {"400", "413", "422"} <= set(op["responses"]), path
    assert {"ChatInput", "ImageInput", "FileInput", "ChatOptions"} <= set(schemas)
    assert schemas["ChatInput"]["properties"]["conversation_id"]["anyOf"][0]["maximum"] == MAX_ID


def _bounds(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
                yield f"{where}.{key}", value
            else:
                yield from _bounds(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _bounds(value, f"{where}[{i}]")


def test_integer_bounds_are_exact_integers(server: Running) -> None:
    """FastAPI's document model types every bound as a float, so a body id's maximum read
    ``9.223372036854776e+18`` (that is 2^63, one past what the server takes). Generated
    clients and the fuzzing gate then send an id the server refuses."""
    admin = bearer(server, server.make_user("root", role="admin"))
    raw = admin.get("/openapi.json").text
    assert "e+18" not in raw and "9223372036854775807" in raw
    doc = orjson.loads(raw)  # keeps 2^63-1 exact, as any JSON reader of integers does
    floats = [(where, value) for where, value in _bounds(doc)
              if isinstance(value, float) and value.is_integer()]
    assert not floats, floats[:5]
