"""A cap on request body size, before anything buffers or parses the body.

Without it a client could send a body of any size: FastAPI reads and parses a route's
whole JSON body *before* its dependencies run (so before authentication), and a
``/v1`` body is read whole before it is parsed. One request could exhaust memory, and
even a few tens of megabytes of ``[{},{},...]`` become gigabytes of Python objects.

Two limits:

- ``max_body_bytes`` (``SWITCHBOARD_MAX_BODY_MB``, 1 MB) for every request;
- ``max_chat_body_bytes`` (``SWITCHBOARD_MAX_CHAT_BODY_MB``, 64 MB) for the chat calls
  that carry images inline as base64 (``/api/chat``, ``/api/chat/stream``,
  ``/v1/chat/completions``, ``/v1/responses``, ``/v1/messages``). OpenAI accepts up to
  50 MB of image bytes per request
  (https://platform.openai.com/docs/guides/images-vision), about 67 MB as base64; the
  default covers ordinary use with a few large images. The higher limit applies only
  when the request carries a valid credential: an anonymous client would be refused
  anyway, and must not make the server parse 64 MB first.

A ``Content-Length`` over the limit is refused at once, unread. A chunked body is
counted as it arrives; when it passes the limit, reading stops and whatever the app
then answers (an error about the broken body) is replaced by the 413.

A body over ``max_body_bytes`` for ``/api/chat`` is also counted before FastAPI parses
it (``spec.limits.raw_json_problem``, in a worker thread): ``json.loads`` of tens of
megabytes of ``[1,1,1,...]`` would hold the GIL for seconds and build gigabytes of
objects before the input model could refuse the unknown field. Such a body is a 400.
(``/v1`` does the same in its own handler, which parses the body itself.) The chat
routes read their body themselves too (``api.routes.chat.chat_input``): a large one is
parsed and validated in a worker thread, not by FastAPI on the event loop.
Errors come in the surface's own shape: OpenAI's on ``/v1``, ``{"error": ...}`` elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api.anthropic.errors import anthropic_error
from switchboard.api.surface import surface_of
from switchboard.spec.limits import raw_json_problem

CHAT_PATHS = frozenset({"/api/chat", "/api/chat/stream", "/v1/chat/completions",
                        "/v1/embeddings", "/v1/responses", "/v1/messages",
                        "/v1/images/edits"})
"""Paths with the larger limit. ``/v1/embeddings`` is among them because RAG clients
send batches of up to 2,048 chunks (LangChain's default is 1,000 per request), several
megabytes; ``spec.limits.MAX_EMBEDDING_CHARS`` bounds what such a body may hold.
``/v1/images/edits`` carries the pictures to edit as files (each at most
``spec.limits.MAX_EDIT_IMAGE_BYTES``)."""
EMBEDDINGS_PATH = "/v1/embeddings"
PRESCANNED_PATHS = frozenset({"/api/chat", "/api/chat/stream"})
MB = 1024 * 1024

Authorised = Callable[[Scope], Awaitable[bool]]


class BodyTooLarge(Exception):
    """Raised from ``receive`` once the body passes the limit (the app never sees more)."""


def _megabytes(limit: int) -> str:
    value = limit / MB
    return f"{value:g} MB" if value >= 1 else f"{limit // 1024} KB"


def too_large_response(path: str, limit: int) -> tuple[int, bytes]:
    """(status, JSON body) of the 413 for ``path``."""
    chat = path in CHAT_PATHS
    setting = "SWITCHBOARD_MAX_CHAT_BODY_MB" if chat else "SWITCHBOARD_MAX_BODY_MB"
    hint = ("send fewer or shorter inputs per request" if path == EMBEDDINGS_PATH
            else "attach fewer or smaller images (inline images count about 4/3 of their "
            "size)" if chat else "send less data")
    message = (f"the request body is larger than {_megabytes(limit)}, the limit for "
               f"{path}: {hint}, or ask the operator to raise {setting}")
    if surface_of(path) == "anthropic":
        body = anthropic_error(message, 413)
    elif path.startswith("/v1/"):
        body = {"error": {"message": message, "type": "invalid_request_error",
                          "param": None, "code": "request_too_large"}}
    else:
        body = {"error": {"message": message, "code": "payload_too_large", "field": None}}
    return 413, orjson.dumps(body)


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_chat_body_bytes: int,
                 authorised: Authorised | None = None) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_chat = max(max_chat_body_bytes, max_body_bytes)
        self.authorised = authorised

    async def _limit(self, scope: Scope) -> int:
        if scope["path"] not in CHAT_PATHS or self.max_chat == self.max_body:
            return self.max_body
        if self.authorised is None or await self.authorised(scope):
            return self.max_chat
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                break
        if declared is not None and declared <= self.max_body:
            await self.app(scope, receive, send)  # the common case: no wrapping at all
            return
        limit = await self._limit(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, limit)
            return
        if scope["path"] in PRESCANNED_PATHS and scope.get("method") == "POST":
            await self._prescanned(scope, receive, send, limit)
            return
        await self._counted(scope, receive, send, limit)

    async def _prescanned(self, scope: Scope, receive: Receive, send: Send,
                          limit: int) -> None:
        """Read the whole (large) body, count what it would parse into, then hand it to
        the app as one message; later ``receive`` calls (disconnects) pass through."""
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending the body
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await self._refuse(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        chunks.clear()
        problem = await anyio.to_thread.run_sync(raw_json_problem, body)
        if problem is not None:
            await self._respond(send, 400, orjson.dumps({"error": {
                "message": problem, "code": "request_too_complex", "field": None}}))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        overflow = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, overflow
            if overflow:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflow = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if overflow:
                return  # the app's answer to a body it could not read: replaced below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not overflow:  # anything but the app choking on the cut body
                raise
        if overflow and not started:
            await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        status, body = too_large_response(scope["path"], limit)
        await self._respond(send, status, body)

    @staticmethod
    async def _respond(send: Send, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})
