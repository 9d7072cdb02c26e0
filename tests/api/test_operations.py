"""Operations: health checks, request ids, structured access logs that never carry a
secret, and the admin-only API docs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import openai
import pytest

from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.providers import update_provider
from tests.fakes import openai as openai_fake
from tests.fakes.script import Fail
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

STORED_KEY = "sk-proj-STOREDsecretKEY0123456789abcdef"


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


def test_health_and_request_ids(server: Running) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
    assert len(ready.headers["x-request-id"]) == 16
    echoed = httpx.get(f"{server.url}/healthz", headers={"x-request-id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    hostile = httpx.get(f"{server.url}/healthz", headers={"x-request-id": "a b\tc"})
    assert hostile.headers["x-request-id"] != "a b\tc"


def test_docs_are_for_admins_only(server: Running) -> None:
    user = server.make_user("reader")
    admin = server.make_user("boss", role="admin")
    anonymous = httpx.get(f"{server.url}/docs")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert httpx.get(f"{server.url}/docs",
                     headers={"authorization": f"Bearer {user}"}).status_code == 403
    page = httpx.get(f"{server.url}/docs", headers={"authorization": f"Bearer {admin}"})
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert httpx.get(f"{server.url}/docs-assets/swagger-ui-bundle.js").status_code == 200
    spec = httpx.get(f"{server.url}/openapi.json", headers={"authorization": f"Bearer {admin}"})
    assert "/api/me/preferences" in spec.json()["paths"]


def test_no_secret_reaches_a_log_line_or_a_response(
        server: Running, caplog: pytest.LogCaptureFixture) -> None:
    """The stored key, the caller's token and the setup token must appear nowhere, even
    when the vendor echoes the key back in its 401 message."""
    vendor = FakeVendor(openai_fake.Wire())
    vendor.then(Fail(401, f"Incorrect API key provided: {STORED_KEY}",
                     error_type="invalid_request_error", code="invalid_api_key"))
    caplog.set_level(logging.DEBUG)
    with serve_in_thread(vendor) as upstream:
        async def configure() -> None:
            db = Database.from_url(server.settings.database_url, pooled=False)
            try:
                await update_provider(db, "openai", base_url=f"{upstream}/v1", enabled=True)
                await set_provider_key(db, "openai", STORED_KEY)
            finally:
                await db.dispose()

        asyncio.run(configure())
        token = server.make_user("victim")
        client = openai.OpenAI(base_url=server.v1, api_key=token, max_retries=0)
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(model="openai:gpt-4o-mini",
                                           messages=[{"role": "user", "content": "hi"}])
        httpx.get(f"{server.url}/setup?token=sb-SETUPsecret0123456789abcdefghijklmnopqrstu")
    assert vendor.last.headers["authorization"] == f"Bearer {STORED_KEY}"  # it was used
    response_text = str(info.value.body) + str(info.value)
    assert info.value.status_code == 502
    assert STORED_KEY not in response_text and "[redacted]" in response_text
    # The test's own clients (httpx, openai) log the URLs *they* request, setup token
    # included; they are not the server, so their records are left out. (The server's
    # upstream calls use httpx too, but every adapter sends keys in headers, not URLs.)
    server_records = [r for r in caplog.records
                      if not r.name.startswith(("httpx", "httpcore", "openai"))]
    logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in server_records)
    assert "request" in logged  # the access log did run
    for secret in (STORED_KEY, token, "SETUPsecret"):
        assert secret not in logged, f"a secret leaked into the logs: {secret[:6]}…"
    rows = server.query("SELECT details FROM audit_log")
    assert rows and all(STORED_KEY not in str(r) for r in rows)
