"""One structured log line per request, and a request id on every response.

A pure ASGI middleware (Starlette's ``BaseHTTPMiddleware`` adds a task and a memory
stream per request, which the benchmark would pay for). It logs method, path (WITHOUT the
query string: the setup link carries its token there), status, duration and the request
id and the client's address — never headers or bodies, where credentials live.

It also counts the ``/v1`` requests refused before the pipeline (decision 0153,
``services.metrics``): it sees every final status, the body limit's 413s and the error
boundary's 5xx included.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api import error_boundary
from switchboard.api.random_ids import request_id as new_request_id
from switchboard.api.state import AppState
from switchboard.api.surface import REQUEST_ID_KEY, surface_of
from switchboard.services import metrics
from switchboard.services.audit import RequestContext, request_context
from switchboard.services.tracing import MAX_TRACEPARENT
from switchboard.services.tracing import incoming as incoming_trace

log = logging.getLogger("switchboard.access")


class AccessLog:
    def __init__(self, app: ASGIApp, *, errors: bool = False) -> None:
        self.app = app
        self.errors = errors
        """Be the error boundary too, just inside the log line (``api.error_boundary``:
        the same answers, from ``error_boundary.answer``): the server's stack, one
        middleware layer and one ``send`` wrapper fewer per request (issue 12, fifth
        pass). Both flags the boundary needs are this layer's own: the request id, and
        whether the response started (``send_with_id`` sees the start message)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = None
        seen_id = False
        traceparent: str | None = None
        parents = 0
        for name, value in scope["headers"]:
            if name == b"x-request-id" and not seen_id:  # the first one only
                seen_id = True
                candidate = value.decode("latin-1")[:64]
                # ASCII letters, digits, - and _ only (str.isalnum alone also passes
                # letters such as "é", which would reach log lines and the echoed header)
                if candidate.isascii() and candidate.replace("-", "").replace(
                        "_", "").isalnum():
                    request_id = candidate
            elif name == b"traceparent":
                parents += 1
                if len(value) <= MAX_TRACEPARENT:
                    traceparent = value.decode("latin-1")
        # the caller's trace, for the gateway span (services.tracing); two are invalid
        incoming_trace.set(traceparent if parents == 1 else None)
        request_id = request_id or new_request_id()  # token_hex(8)'s, pooled
        scope[REQUEST_ID_KEY] = request_id  # for error bodies (api.error_boundary)
        client = scope.get("client")
        # Who did it, from where, for the audit rows this request may write
        # (services.audit): the peer, or the forwarded client behind a trusted proxy.
        request_context.set(RequestContext(client[0] if client else None, request_id))
        status = 500
        gateway = surface_of(scope["path"]) in ("openai", "anthropic")
        counted = metrics.watch() if gateway else None
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if not self.errors:
                raise
            await error_boundary.answer(scope, receive, send_with_id, exc, started_response)
        finally:
            if (counted is not None and not counted[0] and started_response
                    and status >= 400):
                state: AppState | None = getattr(scope["app"].state, "sb", None)
                if state is not None:  # this app's metrics (tests run several apps)
                    state.metrics.refused_early("api", status)
            if log.isEnabledFor(logging.INFO):
                log.info("request", extra={
                    "request_id": request_id, "method": scope["method"],
                    "path": scope["path"], "status": status,
                    # the peer, or the forwarded client behind a trusted proxy (serve
                    # --forwarded-allow-ips); never a header a client could forge
                    "client": client[0] if client else None,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                })
