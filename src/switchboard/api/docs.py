"""The OpenAPI document and Swagger UI, for admins only (``/docs``, ``/openapi.json``).

The Swagger UI assets come from the ``swagger-ui-bundle`` package (served from
``/docs-assets``) rather than a CDN, so the page works on an offline install too.

The page gets a Content-Security-Policy like every other page. FastAPI's Swagger page
starts the UI with one inline script; the policy allows exactly that script by its
SHA-256 hash (computed from the rendered page) rather than allowing inline scripts.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import JSONResponse, RedirectResponse, Response

from switchboard.api.auth import optional_principal
from switchboard.api.tokens import Principal

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def content_security_policy(html: str) -> str:
    """The docs page's policy: scripts from this origin plus its own inline scripts."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'"
        for code in _INLINE_SCRIPT.findall(html))
    return (f"default-src 'self'; script-src 'self'{hashes}; style-src 'self' "
            "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def install(app: FastAPI) -> None:
    import swagger_ui_bundle

    assets = Path(swagger_ui_bundle.swagger_ui_path)
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")
    router = APIRouter(include_in_schema=False)

    def admin_or_redirect(request: Request, who: Principal | None) -> Response | None:
        if who is None:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if not who.is_admin:
            return JSONResponse({"error": {"message": "the API docs are for admins",
                                           "code": "forbidden", "field": None}}, 403)
        return None

    @router.get("/openapi.json")
    async def openapi(request: Request,
                      who: Principal | None = Depends(optional_principal)) -> Response:
        denied = admin_or_redirect(request, who)
        if denied is not None:
            return denied
        if app.openapi_schema is None:
            # Imported on the first request for the document: it pulls in every surface's
            # wire models, which a start that serves only /v1/chat/completions skips
            # (issue 12; api's own module, no cycle hidden).
            from switchboard.api.openapi import build_openapi

            app.openapi_schema = build_openapi(app)
        return JSONResponse(app.openapi_schema)

    @router.get("/docs")
    async def docs(request: Request,
                   who: Principal | None = Depends(optional_principal)) -> Response:
        denied = admin_or_redirect(request, who)
        if denied is not None:
            return denied
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="Switchboard API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")
        page.headers["content-security-policy"] = content_security_policy(
            bytes(page.body).decode())
        page.headers["x-frame-options"] = "DENY"
        page.headers["referrer-policy"] = "same-origin"
        return page

    app.include_router(router)
