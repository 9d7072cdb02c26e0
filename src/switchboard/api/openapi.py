"""The OpenAPI document (``/openapi.json``): FastAPI's output, made true.

FastAPI documents each route's 200 and a generic 422 in *its* validation shape
(``HTTPValidationError``), which this API never sends. Here every operation gets the
statuses it can really answer, each error in the shape the caller really receives:

- ``/api`` errors are ``ApiError`` (``{"error": {"message", "code", "field"}}``,
  ``api.errors``); the statuses follow from what the route depends on (a signed-in user:
  401; an admin or, for browser sessions, the CSRF token: 403; a path id: 404 and 422; a
  body: 400, 413 and 422), plus the few that only the route knows (``_EXTRA``). Every
  operation can answer 500 (``api.error_boundary``) and 503 (a busy database).
- ``/v1`` is plain Starlette (``api.openai.routes``), invisible to FastAPI: its
  operations are described here, the request body straight from the wire models
  (``api.openai.wire``), so the document cannot drift from what the handler validates.
  Errors are OpenAI's shape (``OpenAIError``).

The fuzzing gate (tests/fuzz) generates requests from this document and fails on any
status or body it does not describe, which keeps it honest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from switchboard.api.anthropic.wire import CountTokensRequest, MessagesRequest
from switchboard.api.auth import current_principal, require_admin, require_csrf
from switchboard.api.openai.wire import ChatCompletionRequest
from switchboard.api.responses.wire import ResponsesRequest
from switchboard.db.ids import MAX_ID
from switchboard.services.chat_input import ChatInput

# Declared as 3.0.3: the Swagger UI shipped by swagger-ui-bundle (4.x) refuses to render a
# document that says 3.1 ("Unable to render this definition"). FastAPI's output uses
# nothing that 4.x cannot display.
OPENAPI_VERSION = "3.0.3"

REF = "#/components/schemas/{model}"
API_ERROR = {"$ref": "#/components/schemas/ApiError"}
# A stream of server-sent events whose ``data`` lines are JSON objects (schemathesis
# validates each event's data against this schema, so it must not say "string").
SSE_SCHEMA = {"description": "Server-sent events; each data line is one JSON object"}
OPENAI_ERROR = {"$ref": "#/components/schemas/OpenAIError"}

DESCRIPTIONS = {
    304: "Not modified: the client's copy (If-None-Match) is current",
    400: "Bad request (on /api: a body that is not UTF-8 JSON or is nested too deeply)",
    401: "Not signed in, or the token is unknown, revoked or expired",
    403: "Not allowed: needs an admin, or (browser sessions) the CSRF token",
    404: "Not found",
    409: "Conflict with the current state (a duplicate name, the default model, ...)",
    413: "Request body too large",
    422: "Invalid input; `field` names the parameter",
    429: "Too many requests (throttled, or the vendor's rate limit); see Retry-After",
    500: "Unexpected server error; the message names the request id",
    502: "The vendor failed or refused the gateway's key",
    503: "The database is busy or unreachable; retry after Retry-After seconds",
    504: "The vendor did not answer in time",
}

# What only the route knows, by (method, path).
_EXTRA: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/api/session/login"): (401, 429),
    ("POST", "/api/setup"): (409, 429),
    # 403: a feature the turn asks for (tools, comparison, Auto) is turned off (flags).
    ("POST", "/api/chat"): (403, 404, 409, 429, 502, 504),
    ("POST", "/api/chat/stream"): (403, 404, 409, 429, 502, 504),
    ("GET", "/api/messages/{message_id}/stream"): (403, 429),
    # No call of that id waits for approval (decided, ended, or on another worker).
    ("POST", "/api/messages/{message_id}/tool-calls/{call_id}/approve"): (409,),
    ("POST", "/api/messages/{message_id}/tool-calls/{call_id}/deny"): (409,),
    ("PUT", "/api/flags/{name}"): (404,),
    ("GET", "/api/usage"): (403,),
    ("POST", "/api/tokens"): (404,),
    ("POST", "/api/budgets"): (404,),  # the user or token it names does not exist
    ("POST", "/api/alerts/channels"): (409,),  # the name is taken, or 20 channels exist
    ("PATCH", "/api/alerts/channels/{channel_id}"): (409,),  # the new name is taken
    ("PUT", "/api/me/preferences"): (404,),
    ("PUT", "/api/task-defaults"): (404, 409),  # an unknown model; a disabled provider
    ("POST", "/api/comparisons/vote"): (403, 404),  # off (flags); not the caller's answer
    ("GET", "/api/model-registry"): (304,),
    ("GET", "/api/models"): (304,),
    ("GET", "/api/config/providers"): (304,),
    ("POST", "/api/config/models"): (404,),
    ("POST", "/api/config/providers/{provider_id}/import-models"): (502, 504),
    ("POST", "/api/providers/{provider}/test"): (502, 504),
}
_SSE = {("POST", "/api/chat/stream"),  # 200 is a text/event-stream
        ("GET", "/api/messages/{message_id}/stream")}
# Routes that answer with an explicit Response whose success status is not the
# decorator's (which is all FastAPI sees).
_SUCCESS = {("POST", "/api/config/providers"): "201", ("POST", "/api/config/models"): "201",
            ("DELETE", "/api/config/providers/{provider_id}"): "204",
            ("DELETE", "/api/config/models/{model_id}"): "204"}
_CONFLICT_PREFIXES = ("/api/config/", "/api/providers/", "/api/users", "/api/setup",
                      "/api/mcp-servers")
# Bodies a route reads itself (``api.routes.chat.chat_input`` parses large ones in a worker
# thread): the route documents them with ``openapi_extra``, FastAPI cannot list their schema.
_OWN_BODIES = (ChatInput,)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def _route_dependants(app: FastAPI) -> dict[tuple[str, str], Dependant]:
    """Each API operation's dependency tree, by (method, path). FastAPI 0.165+ keeps
    included routers as contexts (``iter_route_contexts``, which also carry the router's
    own dependencies); older versions flatten them into ``app.routes``."""
    found: dict[tuple[str, str], Dependant] = {}
    iter_contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    if iter_contexts is None:
        for route in app.routes:
            if isinstance(route, APIRoute):
                for method in route.methods or ():
                    found[(method, route.path_format)] = route.dependant
        return found
    for context in iter_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            for method in context.methods or ():
                found[(method, context.path_format)] = context.dependant
    return found


def _statuses(dependant: Dependant, path: str, method: str,
              operation: dict[str, Any]) -> set[int]:
    calls = set(_calls(dependant))
    params = operation.get("parameters", [])
    statuses = {500, 503}
    if current_principal in calls or require_admin in calls:
        statuses.add(401)
    if require_admin in calls or (require_csrf in calls and method != "GET"):
        statuses.add(403)
    if params or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses.update((400, 413))
    if any(p.get("in") == "path" for p in params):
        statuses.add(404)
    if method != "GET" and path.startswith(_CONFLICT_PREFIXES):
        statuses.add(409)
    statuses.update(_EXTRA.get((method, path), ()))
    return statuses


def _response(status: int, schema: dict[str, Any]) -> dict[str, Any]:
    if status == 304:
        return {"description": DESCRIPTIONS[304]}
    return {"description": DESCRIPTIONS.get(status, "Error"),
            "content": {"application/json": {"schema": schema}}}


def _error_schemas() -> dict[str, Any]:
    # The same spelling FastAPI uses for optional fields elsewhere in the document.
    nullable_str = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    return {
        "ApiError": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["message", "code"],
                "properties": {"message": {"type": "string"}, "code": {"type": "string"},
                               "field": nullable_str,
                               "request_id": {"type": "string"}}}},
        },
        "AnthropicError": {
            "type": "object", "required": ["type", "error"],
            "properties": {"type": {"type": "string"}, "error": {
                "type": "object", "required": ["type", "message"],
                "properties": {"type": {"type": "string"}, "message": {"type": "string"}}}},
        },
        "OpenAIError": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["message", "type", "param", "code"],
                "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                               "param": nullable_str, "code": nullable_str}}},
        },
    }


def _v1_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    request = ChatCompletionRequest.model_json_schema(ref_template=REF)
    schemas.update(request.pop("$defs", {}))
    schemas["ChatCompletionRequest"] = request
    schemas["ChatCompletion"] = {
        "type": "object", "required": ["id", "object", "created", "model", "choices"],
        "properties": {"id": {"type": "string"}, "object": {"type": "string"},
                       "created": {"type": "integer"}, "model": {"type": "string"},
                       "choices": {"type": "array", "items": {"type": "object"}},
                       "usage": {"type": "object"}},
    }
    model = {"type": "object", "required": ["id", "object", "owned_by"],
             "properties": {"id": {"type": "string"}, "object": {"type": "string"},
                            "created": {"type": "integer"}, "owned_by": {"type": "string"}}}
    schemas["Model"] = model
    security: list[dict[str, list[str]]] = [{"bearer": []}]

    def errors(*codes: int) -> dict[str, Any]:
        return {str(c): _response(c, OPENAI_ERROR) for c in (*codes, 401, 500, 503)}

    return {
        "/v1/chat/completions": {"post": {
            "tags": ["openai"], "operationId": "create_chat_completion",
            "summary": "Create a chat completion (OpenAI-compatible)",
            "security": security,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": REF.format(model="ChatCompletionRequest")},
                "example": {"model": "offline:offline-chat",
                            "messages": [{"role": "user", "content": "Hello"}]}}}},
            "responses": {
                "200": {"description": "The completion, or its chunks when `stream` is true",
                        "content": {
                            "application/json": {"schema": {
                                "$ref": REF.format(model="ChatCompletion")}},
                            "text/event-stream": {"schema": SSE_SCHEMA}}},
                # 403: an admin's switch is off for the caller (server_tools: tool_loop)
                **errors(400, 403, 404, 413, 429, 502, 504)},
        }},
        "/v1/models": {"get": {
            "tags": ["openai"], "operationId": "list_models_v1",
            "summary": "List the models this token can use", "security": security,
            "responses": {
                "200": {"description": "The models", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["object", "data"],
                               "properties": {"object": {"type": "string"},
                                              "data": {"type": "array", "items": {
                                                  "$ref": REF.format(model="Model")}}}}}}},
                "304": _response(304, {}), **errors()},
        }},
        "/v1/models/{model}": {"get": {
            "tags": ["openai"], "operationId": "retrieve_model_v1",
            "summary": "One model, by `provider:model` ref or bare id", "security": security,
            "parameters": [{"name": "model", "in": "path", "required": True,
                            "schema": {"type": "string", "minLength": 1},
                            "example": "offline:offline-chat"}],
            "responses": {
                "200": {"description": "The model", "content": {"application/json": {
                    "schema": {"$ref": REF.format(model="Model")}}}},
                **errors(404)},
        }},
    }


def _body(model: str, example: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {
        "schema": {"$ref": REF.format(model=model)}, "example": example}}}


def _wire_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    """``/v1/responses`` (OpenAI's errors) and ``/v1/messages`` (Anthropic's errors):
    issue 13, decision 0072."""
    for model in (ResponsesRequest, MessagesRequest, CountTokensRequest):
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas["Response"] = {
        "type": "object", "required": ["id", "object", "created_at", "status", "model",
                                       "output"],
        "properties": {"id": {"type": "string"}, "object": {"type": "string"},
                       "created_at": {"type": "integer"}, "status": {"type": "string"},
                       "model": {"type": "string"},
                       "output": {"type": "array", "items": {"type": "object"},
                                  "description": "`message`, `reasoning`, `function_call` "
                                  "items and, for a model that draws, "
                                  "`image_generation_call` items (the picture's base64 in "
                                  "`result`) in their place (decision 0233)"},
                       "usage": {"type": "object"}}}
    schemas["AnthropicMessage"] = {
        "type": "object", "required": ["id", "type", "role", "content", "model",
                                       "stop_reason", "usage"],
        "properties": {"id": {"type": "string"}, "type": {"type": "string"},
                       "role": {"type": "string"}, "model": {"type": "string"},
                       "content": {"type": "array", "items": {"type": "object"},
                                   "description": "`text`, `thinking`, `redacted_thinking`, "
                                   "`tool_use` blocks and, for a model that draws, `image` "
                                   "blocks (a base64 `source`) in their place (decision "
                                   "0232)"},
                       "stop_reason": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                       "usage": {"type": "object"}}}
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    either: list[dict[str, list[str]]] = [{"x-api-key": []}, {"bearer": []}]
    anthropic_error = {"$ref": REF.format(model="AnthropicError")}

    def openai(*codes: int) -> dict[str, Any]:
        return {str(c): _response(c, OPENAI_ERROR) for c in (*codes, 401, 500, 503)}

    def anthropic(*codes: int) -> dict[str, Any]:
        return {str(c): _response(c, anthropic_error) for c in (*codes, 401, 500, 503)}

    response_id = [{"name": "response_id", "in": "path", "required": True,
                    "schema": {"type": "string", "minLength": 1}}]
    one = {"content": {"application/json": {"schema": {"$ref": REF.format(
        model="Response")}}}}
    ask = {"model": "offline:offline-chat", "max_tokens": 256,
           "messages": [{"role": "user", "content": "Hello"}]}
    return {
        "/v1/responses": {"post": {
            "tags": ["openai"], "operationId": "create_response",
            "summary": "Create a response (OpenAI's Responses API, any provider)",
            "security": bearer,
            "requestBody": _body("ResponsesRequest", {"model": "offline:offline-chat",
                                                      "input": "Hello"}),
            "responses": {
                "200": {"description": "The response, or its events when `stream` is true",
                        "content": {**one["content"],
                                    "text/event-stream": {"schema": SSE_SCHEMA}}},
                **openai(400, 404, 413, 429, 502, 504)}}},
        "/v1/responses/{response_id}": {
            "get": {"tags": ["openai"], "operationId": "retrieve_response",
                    "summary": "A stored response of yours", "security": bearer,
                    "parameters": response_id,
                    "responses": {"200": {"description": "The response", **one},
                                  **openai(400, 404)}},
            "delete": {"tags": ["openai"], "operationId": "delete_response",
                       "summary": "Delete a stored response of yours", "security": bearer,
                       "parameters": response_id,
                       "responses": {"200": {"description": "Deleted", "content": {
                           "application/json": {"schema": {"type": "object"}}}},
                           **openai(400, 404)}}},
        "/v1/messages": {"post": {
            "tags": ["anthropic"], "operationId": "create_message",
            "summary": "Create a message (Anthropic's Messages API, any provider)",
            "security": either, "requestBody": _body("MessagesRequest", ask),
            "responses": {
                "200": {"description": "The message, or its events when `stream` is true",
                        "content": {
                            "application/json": {"schema": {
                                "$ref": REF.format(model="AnthropicMessage")}},
                            "text/event-stream": {"schema": SSE_SCHEMA}}},
                **anthropic(400, 404, 413, 429, 502, 504, 529)}}},
        "/v1/messages/count_tokens": {"post": {
            "tags": ["anthropic"], "operationId": "count_message_tokens",
            "summary": "Estimate a prompt's tokens (no provider is called)",
            "security": either,
            "requestBody": _body("CountTokensRequest", {
                "model": ask["model"], "messages": ask["messages"]}),
            "responses": {
                "200": {"description": "The estimate", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["input_tokens"],
                               "properties": {"input_tokens": {"type": "integer"}}}}}},
                **anthropic(400, 404, 413)}}},
    }


_BOUNDS = ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf")
# Integral bounds that a float cannot hold exactly: the one such bound here is an id's.
_EXACT = {float(MAX_ID): MAX_ID, float(-MAX_ID - 1): -MAX_ID - 1}


def _exact_bounds(node: Any) -> None:
    """Integral bounds as integers again, in place. FastAPI's document model types every
    bound as a float, so ``le=MAX_ID`` came out as ``9.223372036854776e+18`` (2^63, which
    no id column takes): clients and the fuzzing gate read it as a bound to send."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _BOUNDS and isinstance(value, float) and value.is_integer():
                node[key] = _EXACT.get(value, int(value))
            else:
                _exact_bounds(value)
    elif isinstance(node, list):
        for item in node:
            _exact_bounds(item)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, routes=app.routes,
                      openapi_version=OPENAPI_VERSION)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(_error_schemas())
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "An API token (sb-...), from Settings > API tokens"},
        "session": {"type": "apiKey", "in": "cookie", "name": "sb_session",
                    "description": "The browser session; writes also need X-CSRF-Token"},
    }
    dependants = _route_dependants(app)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            dependant = dependants.get((method.upper(), path))
            if dependant is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            success = _SUCCESS.get((method.upper(), path))
            if success is not None and "200" in responses:
                ok = responses.pop("200")
                if success == "204":
                    ok.pop("content", None)
                responses[success] = ok
            for status in sorted(_statuses(dependant, path, method.upper(), operation)):
                responses.setdefault(str(status), _response(status, API_ERROR))
            if {current_principal, require_admin} & set(_calls(dependant)):
                operation["security"] = [{"bearer": []}, {"session": []}]
            if (method.upper(), path) in _SSE and "200" in responses:
                responses["200"]["content"] = {"text/event-stream": {"schema": SSE_SCHEMA}}
    for model in _OWN_BODIES:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    doc["paths"].update(_v1_paths(schemas))
    doc["paths"].update(_wire_paths(schemas))
    components["securitySchemes"]["x-api-key"] = {
        "type": "apiKey", "in": "header", "name": "x-api-key",
        "description": "An API token (sb-...) as Anthropic's clients send it"}
    _exact_bounds(doc)
    return doc
