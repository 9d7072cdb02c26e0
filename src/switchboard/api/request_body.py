"""A request's whole body, read as Starlette's ``Request.body()`` reads it, in one loop.

``Request.body()`` reads through ``Request.stream()``, an async generator wrapped in
``contextlib.aclosing``: per request a generator made, registered with the event loop's
async-generator hooks (a ``WeakSet`` add and, when it is collected, a remove), resumed
three times, and closed — ~10 Python calls for a body that arrives in one message
(issue 12, fifth pass). ``body`` does the same reads with the same results and leaves
the request as ``Request.body()`` leaves it (``_body`` kept for a later ``body()``,
``_stream_consumed`` set, a disconnect flagged and raised as ``ClientDisconnect``);
``tests/api/test_request_body.py`` holds it to Starlette's on every way a body arrives.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request


async def body(request: Request) -> bytes:
    """``await request.body()``, without the generator (see the module doc)."""
    kept: bytes | None = getattr(request, "_body", None)  # read before (no exception)
    if kept is not None:
        return kept
    if request._stream_consumed:
        raise RuntimeError("Stream consumed")
    receive = request._receive
    chunks: list[bytes] = []
    while not request._stream_consumed:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            if not message.get("more_body", False):
                request._stream_consumed = True
            if chunk:
                chunks.append(chunk)
        elif kind == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()
    request._body = data = b"".join(chunks)
    return data
