"""``EventStream``: an SSE response that says "still here" while the model is silent.

A reasoning model can think for minutes before its first token, and a tool-heavy answer
can pause as long between two. Proxies and load balancers in front of the gateway
(nginx: 60 s by default) and some HTTP clients close a connection that carried nothing
for a while, which cuts the answer off although nothing failed. So after
``keep_alive`` seconds without a byte, an SSE comment line goes out
(``: keep-alive``): every SSE parser ignores comments (the WHATWG rule: a line starting
with a colon), the OpenAI and Anthropic SDKs included, so no client sees an event.
https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

Cost on the hot path: per chunk one uncontended lock and one clock read; the comment
is written by a side task that wakes once per ``keep_alive`` seconds, not per chunk.
The lock keeps the two writers from interleaving (one ASGI ``send`` at a time).
The events that are ready together (one upstream read's) go out in one ``send``
(``coalesced``, decision 0090): none waits for a later one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, Mapping

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from switchboard.api.coalesce import coalesced
from switchboard.api.encoded import raw_headers

KEEP_ALIVE = b": keep-alive\n\n"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
_CONTENT_TYPE = b"text/event-stream; charset=utf-8"  # as Starlette completes the media type


class EventStream(StreamingResponse):
    """``text/event-stream`` with keep-alive comments after ``keep_alive`` quiet seconds
    (None or 0: none)."""

    def __init__(self, content: AsyncIterable[bytes], *, keep_alive: float | None,
                 headers: Mapping[str, str] | None = None) -> None:
        self._batches = coalesced(content)
        super().__init__(self._batches, media_type="text/event-stream",
                         headers={**SSE_HEADERS, **(headers or {})})
        self.keep_alive = keep_alive

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Starlette's headers, byte for byte, with the names encoded once
        (``encoded.raw_headers``): no body, so no ``content-length``."""
        self.raw_headers = raw_headers(headers, None, self.status_code, _CONTENT_TYPE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Starlette's ``StreamingResponse`` with the same contract, cheaper: it runs
        the body in the request's own task and watches for the client's disconnect in
        one plain asyncio task, where Starlette (for servers of ASGI spec < 2.4, such as
        uvicorn) opens an anyio task group and runs the body in a second task, which cost
        several per cent of a stream's CPU (decision 0178). As there: a disconnect
        cancels the body (its ``finally`` blocks run, the vendor read stops) and the
        response ends quietly; an error of the body propagates; the background runs
        after a body that ended or was cut by a disconnect."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        gone = False

        async def watch() -> None:
            nonlocal gone
            with contextlib.suppress(Exception):  # a broken receive: nothing to watch
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone = True
                task.cancel()

        watcher = asyncio.create_task(watch())
        try:
            await self.stream_response(send)
        except asyncio.CancelledError:
            # Ours (the client left) is absorbed, as Starlette's cancel scope does; any
            # other cancellation (the server stopping) goes on.
            if not gone or task.uncancel() > 0:
                raise
        else:
            if gone:  # the body absorbed our cancellation itself: forget the request
                task.uncancel()
        finally:
            watcher.cancel()
        if self.background is not None:
            await self.background()

    async def stream_response(self, send: Send) -> None:
        try:
            await self._stream(send)
        finally:
            # A write failed or was cancelled (the client went away): close the batching
            # in this task, so a vendor read it had begun is cancelled here, in the task
            # that started it, rather than by a finaliser in another (decision 0090).
            await self._batches.aclose()

    async def _stream(self, send: Send) -> None:
        quiet = self.keep_alive
        if not quiet:
            await super().stream_response(send)
            return
        loop = asyncio.get_running_loop()
        sending = asyncio.Lock()
        last = loop.time()
        failed: list[BaseException] = []
        streaming = asyncio.current_task()

        async def ping() -> None:
            nonlocal last
            try:
                while True:
                    await asyncio.sleep(last + quiet - loop.time())
                    if loop.time() - last >= quiet:
                        async with sending:
                            await send({"type": "http.response.body", "body": KEEP_ALIVE,
                                        "more_body": True})
                        last = loop.time()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the client is gone: stop waiting for the model
                failed.append(exc)
                if streaming is not None:
                    streaming.cancel()

        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        pinger = asyncio.create_task(ping())
        try:
            async for chunk in self.body_iterator:
                body = chunk if isinstance(chunk, bytes | memoryview) else chunk.encode(
                    self.charset)
                async with sending:
                    await send({"type": "http.response.body", "body": body,
                                "more_body": True})
                last = loop.time()
        except asyncio.CancelledError:
            if failed:  # cancelled by the pinger: report the disconnect it met
                raise OSError("the client went away") from failed[0]
            raise
        finally:
            pinger.cancel()
            with contextlib.suppress(BaseException):
                await pinger
        await send({"type": "http.response.body", "body": b"", "more_body": False})
