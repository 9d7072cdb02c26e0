"""Hostile input: oversized bodies (both surfaces, declared and chunked), deep nesting,
invalid UTF-8, a forged request id, open redirects through ``?next=``, path traversal,
and the Content-Security-Policy of every page."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest

from switchboard.api.docs import content_security_policy
from switchboard.config import load_settings
from switchboard.spec import ConfigurationError
from switchboard.web.views import safe_next
from tests.security_review.conftest import PASSWORD, bearer, login, setup_token
from tests.server import Running, running_server

KB = 1024
CHAT = {"model": "offline:offline-chat", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """A server with a 64 KB body limit, 256 KB for the chat calls."""
    monkeypatch.setenv("SWITCHBOARD_MAX_BODY_MB", "0.0625")
    monkeypatch.setenv("SWITCHBOARD_MAX_CHAT_BODY_MB", "0.25")
    with running_server() as running:
        yield running


def _api_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    error: dict[str, object] = response.json()["error"]
    assert {"message", "code", "field"} <= set(error) <= {"message", "code", "field", "reason"}
    return error


def _padded(body: dict[str, object], size: int) -> bytes:
    """``body`` as JSON, grown to about ``size`` bytes with an ignored-or-refused field."""
    raw = json.dumps({**body, "pad": ""}).encode()
    return json.dumps({**body, "pad": "x" * max(size - len(raw), 0)}).encode()


def _chunks(data: bytes, size: int = 16 * KB) -> Iterator[bytes]:
    """A body without Content-Length (chunked transfer encoding)."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_oversized_bodies_get_413_in_each_surfaces_shape(small_limits: Running) -> None:
    server = small_limits
    token = server.make_user("kim", password=PASSWORD)
    with closing(bearer(server, token)) as api, httpx.Client(base_url=server.url) as anon:
        # anonymous, declared length: refused unread, before authentication or parsing
        error = _api_error(anon.post("/api/session/login", content=_padded(
            {"username": "kim", "password": PASSWORD}, 100 * KB),
            headers={"content-type": "application/json"}), 413)
        assert error["code"] == "payload_too_large"
        assert "64 KB" in str(error["message"])
        assert "SWITCHBOARD_MAX_BODY_MB" in str(error["message"])
        # the chat's larger limit is for signed-in callers only
        assert anon.post("/api/chat", content=_padded({"text": "hi"}, 100 * KB),
                         headers={"content-type": "application/json"}).status_code == 413
        v1 = anon.post("/v1/chat/completions", content=_padded(CHAT, 100 * KB))
        assert v1.status_code == 413
        assert v1.json()["error"]["type"] == "invalid_request_error"

        # signed in, every other route keeps the small limit, chunked or not
        prefs = _padded({"selected_model": None, "settings": {}}, 100 * KB)
        assert _api_error(api.put("/api/me/preferences", content=prefs), 413)["code"] \
            == "payload_too_large"
        chunked = api.put("/api/me/preferences", content=_chunks(prefs),
                          headers={"content-type": "application/json"})
        assert _api_error(chunked, 413)["code"] == "payload_too_large"
        small = api.put("/api/me/preferences", content=_chunks(json.dumps(
            {"selected_model": None, "settings": {"theme": "dark"}}).encode(), 8),
            headers={"content-type": "application/json"})
        assert small.status_code == 200, small.text

        # the chat calls accept more (inline images), up to their own limit
        image = base64.b64encode(b"\x89PNG" + b"\0" * (120 * KB)).decode()
        message = {"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}}]}
        big_v1 = {"model": "offline:offline-chat", "messages": [message]}
        ok = api.post("/v1/chat/completions", json=big_v1)
        assert ok.status_code != 413, ok.text[:300]
        ok_chunked = api.post("/v1/chat/completions", content=_chunks(json.dumps(
            big_v1).encode()), headers={"content-type": "application/json"})
        assert ok_chunked.status_code == ok.status_code
        chat = api.post("/api/chat", json={"text": "look", "images": [
            {"media_type": "image/png", "data": image}]})
        assert chat.status_code != 413, chat.text[:300]
        huge = _padded(CHAT, 300 * KB)
        for response in (api.post("/v1/chat/completions", content=huge),
                         api.post("/v1/chat/completions", content=_chunks(huge),
                                  headers={"content-type": "application/json"})):
            assert response.status_code == 413
            error = response.json()["error"]
            assert error["type"] == "invalid_request_error"
            assert error["code"] == "request_too_large"
            assert "256 KB" in error["message"] and "images" in error["message"]
        stream = api.post("/api/chat/stream", content=_chunks(_padded({"text": "hi"}, 300 * KB)),
                          headers={"content-type": "application/json"})
        assert _api_error(stream, 413)["code"] == "payload_too_large"
        # the server is fine afterwards
        assert api.get("/api/me").status_code == 200


def test_browser_session_gets_the_chat_limit_too(small_limits: Running) -> None:
    server = small_limits
    server.make_user("lee", password=PASSWORD)
    browser, csrf = login(server, "lee")
    with closing(browser):
        image = base64.b64encode(b"\x89PNG" + b"\0" * (120 * KB)).decode()
        chat = browser.post("/api/chat", headers={"x-csrf-token": csrf}, json={
            "text": "look", "images": [{"media_type": "image/png", "data": image}]})
        assert chat.status_code != 413, chat.text[:300]


def test_limits_are_configurable_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.max_body_bytes == 1024 * KB
    assert settings.max_chat_body_bytes == 64 * 1024 * KB
    monkeypatch.setenv("SWITCHBOARD_MAX_CHAT_BODY_MB", "100")
    assert load_settings().max_chat_body_bytes == 100 * 1024 * KB
    for bad in ("lots", "0", "-1", "nan", "inf"):
        monkeypatch.setenv("SWITCHBOARD_MAX_BODY_MB", bad)
        with pytest.raises(ConfigurationError, match="SWITCHBOARD_MAX_BODY_MB"):
            load_settings()


def test_default_limit_holds_without_configuration(server: Running) -> None:
    r = httpx.post(f"{server.url}/api/session/login", content=b"{" + b" " * (2 * 1024 * KB),
                   headers={"content-type": "application/json"})
    assert r.status_code == 413 and "1 MB" in r.json()["error"]["message"]


def test_malformed_json_is_a_clear_400_not_a_crash(server: Running) -> None:
    token = server.make_user("max")
    deep = "[" * 100_000 + "]" * 100_000
    with closing(bearer(server, token)) as api:
        for path, body in (("/api/chat", b'{"text": "hi", "options": ' + deep.encode() + b"}"),
                           ("/api/chat", b'{"text": "\xff\xfe"}'),
                           ("/v1/chat/completions", b'{"model": "x", "messages": '
                            + deep.encode() + b"}"),
                           ("/v1/chat/completions", b'{"model": "offline:offline-chat", '
                            b'"messages": [{"role": "user", "content": "\xff"}]}')):
            r = api.post(path, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 400, (path, r.status_code, r.text[:200])
            assert r.json()["error"]["message"]
        assert api.get("/api/me").status_code == 200


def test_request_id_is_echoed_only_when_plain(server: Running) -> None:
    """Found in review: ``str.isalnum`` let non-ASCII letters through into the echoed
    header and the log."""
    with httpx.Client(base_url=server.url) as client:
        def echoed(value: bytes) -> str:
            return client.get("/healthz", headers={"x-request-id": value}).headers[
                "x-request-id"]

        assert echoed(b"req-42_abc") == "req-42_abc"
        for hostile in ("abc\u00e9def".encode("latin-1"), b"a b", b"<script>", b"a;b=c",
                        b"\xaa\xba\xc0"):
            value = echoed(hostile)
            assert re.fullmatch(r"[0-9a-f]{16}", value), (hostile, value)
        assert len(echoed(b"x" * 500)) <= 64


@pytest.mark.parametrize("target", [
    "//evil.example", "/\\evil.example", "https://evil.example", "/\t/evil.example",
    "/\n/evil.example", "/\r/evil.example", "/ /evil.example", "/\x00/evil.example",
    "evil.example", "",
])
def test_safe_next_keeps_logins_on_this_site(target: str) -> None:
    """Found in review: ``/<TAB>/evil.example`` passed, and a browser's URL parser drops
    the tab (``new URL("/\\t/evil.example", base)`` is ``http://evil.example/``)."""
    assert safe_next(target) == "/"


def test_login_page_never_carries_an_outside_next(server: Running) -> None:
    server.make_user("ned", password=PASSWORD)
    with httpx.Client(base_url=server.url) as anon:
        for target in ("/%09/evil.example", "/%0a/evil.example", "//evil.example",
                       "/%5Cevil.example", "https://evil.example"):
            page = anon.get(f"/login?next={target}")
            assert page.status_code == 200
            assert 'data-next="/"' in page.text, (target, re.findall(r'data-next="[^"]*"',
                                                                    page.text))
        kept = anon.get("/login", params={"next": "/c/12?x=1"})
        assert 'data-next="/c/12?x=1"' in kept.text
    browser, _ = login(server, "ned")
    with closing(browser):
        r = browser.get("/login?next=/%09/evil.example", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_no_path_traversal_out_of_static_folders(server: Running) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as anon:  # a loaded CI machine
        for path in ("/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/views.py",
                     "/static/..%2f..%2fviews.py", "/static/%2e%2e%2fweb%2fviews.py",
                     "/docs-assets/..%2f..%2f__init__.py", "/docs-assets/%2e%2e/__init__.py",
                     "/static//etc/passwd"):
            r = anon.get(path)
            assert r.status_code == 404, (path, r.status_code)
            assert "import" not in r.text and "root:" not in r.text
        assert anon.get("/static/js/login.js").status_code == 200


def test_every_page_has_a_content_security_policy(server: Running) -> None:
    """Found in review: ``/docs`` (Swagger UI) had none; it now allows exactly its one
    inline script by hash."""
    admin_token = server.make_user("root", "admin", password=PASSWORD)
    admin, _ = login(server, "root")
    pages = ["/", "/c/1", "/settings/providers", "/settings/models", "/settings/usage",
             "/settings/users", "/settings/tokens", "/settings/nope", "/docs"]
    with closing(admin), httpx.Client(base_url=server.url) as anon:
        for path in pages:
            r = admin.get(path)
            assert r.status_code in (200, 404), (path, r.status_code)
            assert "text/html" in r.headers["content-type"], path
            policy = r.headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, path
            assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
        for path in ("/login", "/setup?token=nope"):
            r = anon.get(path)
            assert "default-src 'self'" in r.headers["content-security-policy"], path
        docs = admin.get("/docs")
        assert docs.headers["content-security-policy"] == content_security_policy(docs.text)
        assert "'sha256-" in docs.headers["content-security-policy"]
        assert bearer(server, admin_token).get("/openapi.json").status_code == 200


def test_login_and_setup_forms_never_put_passwords_in_urls(server: Running) -> None:
    """Found in review: the forms had no method, so one submitted before the page's
    module loaded went out as ``GET /login?username=...&password=...`` (the password in
    the URL, the history and any proxy's log)."""
    with httpx.Client(base_url=server.url) as anon:
        for path, form in (("/login", "login-form"),
                           (f"/setup?token={setup_token(server)}", "setup-form")):
            html = anon.get(path).text
            tag = re.search(rf'<form id="{form}"[^>]*>', html)
            assert tag is not None, path
            assert 'method="post"' in tag.group(0), tag.group(0)
