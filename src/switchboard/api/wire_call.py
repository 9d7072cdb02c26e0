"""What every model-calling wire shares: reading its JSON body within bounds, the
caller's token, and streaming the pipeline's events out as SSE.

``/v1/messages`` (Anthropic's wire) and ``/v1/responses`` (OpenAI's Responses API) use
these; each brings its own parse/validate function, its own encoder and its own error
shape, so everything here raises or yields neutral things. The body is parsed and
validated in a worker thread when it is large or holds large JSON Schemas, as on
``/v1/chat/completions`` (decision 0013, ``api/openai/bounds.py``: same thresholds).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

import anyio
import orjson
from starlette.requests import Request

from switchboard.api.openai.bounds import (
    PARSE_IN_THREAD_BYTES,
    VALIDATE_IN_THREAD_SCHEMA_NODES,
    prescan,
)
from switchboard.api.shutdown import StreamShutdown
from switchboard.api.state import AppState
from switchboard.api.tokens import Principal
from switchboard.spec import CallWarning, InvalidRequestError, StreamEvent

T = TypeVar("T")
INVALID_JSON = ("We could not parse the JSON body of your request. Send a JSON object "
                "with Content-Type: application/json.")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def load_object(raw: bytes) -> dict[str, Any]:
    """The JSON object of a body, or ``InvalidRequestError``."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequestError(INVALID_JSON) from None
    if not isinstance(data, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    return data


async def read_body(request: Request, precheck: Callable[[dict[str, Any]], int],
                    validate: Callable[[dict[str, Any]], T]) -> T:
    """``validate(data)`` of the request's JSON body once ``precheck`` (the raw limits,
    returning the JSON Schema values counted) passed; in a worker thread when large.
    Raises ``InvalidRequestError`` (the caller renders it in its own shape)."""
    raw = await request.body()
    if len(raw) > PARSE_IN_THREAD_BYTES:
        def whole() -> T:
            prescan(raw)
            data = load_object(raw)
            precheck(data)
            return validate(data)
        return await anyio.to_thread.run_sync(whole)
    data = load_object(raw)
    if precheck(data) > VALIDATE_IN_THREAD_SCHEMA_NODES:
        return await anyio.to_thread.run_sync(validate, data)
    return validate(data)


def api_token(request: Request, *, x_api_key: bool = False) -> str | None:
    """The token sent as ``Authorization: Bearer`` (or, for Anthropic's clients, as
    ``x-api-key``), or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if x_api_key:
        key = request.headers.get("x-api-key", "").strip()
        return key or None
    return None


async def principal_of(request: Request, token: str) -> Principal | None:
    state: AppState = request.app.state.sb
    return await state.tokens.authenticate(token)


def warning_headers(base: dict[str, str], warnings: list[CallWarning]) -> dict[str, str]:
    """``base`` plus ``x-switchboard-warnings``: what the gateway and the adapter could
    not honour, each said once, as one line of ASCII (a warning may quote input)."""
    headers = dict(base)
    if warnings:
        said = "; ".join(dict.fromkeys(w.message for w in warnings))[:2000]
        said = _CONTROL.sub(" ", said.encode("ascii", "backslashreplace").decode("ascii"))
        headers["x-switchboard-warnings"] = said
    return headers


class Encoder(Protocol):
    finished: bool

    def encode(self, event: StreamEvent) -> bytes: ...


class Closable(Protocol):
    async def aclose(self) -> None: ...


async def sse(first: StreamEvent, events: AsyncIterator[StreamEvent], call: Closable,
              encoder: Encoder, shutdown: StreamShutdown,
              last_words: Callable[[], bytes],
              before_last: Callable[[], Awaitable[None]] | None = None,
              ) -> AsyncIterator[bytes]:
    """The SSE body of one call. At shutdown the stream ends with ``last_words()`` (the
    wire's own error event) after the answer was accounted; the call is closed however
    the response ends (``aclose`` is what settles it). ``before_last`` runs once the
    encoder has the stream's last event ready, before it is sent (``/v1/responses``
    stores the answer there, so an id the client has seen can always be continued)."""
    stopping = False
    with shutdown.streaming():
        try:
            data = encoder.encode(first)
            if data:
                yield data
            async for event in events:
                data = encoder.encode(event)
                if encoder.finished and before_last is not None:
                    hook, before_last = before_last, None
                    await hook()
                if data:
                    yield data
        except asyncio.CancelledError:
            if not shutdown.absorb():
                raise
            stopping = True
        finally:
            await call.aclose()
    if stopping:
        yield last_words()
