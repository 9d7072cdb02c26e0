"""Errors on the REST surface (``/api``): ``{"error": {"message", "code", "field"}}``.

Status by meaning: validation 422 (and pydantic's request errors, rephrased to name the
field), not found 404, conflict 409, unknown model 404, a provider failure 502 (429 kept),
bad credentials 401, not allowed 403. The ``/v1`` surface has its own OpenAI-shaped
handlers (``api.openai.errors``) and is not affected by these.

No FastAPI here: the routes served without it (``api.front_door``) turn what they raise
into these same responses. FastAPI's exception handlers, which answer with them too,
are installed by ``api.error_handlers``.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api.surface import error_response as surface_error
from switchboard.api.surface import page_response, surface_of
from switchboard.services.policy import Refused
from switchboard.services.router import BreakerOpen
from switchboard.spec import (
    ConfigurationError,
    InvalidRequestError,
    ProviderError,
    RateLimitError,
    SwitchboardError,
    UnknownModelError,
    UnknownProviderError,
)

STATUS_BY_CODE = {
    "not_found": 404,
    "conflict": 409,
    "validation_failed": 422,
    "unauthorized": 401,
    "forbidden": 403,
    "feature_disabled": 403,
    "csrf_failed": 403,
    "throttled": 429,
    "too_many_answers": 429,
    "too_many_followers": 429,
}


class ApiError(SwitchboardError):
    """An error raised by a route: carries its own status."""

    def __init__(self, status: int, message: str, code: str = "error",
                 field: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code_value = code
        self.field = field
        self.headers = headers or {}


INVALID_JSON = ("the request body is not valid JSON (it must be UTF-8, and not nested too "
                "deeply)")


def body(message: str, code: str, field: str | None = None,
         reason: str | None = None) -> dict[str, Any]:
    """``reason`` (request validation only) is pydantic's stable error type for the
    field, such as ``missing`` or ``string_too_short``: the web UI turns code, field and
    reason into a sentence for people (static/js/errors.js); ``message`` is for developers."""
    error: dict[str, Any] = {"message": message, "code": code, "field": field}
    if reason is not None:
        error["reason"] = reason
    return {"error": error}


def _json(data: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def status_of(exc: SwitchboardError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, UnknownModelError | UnknownProviderError):
        return 404
    if isinstance(exc, InvalidRequestError):
        return 422
    if isinstance(exc, ConfigurationError):
        return 409
    if isinstance(exc, RateLimitError | Refused):  # a vendor's limit, or one of ours
        return 429
    if isinstance(exc, BreakerOpen):  # paused provider, no upstream call: 503 + Retry-After
        return 503
    if isinstance(exc, ProviderError):
        return 502
    return STATUS_BY_CODE.get(exc.code, 400)


def error_response(exc: SwitchboardError) -> Response:
    code = exc.code_value if isinstance(exc, ApiError) else exc.code
    field = getattr(exc, "field", None) or getattr(exc, "param", None)
    headers = dict(exc.headers or {}) if isinstance(exc, ApiError) else {}
    status = status_of(exc)
    if status in (429, 503) and "retry-after" not in {k.lower() for k in headers}:
        # Any error that knows when to come back says so (a busy password pool, a
        # provider's rate limit), whichever route raised it.
        wait = getattr(exc, "retry_after", None)
        if isinstance(wait, int | float) and wait > 0:
            headers["retry-after"] = str(max(1, math.ceil(wait)))
    return _json(body(exc.message, code, field), status, headers or None)


V1_ROUTES = ("POST /v1/chat/completions, POST /v1/responses, GET and DELETE "
             "/v1/responses/{id}, POST /v1/messages, POST /v1/messages/count_tokens, "
             "POST /v1/embeddings, GET /v1/models and GET /v1/models/{model}")


def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """Starlette's routing errors (unknown path 404, wrong method 405) and any other
    ``HTTPException``, in the surface's shape, naming the method and path."""
    surface = surface_of(request.url.path)
    headers = dict(exc.headers or {})
    method, path = request.method, request.url.path[:200]
    status = exc.status_code
    if status == 404 and exc.detail == "Not Found":
        if surface in ("openai", "anthropic"):  # OpenAI's own wording: "Invalid URL (POST /v1/x)"
            message = f"Invalid URL ({method} {path}); this gateway serves {V1_ROUTES}."
        else:
            message = f"there is no {method} {path}"
        code = "unknown_url"
    elif status == 405:
        allowed = headers.get("Allow") or headers.get("allow") or ""
        message = (f"{method} is not allowed for {path}"
                   + (f"; use {allowed}" if allowed else ""))
        code = "method_not_allowed"
    elif status == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body it cannot decode (not UTF-8, nested too deeply).
        code, message = "invalid_json", INVALID_JSON
    else:
        message, code = str(exc.detail), "http_error"
    if surface == "page":
        title = "Page not found" if status == 404 else "This request cannot be used"
        text = "There is no page at this address." if status == 404 else message
        return page_response(status, title, text, headers=headers)
    return surface_error(surface, status, message, code=code, headers=headers)


def handled_response(request: Request, exc: Exception) -> Response | None:
    """The response for an exception a handler of ``api.error_handlers`` answers
    (Starlette's ``HTTPException``, a ``SwitchboardError``), or ``None`` for any other:
    the one mapping both the FastAPI app and ``api.front_door`` use."""
    if isinstance(exc, StarletteHTTPException):
        return http_error(request, exc)
    if isinstance(exc, SwitchboardError):
        return error_response(exc)
    return None
