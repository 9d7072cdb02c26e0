"""Issue 10 item 10: ordinary bad input is a 4xx in the surface's shape, never a 500 —
ids beyond 64 bits and non-ASCII digits, dates at the calendar's edges, huge integers in
preferences, NUL characters in text (on SQLite and PostgreSQL, including the login name
of an unauthenticated caller); and an unexpected exception is the surface's own JSON (or
HTML page) with a request id, never Starlette's plain text. Issue 11 item 8: unknown
``/v1`` routes and wrong methods answer in OpenAI's error shape."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api.app import create_app
from switchboard.config import load_settings
from tests.fakes.server import serve_in_thread
from tests.security_review.conftest import PASSWORD, bearer, login
from tests.server import Running, running_server

HUGE = "99999999999999999999"  # > 2^64
JUST_PAST = str(2**63)  # one past the largest signed 64-bit id


@pytest.fixture
def server_on(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """A server on each database backend (SQLite; PostgreSQL when configured)."""
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", database_url)
    with running_server() as running:
        yield running


def rest_error(response: httpx.Response, *statuses: int) -> dict[str, object]:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, object] = response.json()["error"]
    assert {"message", "code", "field"} <= set(error)
    return error


def openai_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, object] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


@pytest.mark.parametrize("number", [HUGE, JUST_PAST])
def test_ids_beyond_64_bits_in_paths_queries_and_bodies(server: Running, number: str) -> None:
    admin = bearer(server, server.make_user("root", role="admin"))
    for method, path, body in [
        ("GET", f"/api/conversations/{number}", None),
        ("PATCH", f"/api/conversations/{number}", {"title": "x"}),
        ("DELETE", f"/api/conversations/{number}", None),
        ("PUT", f"/api/messages/{number}/rating", {"rating": 1}),
        ("GET", f"/api/config/providers/{number}", None),
        ("PUT", f"/api/config/models/{number}", {"name": "x"}),
        ("DELETE", f"/api/config/models/{number}", None),
        ("GET", f"/api/config/models/provider/{number}", None),
        ("DELETE", f"/api/tokens/{number}", None),
        ("PATCH", f"/api/users/{number}", {"display_name": "x"}),
        ("GET", f"/api/conversations?before={number}", None),
        ("POST", "/api/config/models", {"provider_id": int(number), "model_sdk_id": "m"}),
        ("POST", "/api/chat", {"text": "hi", "conversation_id": int(number)}),
        ("GET", f"/api/providers/{number}/status", None),
    ]:
        response = admin.request(method, path, json=body)
        rest_error(response, 404, 422)


@pytest.mark.parametrize("digits", ["\u00b2", "\u0661\u0662", "\uff11\uff12", "\u07c1"])
def test_non_ascii_digits_in_path_parameters(server: Running, digits: str) -> None:
    admin = bearer(server, server.make_user("root", role="admin"))
    for method, path in [("GET", f"/api/providers/{digits}/status"),
                         ("POST", f"/api/providers/{digits}/test"),
                         ("GET", f"/api/config/providers/{digits}"),
                         ("GET", f"/api/conversations/{digits}")]:
        rest_error(admin.request(method, path), 404, 422)
    page = admin.get(f"/c/{digits}")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("query", [
    "from=9999-12-31", "to=9999-12-31", "from=9999-12-01&to=9999-12-31",
    "from=0001-01-01", "from=0001-01-01&to=0001-01-02", "to=0001-01-01",
    "from=10000-01-01", "from=2024-02-30",
])
def test_usage_dates_at_the_edges_of_the_calendar(server: Running, query: str) -> None:
    member = bearer(server, server.make_user("bob"))
    response = member.get(f"/api/usage?{query}")
    if response.status_code != 200:
        rest_error(response, 422)


@pytest.mark.parametrize("value", [2**64, -(2**70), 10**100])
def test_huge_integers_in_preferences(server: Running, value: int) -> None:
    member = bearer(server, server.make_user("bob"))
    raw = f'{{"settings": {{"theme": "dark", "zoom": {value}}}}}'
    response = member.put("/api/me/preferences", content=raw,
                          headers={"content-type": "application/json"})
    rest_error(response, 422)
    assert member.get("/api/me/preferences").status_code == 200


def test_nul_characters_in_text_on_every_backend(server_on: Running) -> None:
    server = server_on
    server.make_user("carol")
    anonymous = httpx.Client(base_url=server.url, timeout=30)
    # The unauthenticated login name reaches the database before any check.
    error = rest_error(anonymous.post("/api/session/login",
                                      json={"username": "car\x00ol", "password": "x"}), 422)
    assert "NUL" in str(error["message"])
    client, csrf = login(server, "carol", PASSWORD)
    headers = {"x-csrf-token": csrf}
    for method, path, body in [
        ("POST", "/api/tokens", {"name": "a\x00b"}),
        ("PUT", "/api/me/preferences", {"settings": {"note": "a\x00b"}}),
        ("GET", "/api/conversations?q=a%00b", None),
        ("GET", "/api/providers/a%00b/status", None),
    ]:
        rest_error(client.request(method, path, json=body, headers=headers), 404, 422)
    # Text that merely talks about the escape is not a NUL and is kept.
    ok = client.put("/api/me/preferences", headers=headers,
                    json={"settings": {"note": "JSON writes NUL as \\u0000"}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["settings"]["note"] == "JSON writes NUL as \\u0000"


def _boom(request: Request) -> Response:
    raise RuntimeError("secret detail that must not leak")


@pytest.fixture
def exploding() -> Iterator[str]:
    """A real app with one route per surface that raises an unexpected exception."""
    app = create_app(load_settings())
    # before every route of the FastAPI app, which answers all but the front door's own
    app.fastapi_app().router.routes[:0] = [Route(p, _boom, methods=["GET"])
                                           for p in ("/v1/boom", "/api/boom", "/boom")]
    with serve_in_thread(app, lifespan=True, startup_timeout=60) as url:
        yield url


def test_unexpected_exceptions_answer_in_each_surfaces_shape(exploding: str) -> None:
    with httpx.Client(base_url=exploding, timeout=30) as client:
        v1 = client.get("/v1/boom", headers={"x-request-id": "req-v1"})
        error = openai_error(v1, 500)
        assert error["type"] == "server_error" and "req-v1" in str(error["message"])
        api = client.get("/api/boom", headers={"x-request-id": "req-api"})
        body = rest_error(api, 500)
        assert body["request_id"] == "req-api"
        page = client.get("/boom", headers={"x-request-id": "req-page"})
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert "req-page" in page.text
        for response in (v1, api, page):
            assert "secret detail" not in response.text


def test_unknown_v1_routes_and_methods_in_openai_shape(server: Running) -> None:
    client = bearer(server, server.make_user("bob"))
    error = openai_error(client.post("/v1/chat/completion", json={}), 404)
    assert "POST /v1/chat/completion" in str(error["message"])
    assert error["code"] == "unknown_url"
    wrong = client.get("/v1/chat/completions")
    error = openai_error(wrong, 405)
    assert "GET" in str(error["message"]) and "/v1/chat/completions" in str(error["message"])
    assert "POST" in str(error["message"])
    openai_error(client.delete("/v1/models"), 405)
    # The other surfaces keep theirs: /api JSON, pages HTML.
    rest_error(client.get("/api/nothing-here"), 404)
    page = client.get("/nothing-here")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/chat", "/api/tokens"])
@pytest.mark.parametrize("raw", [b'{"text": "hi",', b"{'text': 'hi'}", b"not json"])
def test_malformed_json_on_api_names_no_byte_position(server: Running, path: str,
                                                      raw: bytes) -> None:
    """FastAPI reports a JSON syntax error at ``loc: ["body", <byte offset>]``, which came
    out as ``field: "1"``: a field that does not exist. It is a body problem now."""
    token = server.make_user("max")
    with bearer(server, token) as api:
        response = api.post(path, content=raw, headers={"content-type": "application/json"})
    error = rest_error(response, 400)
    assert error["code"] == "invalid_json", error
    assert error["field"] is None, error
    assert "JSON" in str(error["message"]) and "body" in str(error["message"]), error
