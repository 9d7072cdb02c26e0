"""FastAPI's exception handlers: the REST surface's errors (``api.errors``) for what a
route raises, and pydantic's request errors rephrased to name the field.

Separate from ``api.errors`` because it needs FastAPI (``RequestValidationError``),
which a server answering only ``/v1`` never imports (``api.front_door``, decision 0201).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api.errors import INVALID_JSON, body, error_response, http_error
from switchboard.api.surface import json_response, page_response, surface_of
from switchboard.spec import SwitchboardError


def install(app: FastAPI) -> None:
    async def on_switchboard(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SwitchboardError)
        return error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if surface_of(request.url.path) == "page":  # e.g. /c/abc: not a page that exists
            return page_response(404, "Page not found", "There is no page at this address.")
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            # A syntax error: FastAPI's ``loc`` ends with its byte offset, which is no
            # field of the body (it read ``field: "1"``). One 400, as for a body that is
            # not UTF-8.
            return json_response(body(INVALID_JSON, "invalid_json"), 400)
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or None
        msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        more = len(exc.errors()) - 1
        text = f"{field}: {msg}" if field else msg
        if more:
            text += f" (and {more} more problem{'s' if more > 1 else ''})"
        return json_response(body(text, "validation_failed", field,
                                  str(first.get("type") or "") or None), 422)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return http_error(request, exc)

    app.add_exception_handler(SwitchboardError, on_switchboard)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
