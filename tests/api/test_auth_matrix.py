"""The auth matrix, over every route the app registers (walked from ``app.routes``, so a
route added later is covered without touching this file):

- no credentials -> 401 on ``/api`` and ``/v1``; a page redirects to ``/login``;
- a plain user -> 403 on every admin-only route;
- a browser session (cookie) changing state without the CSRF token -> 403.

Only the routes in ``PUBLIC`` may answer without credentials; adding one is a decision,
made here, visibly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from switchboard.api.app import create_app
from switchboard.api.auth import require_admin, require_csrf
from switchboard.config import load_settings
from tests.api.catalog_client import catalog_tables
from tests.fakes.server import serve_in_thread
from tests.server import Running

PUBLIC = {
    ("POST", "/api/session/login"),  # how a session starts
    ("POST", "/api/setup"),  # the one-time setup link (checked by its own token)
    ("POST", "/api/session/logout"),  # ends the caller's own session, if any
}
PUBLIC_PAGES = {"/login", "/setup", "/healthz", "/readyz"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
PASSWORD = "correct horse battery"


def admin_by_rule(method: str, path: str) -> bool:
    """Routes the contract reserves for admins, whatever their code says. Provider
    configuration (``/api/config/*``: base URLs, key hints, last errors) is an admin's to
    read as well (issue 11, item 6); members read ``/api/model-registry`` instead."""
    if path.startswith("/api/config/"):
        return True
    if path.startswith("/api/providers/") and method != "GET":
        return True
    return path.startswith("/api/users")


@pytest.fixture
def served() -> Iterator[tuple[Running, FastAPI]]:
    settings = load_settings()
    app = create_app(settings)
    with serve_in_thread(app, lifespan=True, startup_timeout=60) as url:
        # the route table to walk: the FastAPI app's, which lists every route, the front
        # door's own (/v1, health, metrics) first (api.front_door, decision 0201)
        yield Running(url, settings), app.fastapi_app()


Endpoint = tuple[str, str, Dependant | None]


def endpoints(app: FastAPI) -> list[Endpoint]:
    """(method, full path template, dependant) for every HTTP route; HEAD is GET's twin.

    FastAPI >= 0.16x keeps included routers lazily (``app.routes`` holds the routers, not
    their routes); ``fastapi.routing.iter_route_contexts`` is what its OpenAPI generator
    uses to see every effective route, with the router's prefix and dependencies."""
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    items: list[Any] = list(walk(app.routes)) if walk is not None else list(app.routes)
    out: list[Endpoint] = []
    for item in items:
        methods, path = getattr(item, "methods", None), getattr(item, "path", None)
        if not methods or not path:
            continue  # a Mount (static files) or a websocket
        dependant = getattr(item, "dependant", None)
        out += [(m, path, dependant) for m in sorted(set(methods) - {"HEAD"})]
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def dependency_calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    for sub in dependant.dependencies:
        if sub.call is not None:
            found.add(sub.call)
        found |= dependency_calls(sub)
    return found


def has_dependency(dependant: Dependant | None, call: Callable[..., Any]) -> bool:
    return dependant is not None and call in dependency_calls(dependant)


def call(client: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
    body: dict[str, Any] | None = {} if method in STATE_CHANGING else None
    return client.request(method, concrete(path), json=body, **kw)


def test_every_api_and_v1_route_needs_credentials(served: tuple[Running, FastAPI]) -> None:
    server, app = served
    routes = [(m, p) for m, p, _ in endpoints(app) if p.startswith(("/api/", "/v1/"))]
    # The walk must see the real surface, or this test would prove nothing.
    assert {("GET", "/api/config/providers"), ("POST", "/api/providers/{provider}/key"),
            ("POST", "/api/config/models/{model_id}/set-default"), ("GET", "/api/kinds"),
            ("POST", "/v1/chat/completions"), ("GET", "/v1/models")} <= set(routes)
    assert PUBLIC <= set(routes), "a public route is missing: update PUBLIC"
    checked = []
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        for method, path in routes:
            r = call(anonymous, method, path)
            if (method, path) in PUBLIC:
                assert r.status_code < 500, (method, path, r.text)
                continue
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert "error" in r.json(), (method, path)
            checked.append((method, path))
        bogus = anonymous.get("/api/config/providers",
                              headers={"authorization": "Bearer sb-" + "x" * 43})
        assert bogus.status_code == 401
    with httpx.Client(base_url=server.url, cookies={"sb_session": "forged"}) as forged:
        assert forged.get("/api/config/providers").status_code == 401
    assert len(checked) >= 20


def test_pages_redirect_to_login(served: tuple[Running, FastAPI]) -> None:
    server, app = served
    pages = [p for m, p, _ in endpoints(app) if m == "GET"
             and not p.startswith(("/api/", "/v1/", "/static")) and p not in PUBLIC_PAGES]
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        # before any account exists, / explains the setup link instead (nothing private)
        first_run = anonymous.get("/")
        assert first_run.status_code == 200 and "No account exists yet" in first_run.text
        assert 'id="app"' not in first_run.text
        server.make_user("root", "admin")
        for path in pages:
            r = anonymous.get(concrete(path))
            if r.status_code == 401:
                continue
            assert r.status_code in (302, 303, 307), (path, r.status_code)
            assert r.headers["location"].startswith("/login"), (path, r.headers)


def test_admin_routes_refuse_plain_users(served: tuple[Running, FastAPI]) -> None:
    server, app = served
    detected = {(m, p) for m, p, r in endpoints(app) if has_dependency(r, require_admin)}
    expected = {(m, p) for m, p, _ in endpoints(app) if admin_by_rule(m, p)}
    missing = expected - detected
    assert not missing, f"admin-only by contract but not guarded by require_admin: {missing}"
    assert len(detected) >= 13
    token = server.make_user("alice", "user")
    before = catalog_tables(server)
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"authorization": f"Bearer {token}"}) as plain:
        for method, path in sorted(detected):
            r = call(plain, method, path)
            assert r.status_code == 403, (method, path, r.status_code, r.text)
            assert r.json()["error"]["code"] == "forbidden"
        if any(p == "/api/usage" for _, p, _ in endpoints(app)):
            r = plain.get("/api/usage", params={"scope": "all"})
            assert r.status_code == 403 and r.json()["error"]["field"] == "scope"
        # What the selector needs stays open to members.
        for path in ("/api/model-registry", "/api/models", "/api/providers", "/api/kinds"):
            assert plain.get(path).status_code == 200, path
    assert catalog_tables(server) == before


def test_cookie_state_changes_need_the_csrf_token(served: tuple[Running, FastAPI]) -> None:
    server, app = served
    changing = [(m, p, r) for m, p, r in endpoints(app)
                if m in STATE_CHANGING and p.startswith("/api/") and (m, p) not in PUBLIC]
    unguarded = [(m, p) for m, p, r in changing if not has_dependency(r, require_csrf)]
    assert not unguarded, f"state-changing routes without require_csrf: {unguarded}"
    assert len(changing) >= 13

    server.make_user("root", "admin", PASSWORD)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        login = browser.post("/api/session/login",
                             json={"username": "root", "password": PASSWORD})
        assert login.status_code == 200, f"needs the session login route: {login.text}"
        csrf = login.json()["csrf_token"]
        before = catalog_tables(server)
        for method, path, _ in changing:
            r = call(browser, method, path)
            assert r.status_code == 403, (method, path, r.status_code, r.text)
            assert r.json()["error"]["code"] == "csrf_failed", (method, path)
        wrong = browser.post("/api/config/providers", json={"name": "x", "kind": "openai"},
                             headers={"x-csrf-token": csrf + "x"})
        assert wrong.status_code == 403
        assert catalog_tables(server) == before
        right = browser.post("/api/config/providers", json={"name": "x", "kind": "openai"},
                             headers={"x-csrf-token": csrf})
        assert right.status_code == 201, right.text
        assert browser.get("/api/config/providers").status_code == 200  # reads need none
