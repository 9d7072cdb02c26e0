"""The REST routers and web pages, mounted on the first request that reaches them
(``api.lazy_routes.DeferredRouters``, decision 0181), route exactly as when they were
mounted at start: the same answers, the same 405s and slash redirects, and a complete
route table for whatever inspects ``app.routes``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from switchboard.api.app import create_app
from switchboard.api.fastapi_app import DeferredRouters
from switchboard.api.front_door import FrontDoor


def _placeholders(door: FrontDoor) -> int:
    app: FastAPI = door.fastapi_app()
    return sum(isinstance(r, DeferredRouters) for r in app.router.routes)


def test_the_first_request_past_the_v1_routes_mounts_them_and_is_answered_by_them(
        _isolated_env: Path) -> None:
    app = create_app()
    assert _placeholders(app) == 1
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200  # before the placeholder
        assert _placeholders(app) == 1
        me = client.get("/api/me")  # the placeholder's first request
        assert me.status_code == 401 and me.json()["error"]["code"] == "unauthorized"
        assert _placeholders(app) == 0
        assert client.get("/api/me").status_code == 401  # and from the table itself
        # a slash too many: redirected (307), then the router says which methods it takes
        wrong_method = client.post("/api/me/preferences/")
        assert wrong_method.status_code == 405 and "use GET" in wrong_method.text
        assert client.get("/login").status_code == 200  # a page
        assert client.get("/no-such-page").status_code == 404
        assert client.get("/healthz").status_code == 200


def test_a_404_first_mounts_them_too_and_the_next_request_finds_its_route(
        _isolated_env: Path) -> None:
    app = create_app()
    with TestClient(app) as client:
        assert client.get("/no-such-page").status_code == 404
        assert _placeholders(app) == 0
        assert client.get("/api/me").status_code == 401


def test_app_routes_lists_every_route_without_a_request(_isolated_env: Path) -> None:
    app = create_app().fastapi_app()
    paths = {getattr(r, "path", None) for r in app.routes}
    assert sum(isinstance(r, DeferredRouters) for r in app.router.routes) == 0  # mounted
    assert {"/v1/chat/completions", "/healthz"} <= paths
    included = [r for r in app.router.routes if type(r).__name__ == "_IncludedRouter"]
    assert included, "the REST routers are in the table"
    assert app.url_path_for("static", path="favicon.svg") == "/static/favicon.svg"
    # a second walk does not mount them twice
    assert len(app.routes) == len(app.router.routes)
    assert all(not isinstance(r, APIRoute) or r.path for r in app.routes)
