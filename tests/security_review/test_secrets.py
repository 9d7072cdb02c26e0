"""Secrets stay secret: a stored provider key, passwords, API tokens, session cookies and
the setup link never appear in a response, a log line (DEBUG included), a database row in
clear, the OpenAPI schema or a page — even when the vendor echoes the key back.

The key used here matches none of the generic key patterns of ``spec.redaction.redact``,
so only the exact-secret redaction stands between it and the caller.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from contextlib import closing

import httpx
import pytest

from tests.fakes.openai import Wire
from tests.fakes.script import Fail, InBandError, Received
from tests.fakes.server import free_port, serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.security_review.conftest import PASSWORD, bearer, login
from tests.server import Running

KEY = "zq-unusual-provider-secret-7c1e9a"
WRONG_PASSWORD = "not-my-password-canary-51"
TABLES = ("providers", "provider_models", "audit_log", "users", "api_tokens", "web_sessions",
          "setup_tokens", "conversations", "messages", "usage_events", "user_preferences")


def _all_log_text(records: list[logging.LogRecord]) -> str:
    """Every record as a JSON log line would show it: message, arguments, extra fields,
    and any traceback."""
    formatter = logging.Formatter()
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(vars(record)))
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
    return "\n".join(parts)


def test_a_vendor_echoing_the_key_leaks_it_nowhere(server: Running,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"on": False}

    def key_check(request: Received) -> str | None:
        return f"Incorrect API key provided: {KEY}" if echo["on"] else None

    vendor = FakeVendor(Wire(), key_check=key_check)
    admin_token = server.make_user("root", "admin", password=PASSWORD)
    admin = bearer(server, admin_token)
    plain = bearer(server, server.make_user("pat"))
    browser, _ = login(server, "root")
    responses: list[httpx.Response] = []
    with serve_in_thread(vendor) as url, closing(admin), closing(plain), closing(browser):
        made = admin.post("/api/config/providers", json={
            "name": "acme", "kind": "openai_compatible", "base_url": f"{url}/v1",
            "api_key": KEY, "settings": {"max_retries": 0}})
        assert made.status_code == 201, made.text
        pid = made.json()["id"]
        responses.append(made)
        responses.append(admin.post(f"/api/config/providers/{pid}/import-models"))
        assert responses[-1].status_code == 200, responses[-1].text
        ref = "acme:gpt-4o-mini"

        echo["on"] = True  # the vendor now refuses the key, quoting it
        test = admin.post(f"/api/providers/{pid}/test")
        assert test.status_code == 200 and test.json()["ok"] is False
        assert "[redacted]" in test.json()["message"]
        responses += [test, admin.post(f"/api/config/providers/{pid}/import-models")]
        chat = {"model": ref, "messages": [{"role": "user", "content": "hi"}]}
        responses += [admin.post("/v1/chat/completions", json=chat),
                      admin.post("/v1/chat/completions", json={**chat, "stream": True}),
                      admin.post("/api/chat", json={"model": ref, "text": "hi"}),
                      admin.post("/api/chat/stream", json={"model": ref, "text": "hi"})]
        assert all(r.status_code >= 400 for r in responses[-5:]), \
            [r.status_code for r in responses[-5:]]

        echo["on"] = False  # accepted, but the stream fails quoting the key
        vendor.then(InBandError(error_type="server_error", message=f"boom {KEY}"),
                    InBandError(error_type="server_error", message=f"boom {KEY}"),
                    Fail(400, message=f"bad request for key {KEY}"))
        responses += [admin.post("/v1/chat/completions", json={**chat, "stream": True}),
                      admin.post("/api/chat/stream", json={"model": ref, "text": "hi"}),
                      admin.post("/v1/chat/completions", json=chat)]
        assert responses[-1].status_code == 400 and "[redacted]" in responses[-1].text

        for client in (admin, plain, browser):
            for path in ("/api/config/providers", f"/api/config/providers/{pid}",
                         "/api/providers", f"/api/providers/{pid}/status", "/api/models",
                         "/api/model-registry", "/api/conversations", "/api/usage",
                         "/v1/models", "/", "/settings/providers", "/settings/models"):
                responses.append(client.get(path))
        responses.append(admin.get("/openapi.json"))
        conversations = admin.get("/api/conversations").json()["items"]
        responses += [admin.get(f"/api/conversations/{c['id']}") for c in conversations]

    assert vendor.requests and all(r.headers.get("authorization") == f"Bearer {KEY}"
                                   for r in vendor.requests)  # the key WAS used
    for response in responses:
        assert KEY not in response.text, (response.request.url, response.text[:300])
        assert KEY not in str(response.headers), response.request.url
    for table in TABLES:
        assert KEY not in str(server.query(f"SELECT * FROM {table}")), table
    assert server.query("SELECT count(*) FROM audit_log WHERE action LIKE 'provider.key%'") \
        == [(1,)]
    logs = _all_log_text(caplog.records)
    assert logs, "no log records captured: the check would prove nothing"
    assert KEY not in logs
    assert admin_token not in logs


def test_credentials_are_not_logged_or_stored_in_clear(server: Running,
                                                       caplog: pytest.LogCaptureFixture,
                                                       ) -> None:
    caplog.set_level(logging.DEBUG)
    token = server.make_user("quinn", password=PASSWORD)
    with httpx.Client(base_url=server.url) as anon:
        for _ in range(3):
            failed = anon.post("/api/session/login",
                               json={"username": "quinn", "password": WRONG_PASSWORD})
            assert failed.status_code == 401
            assert WRONG_PASSWORD not in failed.text
        assert anon.get("/setup", params={"token": "sb-setup-link-canary-0123456789"}) \
            .status_code == 404
    browser, csrf = login(server, "quinn")
    with closing(browser):
        cookie = browser.cookies["sb_session"]
        made = browser.post("/api/tokens", json={"name": "ci"},
                            headers={"x-csrf-token": csrf}).json()["token"]
        assert bearer(server, made).get("/v1/models").status_code == 200
        assert bearer(server, token).get("/api/me").status_code == 200
    # the test's own HTTP client logs what it receives (its cookie) at DEBUG: the server
    # makes no upstream call here, so every httpx/httpcore record is the client's
    logs = _all_log_text([r for r in caplog.records
                          if not r.name.startswith(("httpx", "httpcore"))])
    assert "/api/session/login" in logs  # the access log did record the calls
    # (not the CSRF token or the stored hashes: this in-process server has no logging
    # configuration, so the database driver logs SQL parameters at DEBUG here; the
    # configured server keeps them out, see test_debug_log.py)
    for secret in (PASSWORD, WRONG_PASSWORD, token, made, cookie,
                   "sb-setup-link-canary-0123456789"):
        assert secret not in logs
    # tokens and cookies are stored as digests (looked up by hash, not compared in clear)
    stored = str([server.query(f"SELECT * FROM {t}") for t in TABLES])
    for secret in (PASSWORD, token, made, cookie):
        assert secret not in stored


def test_serve_logs_no_credentials_even_at_debug(tmp_path: object) -> None:
    """Found in review: ``switchboard serve`` left uvicorn's own access log on (its
    ``log_level`` re-enables it whatever the log config says), and that log prints query
    strings — the one-time setup link's token included."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli.main", "serve", "--port", str(port),
         "--log-level", "debug"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env=dict(os.environ))
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        link = None
        while True:
            line = proc.stdout.readline()
            assert line, "serve exited early:\n" + "".join(lines)
            lines.append(line)
            if "/setup?token=" in line:
                link = line.strip()
            if "Application startup complete" in line:
                break
        assert link is not None
        real = link.split("token=", 1)[1]
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get(f"/setup?token={real}").status_code == 200
            assert client.get("/setup?token=sb-canary-query-token-999").status_code == 404
            setup = client.post("/api/setup", json={"token": real, "username": "root",
                                                    "password": PASSWORD})
            assert setup.status_code == 200, setup.text
            assert client.post("/api/session/login", json={
                "username": "root", "password": WRONG_PASSWORD}).status_code == 401
            bogus = client.get("/v1/models",
                               headers={"authorization": "Bearer sb-canary-bearer-77777"})
            assert bogus.status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        lines.append(out)
    output = "".join(lines)
    assert '"path":"/setup"' in output.replace(" ", "")  # requests were logged...
    assert output.count(real) == 1  # ...but the link's token only where it was printed
    for secret in ("sb-canary-query-token-999", PASSWORD, WRONG_PASSWORD,
                   "sb-canary-bearer-77777"):
        assert secret not in output
