"""``FakeVendor``: a scripted ASGI app that speaks one vendor's wire format.

A renderer (``VendorWire``) turns neutral script steps into that vendor's JSON, SSE and
error bodies; ``FakeVendor`` does the HTTP: routing, recording every request, streaming
with real chunked transfer, and cutting or stalling a stream on cue.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from tests.fakes.script import (
    Break,
    Fail,
    Hang,
    Hold,
    InBandError,
    Raw,
    Received,
    Reply,
    Slow,
    Stall,
    Step,
)


class VendorWire(Protocol):
    """How one vendor renders the neutral script. Implemented per vendor."""

    def route(self, method: str, path: str) -> str | None:
        """'chat' / 'models' / 'embeddings' / None (404) for a request path."""

    def is_stream(self, request: Received) -> bool: ...

    def model_of(self, request: Received) -> str: ...

    def json_body(self, reply: Reply, model: str) -> Any:
        """The non-streaming response body."""

    def sse_events(self, reply: Reply, model: str) -> list[bytes]:
        """The whole stream as encoded SSE events, text chunks one event each where the
        vendor does so. ``text_event_index(reply, i)`` tells where text chunk i is."""

    def text_event_index(self, reply: Reply, model: str, chunk: int) -> int:
        """Index in ``sse_events`` of the event carrying text chunk ``chunk``."""

    def in_band_error(self, error_type: str, message: str) -> bytes: ...

    def error_body(self, fail: Fail) -> Any: ...

    def models_body(self) -> Any: ...

    # Optional too: def embeddings_body(self, request: Received) -> Any
    #     """The answer to an embeddings request (``tests/fakes/embeddings.py``)."""
    # and def images_body(self, request: Received) -> Any (route 'images',
    #     ``tests/fakes/images.py``).

    # Optional (looked up with getattr, so existing wires need not define it):
    # def adapt_reply(self, reply: Reply, request: Received) -> Reply
    #     """The scripted reply as this request makes the vendor answer it (Gemini draws
    #     a picture when the request asks for images)."""
    # def reject(self, route: str, request: Received) -> tuple[int, Any] | None
    #     """(status, error body) to refuse a request the vendor would refuse, else None."""


class FakeVendor:
    def __init__(self, wire: VendorWire, *, require_key: str | None = None,
                 key_check: Callable[[Received], str | None] | None = None) -> None:
        self.wire = wire
        self.script: deque[Step] = deque()
        self.requests: list[Received] = []
        self.require_key = require_key
        self.key_check = key_check

    # -- scripting ---------------------------------------------------------------
    def then(self, *steps: Step) -> FakeVendor:
        self.script.extend(steps)
        return self

    @property
    def last(self) -> Received:
        return self.requests[-1]

    def chat_requests(self) -> list[Received]:
        return [r for r in self.requests if self.wire.route(r.method, r.path) == "chat"]

    # -- ASGI --------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        raw = await request.body()
        body: Any
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            body = await _form(request)
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
        received = Received(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        self.requests.append(received)
        response = await self._respond(received)
        await response(scope, receive, send)

    async def _respond(self, req: Received) -> Response:
        route = self.wire.route(req.method, req.path)
        if route is None:
            return JSONResponse(self.wire.error_body(Fail(404, "no such route")), 404)
        if self.key_check is not None:
            problem = self.key_check(req)
            if problem is not None:
                fail = Fail(401, problem, error_type="authentication_error",
                            code="invalid_api_key")
                return JSONResponse(self.wire.error_body(fail), 401)
        # Optional wire hook: a vendor that validates bodies strictly (Mistral's schema
        # forbids unknown fields) answers as it would, before any script step is used.
        reject = getattr(self.wire, "reject", None)
        if reject is not None:
            refusal = reject(route, req)
            if refusal is not None:
                status, payload = refusal
                return JSONResponse(payload, status)
        if route == "models":
            return JSONResponse(self.wire.models_body())
        if route in ("embeddings", "images", "image_edits"):  # a scripted Fail or Raw; else the
            # wire's answer (vectors, pictures)
            scripted = self.script[0] if self.script else None
            if isinstance(scripted, Fail):
                self.script.popleft()
                return JSONResponse(self.wire.error_body(scripted), scripted.status,
                                    headers=scripted.headers)
            if isinstance(scripted, Raw):
                self.script.popleft()
                return Response(scripted.body, scripted.status, headers=scripted.headers,
                                media_type=scripted.content_type)
            answer = getattr(self.wire, f"{route}_body", None)  # optional, as reject
            if answer is None:
                return JSONResponse(self.wire.error_body(Fail(404, "no such route")), 404)
            return JSONResponse(answer(req))
        step: Step = self.script.popleft() if self.script else Reply()
        if isinstance(step, Hang):
            await asyncio.sleep(step.seconds)
            step = step.then
        model = self.wire.model_of(req)
        if isinstance(step, Fail):
            return JSONResponse(self.wire.error_body(step), step.status, headers=step.headers)
        if isinstance(step, Raw):
            return Response(step.body, step.status, headers=step.headers,
                            media_type=step.content_type)
        reply = step if isinstance(step, Reply) else step.reply
        adapt = getattr(self.wire, "adapt_reply", None)
        if adapt is not None:
            reply = adapt(reply, req)
        if not self.wire.is_stream(req):
            return JSONResponse(self.wire.json_body(reply, model))
        events = self.wire.sse_events(reply, model)
        return StreamingResponse(self._stream(step, reply, model, events),
                                 media_type="text/event-stream")

    async def _stream(self, step: Step, reply: Reply, model: str,
                      events: list[bytes]) -> AsyncIterator[bytes]:
        cut: int | None = None
        if isinstance(step, Break | InBandError | Stall | Hold):
            cut = self.wire.text_event_index(reply, model, step.after)
        for i, event in enumerate(events):
            if cut is not None and i == cut:
                if isinstance(step, Break):
                    raise ConnectionAbortedError("fake vendor cut the stream")
                if isinstance(step, InBandError):
                    yield self.wire.in_band_error(step.error_type, step.message)
                    return
                if isinstance(step, Stall):
                    await asyncio.sleep(step.seconds)
                    return
                if isinstance(step, Hold):
                    await asyncio.to_thread(step.release.wait, step.timeout)
            yield event
            await asyncio.sleep(step.delay if isinstance(step, Slow) else 0)


async def _form(request: Request) -> dict[str, Any]:
    """A multipart body as the fake records it: text fields by name (a name given twice:
    the last), and ``_files``: each file's field name, file name, type and bytes."""
    form = await request.form(max_files=100)
    body: dict[str, Any] = {"_files": []}
    for name, value in form.multi_items():
        if isinstance(value, str):
            body[name] = value
        else:
            body["_files"].append({"name": name, "filename": value.filename,
                                   "content_type": value.content_type,
                                   "data": await value.read()})
    await form.close()
    return body


def sse(data: Any, event: str | None = None) -> bytes:
    """Encode one SSE event (``data`` as compact JSON unless already a string)."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()
