"""``POST /api/chat/stream`` (SSE) and ``POST /api/chat`` — thin shells over
``services.chat``.

The stream's HTTP status is decided by the FIRST upstream event: the route waits for it
before answering, so a failure before any byte (bad key, 500 after retries, 429) is an
ordinary JSON error with its status (plus ``X-Switchboard-Conversation-Id`` /
``-Message-Id`` headers naming the saved question and its ``error`` answer). After that,
everything travels as SSE events: ``start``, ``delta``/``reasoning``/``tool_call``/``image``
(a picture the model answered with, as its stored part, in its place), then
``done`` or ``error``, both sent only once the answer is saved.

The answer is written by a job (``services.answer_jobs``) that outlives the request: the
response only *follows* the job's event log, so a dropped connection (a reload, a closed
tab) no longer stops the answer. Every event carries an ``id:``; ``GET
/api/messages/{id}/stream`` (``routes.answers``) reattaches after a ``Last-Event-ID``, and
``POST /api/messages/{id}/stop`` is the stop button: the answer is saved with the reason
"stopped" and the last event (``error``, code ``stopped``) reaches every follower.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import StreamingResponse

from switchboard.api.auth import current_principal, require_csrf, state_of
from switchboard.api.errors import ApiError, status_of
from switchboard.api.event_stream import EventStream
from switchboard.api.openai.bounds import PARSE_IN_THREAD_BYTES
from switchboard.api.shutdown import CODE as SHUTDOWN_CODE
from switchboard.api.shutdown import SHUTTING_DOWN, StreamShutdown
from switchboard.api.state import AppState
from switchboard.api.tokens import Principal
from switchboard.services.answer_jobs import AnswerJob, JobEvent
from switchboard.services.chat import STOPPED, ChatDeps, Saved, Turn, start_turn
from switchboard.services.chat_input import ChatInput
from switchboard.services.message_files import ImageKept
from switchboard.services.policy import Refused
from switchboard.services.tools.loop import LOOP_EVENTS, LoopEvent
from switchboard.spec import (
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    SwitchboardError,
    TextDelta,
    ToolCall,
    ToolCallStart,
)

log = logging.getLogger("switchboard.api.chat")
TITLE_WAIT = 8.0
router = APIRouter(prefix="/api/chat", tags=["chat"], dependencies=[Depends(require_csrf)])
# The body is read by ``chat_input``, not by FastAPI: this keeps it documented.
_BODY_DOC: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ChatInput"}}}}}


def _validated(raw: bytes) -> ChatInput:
    """The body as ``ChatInput``; errors as FastAPI's own (``api.errors`` shapes them)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                       "msg": "JSON decode error", "input": None}]) from None
    try:
        return ChatInput.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


async def chat_input(request: Request) -> ChatInput:
    """The chat body, parsed and validated in a worker thread when it is large (inline
    images make it up to 64 MB): FastAPI would do it on the event loop, holding every
    other request for up to a second. Small ones stay inline: the thread hop costs more.
    The same threshold as ``/v1`` (``api.openai.bounds``, decision 0013)."""
    raw = await request.body()
    if len(raw) > PARSE_IN_THREAD_BYTES:
        return await anyio.to_thread.run_sync(_validated, raw)
    return _validated(raw)


def _deps(state: AppState) -> ChatDeps:
    return ChatDeps(db=state.db, usage=state.usage, spawn=state.spawn,
                    pipeline=state.pipeline, progress=state.progress,
                    auto_titles=state.settings.auto_titles,
                    file_root=state.files, toolbox=state.toolbox,
                    budget_timezone=state.settings.budget_timezone)


async def _start(request: Request, body: ChatInput, who: Principal) -> Turn:
    state = state_of(request)
    return await start_turn(_deps(state), await state.registry(), who.user_id, body,
                            api_token_id=who.token_id, principal=who)


def _failed(exc: SwitchboardError, turn: Turn, saved: Saved | None) -> ApiError:
    """The error of a turn that produced nothing, with where its record lives."""
    code = exc.code_value if isinstance(exc, ApiError) else exc.code
    field = getattr(exc, "field", None) or getattr(exc, "param", None)
    headers = {"x-switchboard-conversation-id": str(turn.conversation.id)}
    if isinstance(exc, Refused):  # a limit: when to come back, and the policy's headers
        headers.update(exc.headers)
        if exc.retry_after is not None:
            headers["retry-after"] = str(max(1, math.ceil(exc.retry_after)))
    if saved is not None and saved.message is not None:
        headers["x-switchboard-message-id"] = str(saved.message.id)
    return ApiError(status_of(exc), exc.message, code, field, headers)


Data = dict[str, Any]


def frame(event: JobEvent) -> bytes:
    """One SSE event with its id (what ``Last-Event-ID`` names on a reattach)."""
    return (b"id: " + str(event.seq).encode() + b"\nevent: " + event.name.encode()
            + b"\ndata: " + event.data + b"\n\n")


def _dump(view: Any) -> Any:
    return view.model_dump(mode="json") if view is not None else None


def _start_data(turn: Turn, first: StreamEvent | LoopEvent | ImageKept) -> Data:
    warnings = list(turn.warnings)
    if isinstance(first, StreamStart):
        warnings += [w.message for w in first.warnings]
    model = turn.model
    return {
        "conversation": _dump(turn.conversation), "user_message": _dump(turn.user_message),
        "assistant_message_id": turn.assistant_id, "model": model.ref,
        "provider": model.provider_name, "kind": model.kind, "warnings": warnings,
        "auto": turn.auto.as_dict() if turn.auto is not None else None,
    }


def _event_data(event: StreamEvent | LoopEvent | ImageKept) -> tuple[str, Data] | None:
    if isinstance(event, (*LOOP_EVENTS, ImageKept)):  # the tool loop's own; a picture
        return event.sse()
    if isinstance(event, ToolCallStart):  # the card appears as the model starts the call
        return "tool_call_start", {"id": event.id, "name": event.name}
    if isinstance(event, TextDelta):
        return ("delta", {"text": event.text}) if event.text else None
    if isinstance(event, ReasoningDelta):
        return ("reasoning", {"text": event.text}) if event.text else None
    if isinstance(event, ToolCall):
        return "tool_call", {"id": event.id, "name": event.name, "arguments": event.arguments}
    return None


def end_data(status: str, message: Any, conversation: Any, *, reason: str | None,
             code: str | None, retryable: bool) -> tuple[str, Data]:
    """The last event of an answer (``done``, or ``error`` with what went wrong), the same
    whether the answer just ended or was saved long ago (a reattach)."""
    if status == "complete":
        return "done", {"message": _dump(message), "conversation": _dump(conversation)}
    return "error", {
        "message": reason or "the answer did not finish",
        "code": "stopped" if reason == STOPPED else (code or "incomplete"),
        "retryable": retryable,
        "message_id": message.id if message is not None else None,
        "status": status,
    }


def _end(saved: Saved) -> tuple[str, Data]:
    error = saved.error
    return end_data(saved.status, saved.message, saved.conversation, reason=saved.reason,
                    code=error.code if error is not None else None,
                    retryable=saved.retryable)


async def _produce(job: AnswerJob, turn: Turn, first: StreamEvent | LoopEvent | ImageKept,
                   events: AsyncIterator[StreamEvent | LoopEvent | ImageKept],
                   shutdown: StreamShutdown) -> AsyncIterator[tuple[str, Data]]:
    """The answer as ``(event, data)`` pairs, run by the job (not by a request)."""
    stopping = False
    with shutdown.streaming():
        try:
            yield "start", _start_data(turn, first)
            async for event in events:
                pair = _event_data(event)
                if pair is not None:
                    yield pair
        except SwitchboardError:
            pass  # handed to on_done with the partial answer; reported below
        except asyncio.CancelledError:
            if shutdown.absorb():
                stopping = True  # the server is stopping: the answer is saved, then said so
            elif not job.absorb_stop():
                raise
        except Exception:
            log.exception("chat stream of conversation %s failed", turn.conversation.id)
        finally:
            job.model_done()
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
    try:
        saved = await turn.saved()
    except Exception:
        yield "error", {"message": "the answer could not be saved (see the server log)",
                        "code": "save_failed", "retryable": True, "message_id": None,
                        "status": "error"}
        return
    if stopping:
        yield _shutdown_data(saved)
        return
    yield _end(saved)
    title = await _title_of(turn)
    if title is not None:
        yield "title", {"conversation_id": turn.conversation.id, "title": title}


async def follow(job: AnswerJob, after: int = 0, *,
                 until_end: bool = False) -> AsyncIterator[bytes]:
    """A response's body: the job's events after ``after`` as SSE. Leaving (the client
    went away) only ends this follower, never the answer."""
    async for event in job.follow(after, until_end=until_end):
        yield frame(event)


def _shutdown_data(saved: Saved) -> tuple[str, Data]:
    """The last event of an answer cut short by the server stopping (SIGTERM)."""
    return "error", {
        "message": f"{SHUTTING_DOWN}: the answer so far is saved; send it again in a moment",
        "code": SHUTDOWN_CODE, "retryable": True,
        "message_id": saved.message.id if saved.message is not None else None,
        "status": saved.status,
    }


async def _title_of(turn: Turn) -> str | None:
    """A new conversation's title, sent after ``done`` so the answer is never held up;
    the stream waits for it at most ``TITLE_WAIT`` seconds (the title is saved anyway)."""
    try:
        return await asyncio.wait_for(turn.new_title(), TITLE_WAIT)
    except TimeoutError:
        return None
    except Exception:
        log.exception("titling conversation %s failed", turn.conversation.id)
        return None


def sse_response(body: AsyncIterator[bytes], keep_alive: float | None) -> StreamingResponse:
    """The SSE response of an answer, with keep-alive comments while the model is
    silent (``api.event_stream``)."""
    return EventStream(body, keep_alive=keep_alive)


@router.post("/stream", openapi_extra=_BODY_DOC)
async def chat_stream(request: Request, body: ChatInput = Depends(chat_input),
                      who: Principal = Depends(current_principal)) -> StreamingResponse:
    state = state_of(request)
    with state.jobs.admitting(who.user_id):
        turn = await _start(request, body, who)
        events = turn.events()
        try:
            first = await anext(events)
        except SwitchboardError as exc:
            raise _failed(exc, turn, await turn.saved()) from None
        except StopAsyncIteration:
            saved = await turn.saved()
            raise _failed(ApiError(502, "the provider sent no answer", "provider_error"),
                          turn, saved) from None
        job = state.jobs.start(
            turn.assistant_id, who.user_id,
            lambda job: _produce(job, turn, first, events, state.shutdown), state.spawn,
            on_stop=turn.stopped_by_client, on_decision=turn.decide)
    return sse_response(follow(job), state.settings.sse_keep_alive)


@router.post("", openapi_extra=_BODY_DOC)
async def chat(request: Request, body: ChatInput = Depends(chat_input),
               who: Principal = Depends(current_principal)) -> dict[str, Any]:
    turn = await _start(request, body, who)
    saved = await turn.complete()
    if saved.status == "error":
        error = saved.error or ApiError(502, saved.reason or "no answer", "provider_error")
        raise _failed(error, turn, saved)
    # ``warnings`` is beyond the contract's three keys: what the stream's ``start`` carries.
    return {"conversation": _dump(saved.conversation),
            "user_message": _dump(turn.user_message),
            "assistant_message": _dump(saved.message),
            "warnings": [*turn.warnings, *saved.warnings]}
