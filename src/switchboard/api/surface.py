"""Which surface a request belongs to, and each surface's error body.

Four surfaces, four error shapes (docs/architecture.md, "Errors"):

- ``openai`` — ``/v1/*``: OpenAI's ``{"error": {"message", "type", "param", "code"}}``,
  which the official SDKs parse.
- ``anthropic`` — ``/v1/messages`` and below (Anthropic's wire, for its SDK and the
  tools built on it): ``{"type": "error", "error": {"type", "message"}}``.
- ``rest`` — ``/api/*`` and the machine endpoints (``/openapi.json``, ``/healthz``,
  ``/readyz``, ``/metrics``): ``{"error": {"message", "code", "field"}}``.
- ``page`` — everything else (the web UI's pages, static files): an HTML page a person
  can read.

Every error path (the FastAPI handlers in ``api.errors``, the last-resort boundary in
``api.error_boundary``) asks this module, so an error never leaves in another surface's
shape.
"""

from __future__ import annotations

import html
from typing import Literal

import orjson
from starlette.responses import Response

from switchboard.api.anthropic.errors import anthropic_error
from switchboard.api.openai.errors import openai_error

Surface = Literal["openai", "anthropic", "rest", "page"]
REQUEST_ID_KEY = "switchboard.request_id"
"""Where ``AccessLog`` leaves the request id in the ASGI scope for error bodies."""

_REST_EXACT = frozenset({"/openapi.json", "/healthz", "/readyz", "/metrics"})


def surface_of(path: str) -> Surface:
    if path == "/v1/messages" or path.startswith("/v1/messages/"):
        return "anthropic"
    if path == "/v1" or path.startswith("/v1/"):
        return "openai"
    if path == "/api" or path.startswith("/api/") or path in _REST_EXACT:
        return "rest"
    return "page"


def rest_body(message: str, code: str, field: str | None = None,
              request_id: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"message": message, "code": code, "field": field}
    if request_id is not None:
        error["request_id"] = request_id
    return {"error": error}


def json_response(data: object, status: int,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers,
                    media_type="application/json")


def error_response(surface: Surface, status: int, message: str, *, code: str,
                   openai_type: str = "invalid_request_error", param: str | None = None,
                   request_id: str | None = None, title: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """One error in ``surface``'s shape. ``message`` must be safe to show (no secret, no
    exception text); ``title`` is the heading of the HTML page."""
    if surface == "openai":
        return json_response(openai_error(message, kind=openai_type, param=param, code=code),
                             status, headers)
    if surface == "anthropic":
        return json_response(anthropic_error(message, status), status, headers)
    if surface == "rest":
        return json_response(rest_body(message, code, param, request_id), status, headers)
    return page_response(status, title or "Something went wrong", message, request_id,
                         headers)


def page_response(status: int, title: str, text: str, request_id: str | None = None,
                  headers: dict[str, str] | None = None) -> Response:
    """A small self-contained HTML page (the site's stylesheet, no script): it must render
    even when whatever failed was the template machinery."""
    reference = (f'<p class="muted">Reference: <code>{html.escape(request_id)}</code></p>'
                 if request_id else "")
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Switchboard</title>"
        '<link rel="stylesheet" href="/static/css/base.css"></head>'
        '<body class="auth-page"><main id="main" class="auth-card"><div class="auth-brand">'
        f'<h1>{html.escape(title)}</h1><p class="muted">{html.escape(text)}</p>{reference}'
        '</div><a class="btn btn-primary btn-block" href="/">Back to chat</a></main>'
        "</body></html>")
    return Response(body, status, headers={**(headers or {}), "cache-control": "no-store"},
                    media_type="text/html")
