"""``/api/chat`` (the web chat's surface) refuses a disabled or deleted model with a 404
naming the model and why, before anything is written or sent (issue 11, item 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from switchboard.db import Database
from switchboard.services import catalog
from tests.api.chat_support import add_provider, client
from tests.fakes.openai import MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


def _catalog(server: Running, change: str) -> None:
    async def work() -> None:
        db = Database.from_url(server.settings.database_url, pooled=False)
        try:
            if change == "disable":
                await catalog.update_model(db, ("lab", MODEL), enabled=False)
            else:
                view = next(x for x in (await catalog.get_provider(db, "lab")).models
                            if x.model_sdk_id == MODEL)
                await catalog.delete_model(db, view.id)
        finally:
            await db.dispose()

    asyncio.run(work())


@pytest.mark.parametrize(("change", "why"), [
    ("disable", "is disabled by an administrator"),
    ("delete", "was removed from the catalog by an administrator")])
def test_disabled_or_deleted_model_is_refused_naming_it(
        server: Running, change: str, why: str) -> None:
    vendor = FakeVendor(OpenAIWire())
    with serve_in_thread(vendor) as url:
        ref = add_provider(server, "lab", "openai", f"{url}/v1", MODEL)
        alice: httpx.Client = client(server, server.make_user("alice"))
        vendor.then(Reply(chunks=["fine"], input_tokens=2, output_tokens=1))
        assert alice.post("/api/chat", json={"text": "hi", "model": ref}).status_code == 200
        _catalog(server, change)
        before = server.query("SELECT count(*) FROM messages")
        for path in ("/api/chat", "/api/chat/stream"):
            refused = alice.post(path, json={"text": "hi", "model": ref})
            assert refused.status_code == 404, refused.text
            error = refused.json()["error"]
            assert error["field"] == "model"
            assert f"'{ref}' {why}" in error["message"]
        assert server.query("SELECT count(*) FROM messages") == before
        # one answer reached the vendor (a title request for the conversation may too)
        answers = [r for r in vendor.chat_requests()
                   if r.body["messages"][-1]["content"] == "hi"]
        assert len(answers) == 1
