"""``POST /api/chat/stream`` (SSE) and ``POST /api/chat`` — thin shells over
``services.chat``.

The stream's HTTP status is decided by the FIRST upstream event: the route waits for it
before answering, so a failure before any byte (bad key, 500 after retries, 429) is an
ordinary JSON error with its status (plus ``X-Switchboard-Conversation-Id`` /
``-Message-Id`` headers naming the saved question and its ``error`` answer). After that,
everything travels as SSE events: ``start``, ``delta``/``reasoning``/``tool_call``, then
``done`` or ``error``, both sent only once the answer is saved.

The stop button aborts the request. Starlette notices the disconnect in
``listen_for_disconnect`` and cancels the response; ``_ChatStream`` records it first, so
the answer is saved with the reason "stopped" rather than "interrupted".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import StreamingResponse
from starlette.types import Receive

from switchboard.api.auth import current_principal, require_csrf, state_of
from switchboard.api.errors import ApiError, status_of
from switchboard.api.openai.bounds import PARSE_IN_THREAD_BYTES
from switchboard.api.shutdown import CODE as SHUTDOWN_CODE
from switchboard.api.shutdown import SHUTTING_DOWN, StreamShutdown
from switchboard.api.state import AppState
from switchboard.api.tokens import Principal
from switchboard.services.chat import ChatDeps, Saved, Turn, start_turn
from switchboard.services.chat_input import ChatInput
from switchboard.spec import (
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    SwitchboardError,
    TextDelta,
    ToolCall,
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
                    progress=state.progress, auto_titles=state.settings.auto_titles)


async def _start(request: Request, body: ChatInput, who: Principal) -> Turn:
    state = state_of(request)
    return await start_turn(_deps(state), await state.registry(), who.user_id, body,
                            api_token_id=who.token_id)


def _failed(exc: SwitchboardError, turn: Turn, saved: Saved | None) -> ApiError:
    """The error of a turn that produced nothing, with where its record lives."""
    code = exc.code_value if isinstance(exc, ApiError) else exc.code
    field = getattr(exc, "field", None) or getattr(exc, "param", None)
    headers = {"x-switchboard-conversation-id": str(turn.conversation.id)}
    if saved is not None and saved.message is not None:
        headers["x-switchboard-message-id"] = str(saved.message.id)
    return ApiError(status_of(exc), exc.message, code, field, headers)


def _frame(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _dump(view: Any) -> Any:
    return view.model_dump(mode="json") if view is not None else None


def _start_frame(turn: Turn, first: StreamEvent) -> bytes:
    warnings = list(turn.warnings)
    if isinstance(first, StreamStart):
        warnings += [w.message for w in first.warnings]
    model = turn.model
    return _frame("start", {
        "conversation": _dump(turn.conversation), "user_message": _dump(turn.user_message),
        "assistant_message_id": turn.assistant_id, "model": model.ref,
        "provider": model.provider_name, "kind": model.kind, "warnings": warnings,
    })


def _event_frame(event: StreamEvent) -> bytes | None:
    if isinstance(event, TextDelta):
        return _frame("delta", {"text": event.text}) if event.text else None
    if isinstance(event, ReasoningDelta):
        return _frame("reasoning", {"text": event.text}) if event.text else None
    if isinstance(event, ToolCall):
        return _frame("tool_call", {"id": event.id, "name": event.name,
                                    "arguments": event.arguments})
    return None


def _end_frame(saved: Saved) -> bytes:
    if saved.status == "complete":
        return _frame("done", {"message": _dump(saved.message),
                               "conversation": _dump(saved.conversation)})
    error = saved.error
    return _frame("error", {
        "message": saved.reason or "the answer did not finish",
        "code": error.code if error is not None else "incomplete",
        "retryable": saved.retryable,
        "message_id": saved.message.id if saved.message is not None else None,
        "status": saved.status,
    })


async def _sse(turn: Turn, first: StreamEvent, events: AsyncIterator[StreamEvent],
               shutdown: StreamShutdown) -> AsyncIterator[bytes]:
    stopping = False
    with shutdown.streaming():
        try:
            yield _start_frame(turn, first)
            async for event in events:
                frame = _event_frame(event)
                if frame is not None:
                    yield frame
        except SwitchboardError:
            pass  # handed to on_done with the partial answer; reported below
        except asyncio.CancelledError:
            if not shutdown.absorb():
                raise
            stopping = True  # the server is stopping: the answer is saved, then said so
        except Exception:
            log.exception("chat stream of conversation %s failed", turn.conversation.id)
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
    try:
        saved = await turn.saved()
    except Exception:
        yield _frame("error", {"message": "the answer could not be saved (see the server "
                               "log)", "code": "save_failed", "retryable": True,
                               "message_id": None, "status": "error"})
        return
    if stopping:
        yield _shutdown_frame(saved)
        return
    yield _end_frame(saved)
    title = await _title_of(turn)
    if title is not None:
        yield _frame("title", {"conversation_id": turn.conversation.id, "title": title})


def _shutdown_frame(saved: Saved) -> bytes:
    """The last event of a stream cut short by the server stopping (SIGTERM)."""
    return _frame("error", {
        "message": f"{SHUTTING_DOWN}: the answer so far is saved; send it again in a moment",
        "code": SHUTDOWN_CODE, "retryable": True,
        "message_id": saved.message.id if saved.message is not None else None,
        "status": saved.status,
    })


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


class _ChatStream(StreamingResponse):
    """Tells the turn when the client went away, before the response is cancelled."""

    def __init__(self, turn: Turn, content: AsyncIterator[bytes]) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        self.turn = turn

    async def listen_for_disconnect(self, receive: Receive) -> None:
        await super().listen_for_disconnect(receive)
        self.turn.stopped_by_client()


@router.post("/stream", openapi_extra=_BODY_DOC)
async def chat_stream(request: Request, body: ChatInput = Depends(chat_input),
                      who: Principal = Depends(current_principal)) -> StreamingResponse:
    turn = await _start(request, body, who)
    events = turn.events()
    try:
        first = await anext(events)
    except SwitchboardError as exc:
        raise _failed(exc, turn, await turn.saved()) from None
    except StopAsyncIteration:
        saved = await turn.saved()
        raise _failed(ApiError(502, "the provider sent no answer", "provider_error"), turn,
                      saved) from None
    return _ChatStream(turn, _sse(turn, first, events, state_of(request).shutdown))


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
