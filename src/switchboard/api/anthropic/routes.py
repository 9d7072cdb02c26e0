"""``POST /v1/messages`` and ``POST /v1/messages/count_tokens``: Anthropic's Messages
API over the one call pipeline, for every provider (issue 13, decision 0072).

The official ``anthropic`` SDK (and tools built on it, such as Claude Code via
``ANTHROPIC_BASE_URL``) sends our API token as ``x-api-key``; ``Authorization: Bearer``
works too. Every answer, errors included, is in Anthropic's shape (``errors.py``), and
the body limit, unknown routes and unhandled errors answer in it as well
(``api/surface.py``).
"""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api.anthropic.convert_request import parse
from switchboard.api.anthropic.errors import anthropic_error, error_body, headers_of, status_of
from switchboard.api.anthropic.render import EventEncoder, message_body
from switchboard.api.anthropic.wire import CountTokensRequest, MessagesRequest
from switchboard.api.event_stream import EventStream
from switchboard.api.openai.bounds import precheck
from switchboard.api.shutdown import SHUTTING_DOWN
from switchboard.api.state import AppState
from switchboard.api.tokens import Principal
from switchboard.api.wire_call import (
    api_token,
    principal_of,
    read_body,
    sse,
    warning_headers,
)
from switchboard.services.auto.picker import auto_tier
from switchboard.services.policy import CallSpec
from switchboard.services.usage_estimate import prompt_tokens
from switchboard.spec import SwitchboardError


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def _error(exc: SwitchboardError) -> Response:
    return _json(error_body(exc), status_of(exc), headers_of(exc))


async def _principal(request: Request) -> Principal | Response:
    token = api_token(request, x_api_key=True)
    if token is None:
        return _json(anthropic_error(
            "x-api-key header is required: send your Switchboard API token as x-api-key "
            "(or Authorization: Bearer); create one in Settings > API tokens.", 401), 401)
    principal = await principal_of(request, token)
    if principal is None:
        return _json(anthropic_error("invalid x-api-key: unknown, revoked or expired "
                                     "token", 401), 401)
    return principal


def _schemas(data: dict[str, Any]) -> list[tuple[str, Any]]:
    tools = data.get("tools")
    return [(f"tools.{i}.input_schema", t["input_schema"])
            for i, t in enumerate(tools if isinstance(tools, list) else [])
            if isinstance(t, dict) and "input_schema" in t]


_precheck = partial(precheck, stop="stop_sequences", schemas=_schemas)


async def messages(request: Request) -> Response:
    state: AppState = request.app.state.sb
    principal = await _principal(request)
    if isinstance(principal, Response):
        return principal
    try:
        body, chat, warnings = await read_body(request, _precheck,
                                               partial(parse, model=MessagesRequest))
    except SwitchboardError as exc:
        return _error(exc)
    assert isinstance(body, MessagesRequest)
    spec = CallSpec(principal, "api", chat, body.model.strip(), stream=bool(body.stream))
    message_id = "msg_" + secrets.token_hex(12)
    if not body.stream:
        try:
            done = await state.pipeline.complete(spec)
        except SwitchboardError as exc:
            return _error(exc)
        return _json(message_body(done.result, message_id, done.model.ref),
                     headers=warning_headers(done.headers, [*warnings, *done.warnings]))
    try:  # errors before the first byte keep their HTTP status
        call = await state.pipeline.open(spec)
    except SwitchboardError as exc:
        return _error(exc)

    def last_words() -> bytes:
        error = anthropic_error(f"{SHUTTING_DOWN.capitalize()}: the answer was cut short. "
                                "Retry the request in a moment.", 529)
        return b"event: error\ndata: " + orjson.dumps(error) + b"\n\n"

    encoder = EventEncoder(message_id, call.model.ref)
    return EventStream(
        sse(call.first, call.events, call, encoder, state.shutdown, last_words),
        keep_alive=state.settings.sse_keep_alive,
        headers=warning_headers(call.headers, [*warnings, *call.warnings]))


async def count_tokens(request: Request) -> Response:
    """The prompt's size, estimated (``services.usage_estimate``): no vendor is called,
    so it works for every provider and costs nothing; the model must exist."""
    state: AppState = request.app.state.sb
    principal = await _principal(request)
    if isinstance(principal, Response):
        return principal
    try:
        body, chat, _ = await read_body(request, _precheck,
                                        partial(parse, model=CountTokensRequest))
        if auto_tier(body.model) is None:  # auto names no model yet: any will do
            (await state.registry()).resolve(body.model.strip())
    except SwitchboardError as exc:
        return _error(exc)
    return _json({"input_tokens": prompt_tokens(chat)})


# Mounted by ``api.app`` through ``api.lazy_routes.DEFERRED_ROUTES`` (imported on the
# first request to one of these paths, issue 12): the paths and methods are listed there.
