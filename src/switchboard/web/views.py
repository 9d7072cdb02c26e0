"""The web UI's pages: server-rendered shells that the ES modules in ``static/`` fill in.

A page handler only renders a template: it reads the session (``optional_principal``, which
also puts the session's CSRF token in ``request.state.csrf``) and never calls a vendor or
loads catalog data, so a page answers at once whatever the providers are doing. All data
comes from the ``/api`` routes, fetched by the page's module.

Unauthenticated requests for a page redirect to ``/login?next=<path>``; ``next`` is only
ever a local path (``/...`` but not ``//...``), so the login page cannot be used as an
open redirect.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from switchboard import __version__
from switchboard.api.auth import optional_principal, state_of
from switchboard.api.params import PathId
from switchboard.api.tokens import Principal
from switchboard.services import flags
from switchboard.services.accounts import check_setup_token, has_accounts, needs_setup

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent


@cache
def templates() -> Jinja2Templates:
    """The pages' Jinja2 environment, built on the first page rendered.

    Jinja2 costs a server about 50 ms of start-up and a few MB of resident memory, and a
    gateway serving only ``/v1`` never renders a page (issue 12): it is imported here, a
    third-party leaf imported late for start-up cost, not to hide a cycle.
    tests/test_startup_imports.py keeps it out of the server's start. Autoescape is on by
    default.
    """
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=HERE / "templates")

router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

# Defence in depth behind the escaping: no inline script, no plugin, no framing. Inline
# style attributes are allowed (the ES modules set element styles); images may come from
# anywhere (provider logos are admin-set URLs; chat images are data: URLs).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob: https: http:; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

class SettingsPage(NamedTuple):
    """A settings page as the navigation lists it: everything about a page but its
    template and module is declared here, in one line (docs/howto/add-a-settings-page.md)."""

    title: str
    admin_only: bool
    icon: str  # a symbol of templates/icons.html (``#i-<icon>``)


SETTINGS_PAGES: dict[str, SettingsPage] = {
    # slug: (title, admin only, navigation icon); listed in this order
    "dashboard": SettingsPage("Dashboard", True, "monitor"),
    "alerts": SettingsPage("Alerts", True, "alert"),
    "providers": SettingsPage("Providers", True, "plug"),
    "models": SettingsPage("Models", True, "cpu"),
    "usage": SettingsPage("Usage", False, "chart"),
    "leaderboard": SettingsPage("Leaderboard", False, "star"),
    "users": SettingsPage("Users", True, "users"),
    "tokens": SettingsPage("API tokens", False, "key"),
    "budgets": SettingsPage("Budgets", False, "wallet"),
    "limits": SettingsPage("Rate limits", True, "zap"),
    "tools": SettingsPage("Tools", True, "wrench"),
    "mcp": SettingsPage("MCP servers", True, "braces"),
    "flags": SettingsPage("Features", True, "sparkles"),
    "audit": SettingsPage("Audit", True, "eye"),
}


def safe_next(value: str | None) -> str:
    """A local path to go to after logging in (anything else becomes ``/``).

    Control characters and whitespace are refused too: a browser's URL parser drops tabs
    and newlines (https://url.spec.whatwg.org/#concept-basic-url-parser), so
    ``/<TAB>/evil.example`` would become ``//evil.example``, another site."""
    if (not value or not value.startswith("/") or value.startswith("//") or "\\" in value
            or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value)):
        return "/"
    return value


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def features_off(request: Request, principal: Principal | None) -> str:
    """The features an admin turned off for this person (``services.flags``), as the
    page's ``data-features-off`` (names separated by spaces), so the page hides their
    controls instead of offering what the server would refuse. Memory only."""
    if principal is None:
        return ""
    state = state_of(request)
    return " ".join(name for name in flags.KNOWN if not state.feature_on(name, principal))


def _render(request: Request, template: str, principal: Principal | None,
            status_code: int = 200, **context: Any) -> HTMLResponse:
    csrf = getattr(request.state, "csrf", None) or ""
    base: dict[str, Any] = {
        "user": principal,
        "csrf": csrf,
        "version": __version__,
        "settings_pages": SETTINGS_PAGES,
        "features_off": features_off(request, principal),
    }
    base.update(context)
    response = templates().TemplateResponse(request, template, base, status_code=status_code)
    # Pages carry a per-session CSRF token: never cache them in a shared cache.
    response.headers["cache-control"] = "no-store"
    response.headers["x-frame-options"] = "DENY"
    response.headers["content-security-policy"] = CSP
    response.headers["referrer-policy"] = "same-origin"
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None,
                     principal: Principal | None = Depends(optional_principal)) -> Response:
    target = safe_next(next)
    if principal is not None:
        return RedirectResponse(target, status_code=303)
    return _render(request, "login.html", None, next=target)


@router.get("/setup", response_class=HTMLResponse)
async def setup_page(request: Request, token: str = "",
                     principal: Principal | None = Depends(optional_principal)) -> Response:
    """The first admin's form with a valid link; otherwise what the link is and where to
    find one (while no admin exists), or that the setup is done."""
    db = state_of(request).db
    valid = bool(token) and await check_setup_token(db, token)
    if valid:
        return _render(request, "setup.html", principal, token=token, state="valid")
    pending = await needs_setup(db)
    # No token while no admin exists is the expected way here, not an error.
    status = 200 if pending and not token else 404
    return _render(request, "setup.html", principal, status_code=status, token="",
                   state=("expired" if token else "needed") if pending else "done")


@router.get("/", response_class=HTMLResponse)
async def chat_page(request: Request,
                    principal: Principal | None = Depends(optional_principal)) -> Response:
    if principal is None:
        if not await has_accounts(state_of(request).db):
            # Nobody can log in yet: explain how the first account is made instead.
            return _render(request, "setup.html", None, token="", state="needed")
        return _login_redirect(request)
    return _render(request, "chat.html", principal, conversation_id=None)


@router.get("/c/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(request: Request, conversation_id: PathId,
                            principal: Principal | None = Depends(optional_principal)
                            ) -> Response:
    if principal is None:
        return _login_redirect(request)
    return _render(request, "chat.html", principal, conversation_id=conversation_id)


@router.get("/settings", response_class=HTMLResponse)
async def settings_index(request: Request,
                         principal: Principal | None = Depends(optional_principal)
                         ) -> Response:
    if principal is None:
        return _login_redirect(request)
    first = "providers" if principal.is_admin else "usage"
    return RedirectResponse(f"/settings/{first}", status_code=303)


@router.get("/settings/{page}", response_class=HTMLResponse)
async def settings_page(request: Request, page: str,
                        principal: Principal | None = Depends(optional_principal)
                        ) -> Response:
    if principal is None:
        return _login_redirect(request)
    if page not in SETTINGS_PAGES:
        return _render(request, "message.html", principal, status_code=404,
                       title="Page not found",
                       text="There is no settings page at this address.")
    title, admin_only = SETTINGS_PAGES[page].title, SETTINGS_PAGES[page].admin_only
    if admin_only and not principal.is_admin:
        return _render(request, "message.html", principal, status_code=403,
                       title="Admins only",
                       text=f"{title} are managed by an administrator of this Switchboard.")
    return _render(request, f"settings/{page}.html", principal, page=page, title=title)
