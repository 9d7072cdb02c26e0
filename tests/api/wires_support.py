"""One server for the wire tests (``/v1/messages``, ``/v1/responses``): every provider
kind configured against a vendor-shaped fake on loopback, plus the offline model.

Module-scoped (a server per test would cost seconds each): tests script the fake they
talk to and read what it received; ``REFS`` names one model per provider kind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.providers import create_provider, update_provider
from tests.conftest import isolate
from tests.fakes import anthropic as anthropic_fake
from tests.fakes import gemini as gemini_fake
from tests.fakes import mistral as mistral_fake
from tests.fakes import openai as openai_fake
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

REFS = {"openai": "openai:gpt-4o-mini", "anthropic": "anthropic:claude-sonnet-4-5",
        "gemini": "gemini:gemini-2.5-flash", "mistral": "mistral:mistral-small-latest",
        "openai_compatible": "compat:llama-3.3-70b", "offline": "offline:offline-chat"}
VENDOR_KINDS = [k for k in REFS if k != "offline"]
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
         "AAAABJRU5ErkJggg==")


@dataclass
class Wires:
    server: Running
    vendors: dict[str, FakeVendor]
    token: str
    other_token: str

    def fake(self, kind: str) -> FakeVendor:
        return self.vendors[kind]


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """Replaces the suite's per-test env isolation for modules using ``wires``: the
    server reads the master key file under SWITCHBOARD_DATA_DIR at request time, so the
    environment must not change under it (as in tests/web/conftest.py)."""
    yield


@pytest.fixture(scope="module")
def wires(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wires]:
    vendors = {"openai": FakeVendor(openai_fake.Wire()),
               "anthropic": FakeVendor(anthropic_fake.Wire()),
               "gemini": FakeVendor(gemini_fake.Wire()),
               "mistral": FakeVendor(mistral_fake.Wire()),
               "openai_compatible": FakeVendor(openai_fake.Wire())}
    with pytest.MonkeyPatch.context() as mp, ExitStack() as stack:
        isolate(mp, tmp_path_factory.mktemp("wires") / "sb-data")
        server = stack.enter_context(running_server())
        urls = {k: stack.enter_context(serve_in_thread(v)) for k, v in vendors.items()}

        async def configure() -> None:
            db = Database.from_url(server.settings.database_url, pooled=False)
            try:
                for kind in ("openai", "anthropic", "gemini", "mistral"):
                    suffix = "/v1" if kind == "openai" else ""
                    await update_provider(db, kind, base_url=urls[kind] + suffix,
                                          enabled=True, settings={"max_retries": 0})
                    await set_provider_key(db, kind, f"sk-test-{kind}-000000000000001234")
                await create_provider(db, name="compat", kind="openai_compatible",
                                      base_url=urls["openai_compatible"] + "/v1",
                                      settings={"max_retries": 0})
                await set_provider_key(db, "compat", "sk-test-compat-00000000000001234")
            finally:
                await db.dispose()

        asyncio.run(configure())
        yield Wires(server, vendors, server.make_user("wire-user"),
                    server.make_user("other-user"))
