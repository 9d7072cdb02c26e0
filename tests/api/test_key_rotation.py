"""Key rotation under continuous load loses no request (issue 12, item 6).

A real server on loopback, four clients calling ``/v1`` with the official OpenAI SDK
without pause (streamed and not), and a fake OpenAI that accepts a changing set of
keys. The rotation: add the new key (the vendor accepts both), both serve, retire the old
key, then the vendor revokes it. Zero failed requests; both keys served during the
overlap; nothing is sent with the old key once it is revoked.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import openai
import pytest

from switchboard.db import Database
from switchboard.services.keys import add_provider_key, retire_provider_key
from switchboard.services.providers import update_provider
from tests.fakes import openai as openai_fake
from tests.fakes.script import Received
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

OLD = "sk-rotation-old-key-000000000000OLD1"
NEW = "sk-rotation-new-key-000000000000NEW2"
CLIENTS = 4


class Vendor:
    """What the fake vendor accepts, and which key each chat request carried."""

    def __init__(self) -> None:
        self.accepted = {OLD}
        self.lock = threading.Lock()
        self.sent: list[str] = []

    def check(self, request: Received) -> str | None:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            if request.path.endswith("/chat/completions"):
                self.sent.append(key)
            ok = key in self.accepted
        return None if ok else "Incorrect API key provided"

    def count(self, key: str) -> int:
        with self.lock:
            return self.sent.count(key)


class Load:
    """``CLIENTS`` threads calling /v1 until stopped; every outcome is kept."""

    def __init__(self, server: Running, token: str) -> None:
        self.server, self.token = server, token
        self.stop = threading.Event()
        self.ok = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(CLIENTS)]

    def _run(self, n: int) -> None:
        client = openai.OpenAI(base_url=self.server.v1, api_key=self.token, max_retries=0,
                               timeout=30)
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                messages = [{"role": "user", "content": f"client {n} call {i}"}]
                if i % 2:
                    text = client.chat.completions.create(
                        model="openai:gpt-4o-mini", messages=messages,  # type: ignore[arg-type]
                    ).choices[0].message.content
                else:
                    chunks = client.chat.completions.create(
                        model="openai:gpt-4o-mini", messages=messages,  # type: ignore[arg-type]
                        stream=True)
                    text = "".join(c.choices[0].delta.content or "" for c in chunks
                                   if c.choices)
                assert text == "Hello, world!", text
            except Exception as exc:  # every failure is a finding: keep it
                with self.lock:
                    self.failures.append(f"{type(exc).__name__}: {exc}")
            else:
                with self.lock:
                    self.ok += 1
        client.close()

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def served(self) -> int:
        with self.lock:
            return self.ok


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll a condition the load makes true (not a sleep standing in for time passing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Running, Vendor]]:
    # The load is a few hundred calls a minute from one user: the gateway's own per-user
    # limit (another concern, tested on its own) would refuse most of them.
    monkeypatch.setenv("SWITCHBOARD_RATE_LIMITS", "off")
    vendor = Vendor()
    fake = FakeVendor(openai_fake.Wire(), key_check=vendor.check)
    with running_server() as server, serve_in_thread(fake) as url:
        run(server, lambda db: update_provider(db, "openai", base_url=f"{url}/v1",
                                               enabled=True))
        run(server, lambda db: add_provider_key(db, "openai", OLD, label="old"))
        yield server, vendor


def run(server: Running, action: Callable[[Database], object]) -> None:
    async def go() -> None:
        db = Database.from_url(server.settings.database_url, pooled=False)
        try:
            await action(db)  # type: ignore[misc]
        finally:
            await db.dispose()

    asyncio.run(go())


def test_rotation_under_continuous_load_fails_no_request(
    setup: tuple[Running, Vendor]
) -> None:
    server, vendor = setup
    token = server.make_user("loader")
    with Load(server, token) as load:
        wait_for(lambda: load.served() >= 20, "calls on the old key")

        with vendor.lock:
            vendor.accepted.add(NEW)  # the vendor issued the new key
        run(server, lambda db: add_provider_key(db, "openai", NEW, label="new"))
        old_before = vendor.count(OLD)
        wait_for(lambda: vendor.count(NEW) >= 20 and vendor.count(OLD) >= old_before + 20,
                 "both keys serving")

        run(server, lambda db: retire_provider_key(db, "openai", "old"))
        served = load.served()
        wait_for(lambda: load.served() >= served + 20, "calls after the retirement")
        with vendor.lock:
            vendor.accepted.discard(OLD)  # the vendor revokes the old key
            sent_when_revoked = len(vendor.sent)
        served = load.served()
        wait_for(lambda: load.served() >= served + 40, "calls after the revocation")

    assert load.failures == []
    assert load.served() >= 100
    with vendor.lock:
        after = vendor.sent[sent_when_revoked:]
    assert after and set(after) == {NEW}  # the retired key is never sent again


def test_a_revoked_key_leaves_the_pool_and_no_call_fails(
    setup: tuple[Running, Vendor], caplog: pytest.LogCaptureFixture
) -> None:
    """The vendor revokes a key nobody retired: the call that meets the 401 is answered
    with the other key, the key is marked refused (audit row, alert-worthy log line
    without the key) and is not sent again."""
    import logging

    caplog.set_level(logging.INFO)
    server, vendor = setup
    with vendor.lock:
        vendor.accepted = {NEW}  # OLD is revoked at the vendor
    run(server, lambda db: add_provider_key(db, "openai", NEW, label="new"))
    client = openai.OpenAI(base_url=server.v1, api_key=server.make_user("one"),
                           max_retries=0, timeout=30)
    for i in range(6):
        answer = client.chat.completions.create(
            model="openai:gpt-4o-mini", messages=[{"role": "user", "content": f"call {i}"}],
            stream=bool(i % 2))
        if i % 2:
            text = "".join(c.choices[0].delta.content or "" for c in answer if c.choices)
        else:
            text = answer.choices[0].message.content
        assert text == "Hello, world!"
    client.close()
    with vendor.lock:
        # The first call tried the old key first (a quiet pool, equal weights: the
        # first key), met the 401 and was answered with the new one; none since.
        assert vendor.sent.count(OLD) == 1
        assert vendor.sent.count(NEW) == 6
    wait_for(lambda: server.query("SELECT failed_at FROM provider_keys WHERE label = 'old'")
             [0][0] is not None, "the refused key's mark")
    audit = server.query("SELECT details FROM audit_log WHERE action = 'provider.key.failed'")
    assert len(audit) == 1 and "old" in str(audit[0][0]) and OLD not in str(audit)
    failed = [r for r in caplog.records if getattr(r, "event", None) == "key_failed"]
    assert [r.label for r in failed] == ["old"]  # type: ignore[attr-defined]
    assert OLD not in caplog.text and NEW not in caplog.text
