"""The last resort: an exception no route handled still leaves in its surface's shape.

A pure ASGI middleware just inside ``AccessLog`` (so the request id exists and the access
line shows the final status). Three outcomes, by what went wrong (``db.errors``):

- a value the database cannot take (NUL in text, an integer beyond 64 bits) — the
  caller's input: 400 on ``/v1``, 422 on ``/api``;
- the database busy or unreachable (SQLite's write lock held past the busy timeout by
  another process, the pool exhausted, PostgreSQL restarting) — 503 with ``Retry-After``;
- anything else — 500 naming the request id, with the traceback in the log under that id.
  Never the exception's text: it can hold SQL, paths or a secret.

Once a response has started (a stream) its status cannot change: the exception is logged
and re-raised, and the stream's own in-band error handling applies.
"""

from __future__ import annotations

import logging

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api.surface import REQUEST_ID_KEY, error_response, surface_of
from switchboard.db.errors import BUSY_RETRY_AFTER_S, invalid_value, is_busy

log = logging.getLogger("switchboard.server")


class ErrorBoundary:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            await answer(scope, receive, send, exc, started)

    @staticmethod
    def respond(scope: Scope, exc: Exception, request_id: str | None) -> Response:
        surface = surface_of(scope.get("path", ""))
        invalid = invalid_value(exc)
        if invalid is not None:
            status = 400 if surface in ("openai", "anthropic") else 422
            return error_response(surface, status, str(invalid), code="invalid_value",
                                  request_id=request_id, title="This request cannot be used")
        if is_busy(exc):
            log.warning("database busy: %s", type(exc).__name__,
                        extra={"request_id": request_id, "path": scope.get("path")})
            return error_response(
                surface, 503, "The database is busy; try again in a few seconds.",
                code="database_busy", openai_type="server_error", request_id=request_id,
                title="Switchboard is busy",
                headers={"retry-after": str(BUSY_RETRY_AFTER_S)})
        log.error("unhandled error", exc_info=exc,
                  extra={"request_id": request_id, "path": scope.get("path")})
        reference = f" (request id {request_id})" if request_id else ""
        return error_response(
            surface, 500,
            f"The server had an error while processing your request{reference}. The "
            "details are in the server log under that id.",
            code="internal_error", openai_type="server_error", request_id=request_id,
            title="Something went wrong")


async def answer(scope: Scope, receive: Receive, send: Send, exc: Exception,
                 started: bool) -> None:
    """The boundary's answer to ``exc``, raised by the app inside it: its surface's error
    response, or — the response ``started`` already — ``exc`` logged and raised again.
    Call it from the ``except`` block that caught ``exc``. ``ErrorBoundary`` and the
    access log acting as the boundary (``AccessLog(errors=True)``, the server's stack)
    both answer with it."""
    request_id = scope.get(REQUEST_ID_KEY)
    if started:
        log.exception("error after the response started",
                      extra={"request_id": request_id, "path": scope.get("path")})
        raise exc
    response = ErrorBoundary.respond(scope, exc, request_id)
    await response(scope, receive, send)
