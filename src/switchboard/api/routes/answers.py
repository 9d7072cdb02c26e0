"""``GET /api/messages/{id}/stream`` (reattach to an answer), ``POST
/api/messages/{id}/stop`` (the stop button, from any tab) and ``POST
/api/messages/{id}/tool-calls/{call_id}/approve|deny`` (a tool of policy ``ask``; from
any tab and any worker, like the stop).

An answer is written by a job (``services.answer_jobs``); these routes find it:

- in this process: follow its log after the ``Last-Event-ID`` sent (0: from the start);
- on another worker (Redis): follow the copy of its log (``services.answer_relay``);
- nowhere, because it has ended: its last event (``done`` or ``error``) at once, built
  from the saved message — after the job the database is the truth.

Another user's answer is a 404, whichever of these holds. The stream ends with the
answer's last event: a reattaching tab does not wait for a new conversation's title.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import StreamingResponse

from switchboard.api.auth import current_principal, require_csrf, state_of
from switchboard.api.errors import ApiError
from switchboard.api.params import PathId
from switchboard.api.routes.chat import end_data, follow, frame, sse_response
from switchboard.api.shutdown import StreamShutdown
from switchboard.api.tokens import Principal
from switchboard.services.answer_jobs import MAX_CALL_ID, JobEvent
from switchboard.services.chat import being_written
from switchboard.services.conversations import MessageView, owned_answer
from switchboard.services.errors import Conflict, NotFound

router = APIRouter(tags=["chat"])

MAX_EVENT_ID = 1 << 62


def last_event_id(request: Request) -> int:
    """The id of the last event the client has (``Last-Event-ID``); 0 when absent or not
    one of ours (a client then gets the whole answer, which is never wrong)."""
    raw = request.headers.get("last-event-id", "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 19:
        return min(int(raw), MAX_EVENT_ID)
    return 0


def in_progress(message: MessageView) -> bool:
    return being_written(message.status, message.error)


async def _relayed(events: AsyncIterator[JobEvent],
                   shutdown: StreamShutdown) -> AsyncIterator[bytes]:
    """An answer written by another worker. When this worker is asked to stop, the
    stream just closes: the answer goes on, and the client reattaches elsewhere."""
    with shutdown.streaming():
        try:
            async for event in events:
                yield frame(event)
        except asyncio.CancelledError:
            if not shutdown.absorb():
                raise


async def _once(event: JobEvent) -> AsyncIterator[bytes]:
    yield frame(event)


def _saved_end(message: MessageView, conversation: Any) -> JobEvent:
    """The last event of an answer that has ended, from the saved message. Its id is
    past any real one, so a client that sends it back gets nothing more."""
    if in_progress(message):  # written by a process that cannot be followed from here
        name, data = "error", {
            "message": "the answer is still being written by another server; reload the "
                       "page in a moment", "code": "in_progress_elsewhere",
            "retryable": True, "message_id": message.id, "status": message.status}
    else:
        name, data = end_data(message.status, message, conversation, reason=message.error,
                              code=None, retryable=message.status != "complete")
    return JobEvent(MAX_EVENT_ID, name, orjson.dumps(data))


@router.get("/api/messages/{message_id}/stream")
async def reattach(request: Request, message_id: PathId,
                   who: Principal = Depends(current_principal)) -> StreamingResponse:
    state = state_of(request)
    if not state.feature_on("resumable_streams", who):  # an admin's switch (flags)
        raise ApiError(403, "following an answer again is turned off on this server",
                       "feature_disabled")
    message, conversation = await owned_answer(state.db, who.user_id, message_id)
    after = last_event_id(request)
    job = state.jobs.get(message_id)
    if job is not None:
        return sse_response(follow(job, after, until_end=True), state.settings.sse_keep_alive)
    relay = state.relay
    if relay is not None and in_progress(message) and await relay.exists(message_id):
        async def alive() -> bool:
            try:
                return in_progress((await owned_answer(state.db, who.user_id, message_id))[0])
            except NotFound:  # the conversation was deleted meanwhile
                return False

        return sse_response(_relayed(relay.follow(message_id, after, alive=alive),
                                     state.shutdown), state.settings.sse_keep_alive)
    return sse_response(_once(_saved_end(message, conversation)), None)


@router.post("/api/messages/{message_id}/stop", dependencies=[Depends(require_csrf)])
async def stop(request: Request, message_id: PathId,
               who: Principal = Depends(current_principal)) -> dict[str, Any]:
    """Stop the answer wherever it is being written. ``stopping`` is False when it had
    already ended (nothing to stop); the followers get its last event either way."""
    state = state_of(request)
    message, _ = await owned_answer(state.db, who.user_id, message_id)
    if state.jobs.stop(message_id):
        return {"message_id": message_id, "stopping": True}
    if state.relay is not None and in_progress(message):  # written by another worker
        await state.relay.stop(message_id)
        return {"message_id": message_id, "stopping": True}
    return {"message_id": message_id, "stopping": False}


CallId = Annotated[str, Path(min_length=1, max_length=MAX_CALL_ID)]


async def _decide(request: Request, message_id: int, call_id: str, approved: bool,
                  who: Principal) -> dict[str, Any]:
    """This worker's job takes the decision at once; with Redis, a job on another worker
    gets it through the relay when its log says the call waits (decision 0190)."""
    state = state_of(request)
    message, _ = await owned_answer(state.db, who.user_id, message_id)  # another's: 404
    if not state.jobs.decide(message_id, call_id, approved):
        relay = state.relay
        if relay is None or state.jobs.get(message_id) is not None \
                or not in_progress(message) or not await relay.waiting(message_id, call_id):
            raise Conflict(f"no tool call {call_id!r} is waiting for approval in answer "
                           f"{message_id} (it was decided already or the answer has ended)")
        await relay.decide(message_id, call_id, approved)
    return {"message_id": message_id, "call_id": call_id, "approved": approved}


@router.post("/api/messages/{message_id}/tool-calls/{call_id}/approve",
             dependencies=[Depends(require_csrf)])
async def approve(request: Request, message_id: PathId, call_id: CallId,
                  who: Principal = Depends(current_principal)) -> dict[str, Any]:
    """Run a waiting call of an ``ask`` tool (the owner of the answer only)."""
    return await _decide(request, message_id, call_id, True, who)


@router.post("/api/messages/{message_id}/tool-calls/{call_id}/deny",
             dependencies=[Depends(require_csrf)])
async def deny(request: Request, message_id: PathId, call_id: CallId,
               who: Principal = Depends(current_principal)) -> dict[str, Any]:
    """Decline a waiting call: the model reads "the user declined this tool call"."""
    return await _decide(request, message_id, call_id, False, who)
