"""``/v1/responses``: OpenAI's Responses API over the one call pipeline, for every
provider (issue 13, decision 0072).

``POST /v1/responses`` (stream and not), ``GET`` and ``DELETE /v1/responses/{id}``.
Stored answers (``store``, true by default as on OpenAI) live per user in the database
(``services.stored_responses``); ``previous_response_id`` continues from one, whichever
provider answers next. Errors are OpenAI's (``api.openai.errors``).
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api.event_stream import EventStream
from switchboard.api.openai.bounds import precheck
from switchboard.api.openai.errors import error_body, error_headers, error_status, openai_error
from switchboard.api.responses.convert_request import parse, to_chat_request
from switchboard.api.responses.render import EventEncoder, Frame, new_id, response_body
from switchboard.api.responses.wire import ResponsesRequest
from switchboard.api.shutdown import CODE as SHUTDOWN_CODE
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
from switchboard.services import stored_responses
from switchboard.services.policy import CallSpec
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    ChatResult,
    InvalidRequestError,
    SwitchboardError,
)

log = logging.getLogger("switchboard.api")
MAX_ID = 64


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def _error(exc: SwitchboardError) -> Response:
    return _json(error_body(exc), error_status(exc)[0], error_headers(exc))


def _not_found(response_id: str, param: str | None = None) -> Response:
    return _json(openai_error(f"Response with id '{response_id[:MAX_ID]}' not found.",
                              param=param, code="not_found"), 404)


async def _principal(request: Request) -> Principal | Response:
    token = api_token(request)
    principal = await principal_of(request, token) if token else None
    if principal is None:
        message = ("You didn't provide an API key. Send it as 'Authorization: Bearer sb-...'"
                   if token is None else "Incorrect API key provided (unknown, revoked or "
                   "expired token).")
        return _json(openai_error(message, code="invalid_api_key"), 401,
                     {"www-authenticate": 'Bearer realm="switchboard"'})
    return principal


def _schemas(data: dict[str, Any]) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    tools = data.get("tools")
    for i, tool in enumerate(tools if isinstance(tools, list) else []):
        if isinstance(tool, dict) and "parameters" in tool:
            found.append((f"tools[{i}].parameters", tool["parameters"]))
    text = data.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    if isinstance(fmt, dict) and "schema" in fmt:
        found.append(("text.format.schema", fmt["schema"]))
    return found


_precheck = partial(precheck, messages="input", schemas=_schemas)


def _echo(body: ResponsesRequest, chat: ChatRequest) -> dict[str, Any]:
    """The request's settings as every ``response`` object repeats them."""
    tools = [{"type": "function", "name": t.name, "description": t.description,
              "parameters": t.parameters, "strict": t.strict} for t in chat.tools or []]
    fmt: dict[str, Any] = {"type": "text"}
    if body.text is not None and body.text.format is not None:
        fmt = body.text.format.model_dump(by_alias=True, exclude_none=True)
        if fmt["type"] == "json_schema":
            fmt.setdefault("name", "response")
    echo = {
        "instructions": body.instructions,
        "max_output_tokens": body.max_output_tokens,
        "metadata": body.metadata or {},
        "parallel_tool_calls": body.parallel_tool_calls is not False,
        "previous_response_id": body.previous_response_id,
        "reasoning": {"effort": body.reasoning.effort if body.reasoning else None,
                      "summary": None},
        "store": body.store is not False,
        "temperature": body.temperature if body.temperature is not None else 1.0,
        "text": {"format": fmt},
        "tool_choice": body.tool_choice if body.tool_choice is not None else "auto",
        "tools": tools,
        "top_p": body.top_p if body.top_p is not None else 1.0,
        "truncation": body.truncation or "disabled",
    }
    if body.user is not None:  # not nullable in OpenAI's schema
        echo["user"] = body.user
    return echo


async def _store(state: AppState, principal: Principal, frame: Frame, final: dict[str, Any],
                 chat: ChatRequest, result: ChatResult) -> CallWarning | None:
    """Keep the answer for ``previous_response_id`` / ``GET``; a warning if too large."""
    conversation = stored_responses.dump_conversation([*chat.messages, result.message])
    if not stored_responses.fits(conversation, final):
        return CallWarning("other", "the conversation is too large to store: "
                           "previous_response_id cannot continue from this response", "store")
    await stored_responses.save(state.db, user_id=principal.user_id, response_id=frame.id,
                                model=frame.model, body=final, conversation=conversation)
    return None


async def create(request: Request) -> Response:
    state: AppState = request.app.state.sb
    principal = await _principal(request)
    if isinstance(principal, Response):
        return principal
    try:
        body = await read_body(request, _precheck, parse)
        history = None
        if body.previous_response_id is not None:
            history = await stored_responses.conversation_of(
                state.db, user_id=principal.user_id,
                response_id=body.previous_response_id[:MAX_ID])
            if history is None:
                return _json(openai_error(
                    f"Previous response with id '{body.previous_response_id[:MAX_ID]}' not "
                    "found.", param="previous_response_id", code="previous_response_not_found"),
                    404)
        chat, warnings = to_chat_request(body, history)
    except SwitchboardError as exc:
        return _error(exc)
    spec = CallSpec(principal, "api", chat, body.model.strip(), stream=bool(body.stream))
    store = body.store is not False
    echo = _echo(body, chat)
    response_id = new_id("resp")
    created = int(time.time())
    if not body.stream:
        try:
            done = await state.pipeline.complete(spec)
        except SwitchboardError as exc:
            return _error(exc)
        frame = Frame(response_id, created, done.model.ref, echo)
        final = response_body(frame, done.result)
        warnings = [*warnings, *done.warnings]
        if store and final["status"] != "failed":
            said = await _store(state, principal, frame, final, chat, done.result)
            warnings = [*warnings, said] if said else warnings
        return _json(final, headers=warning_headers(done.headers, warnings))
    try:  # errors before the first byte keep their HTTP status
        call = await state.pipeline.open(spec)
    except SwitchboardError as exc:
        return _error(exc)
    frame = Frame(response_id, created, call.model.ref, echo)
    encoder = EventEncoder(frame)

    async def keep() -> None:
        if store and encoder.final is not None and encoder.final["status"] != "failed":
            said = await _store(state, principal, frame, encoder.final, chat,
                                call.collector.result())
            if said is not None:
                log.info("response %s not stored: %s", frame.id, said.message)

    def last_words() -> bytes:
        return b"event: error\ndata: " + orjson.dumps({
            "type": "error", "code": SHUTDOWN_CODE, "param": None,
            "message": f"{SHUTTING_DOWN.capitalize()}: the answer was cut short. Retry "
                       "the request in a moment.", "sequence_number": 0}) + b"\n\n"

    return EventStream(
        sse(call.first, call.events, call, encoder, state.shutdown, last_words, keep),
        keep_alive=state.settings.sse_keep_alive,
        headers=warning_headers(call.headers, [*warnings, *call.warnings]))


async def retrieve(request: Request) -> Response:
    state: AppState = request.app.state.sb
    principal = await _principal(request)
    if isinstance(principal, Response):
        return principal
    response_id = request.path_params["response_id"]
    if request.query_params.get("stream") in ("true", "1"):
        return _error(InvalidRequestError("stream: replaying a stored response as a stream "
                                          "is not supported; retrieve it without stream",
                                          param="stream"))
    body = await stored_responses.body_of(state.db, user_id=principal.user_id,
                                          response_id=response_id[:MAX_ID])
    return _not_found(response_id) if body is None else _json(body)


async def delete(request: Request) -> Response:
    state: AppState = request.app.state.sb
    principal = await _principal(request)
    if isinstance(principal, Response):
        return principal
    response_id = request.path_params["response_id"]
    if not await stored_responses.remove(state.db, user_id=principal.user_id,
                                         response_id=response_id[:MAX_ID]):
        return _not_found(response_id)
    return _json({"id": response_id, "object": "response", "deleted": True})


# Mounted by ``api.app`` through ``api.lazy_routes.DEFERRED_ROUTES`` (imported on the
# first request to one of these paths, issue 12): the paths and methods are listed there.
