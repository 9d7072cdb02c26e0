"""Rate limits on ``/v1/chat/completions``: a real server, the official ``openai`` SDK,
OpenAI's fake at the HTTP boundary. Headers on every response (stream and not), a 429
with ``retry-after`` in OpenAI's shape, and a concurrency slot freed when the client goes
away mid-answer. The window math itself is tested with a settable clock in
tests/services/test_ratelimits.py; here the policy's clock is pinned so nothing depends
on how fast the machine is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import openai
import pytest

from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.providers import update_provider
from switchboard.services.rate_limiter import LocalLimiter
from switchboard.services.ratelimits import RateLimitPolicy
from tests.fakes import openai as openai_fake
from tests.fakes.script import Hold, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

USER = [{"role": "user", "content": "hello"}]
MODEL = "openai:gpt-4o-mini"
T0 = 1_800_000_000.0


@dataclass
class Setup:
    server: Running
    vendor: FakeVendor
    token: str
    clock: list[float]

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.server.v1, api_key=self.token, max_retries=0,
                             _strict_response_validation=True)

    @property
    def policy(self) -> RateLimitPolicy:
        policies = self.server.app.state.sb.pipeline.admission
        found = [p for p in policies if isinstance(p, RateLimitPolicy)]
        assert found, "the rate-limit policy is in the pipeline by default"
        return found[0]


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.setenv("SWITCHBOARD_RATE_LIMITS_USER", "rpm=3,tpm=100000,concurrent=1")
    vendor = FakeVendor(openai_fake.Wire())
    with running_server() as server, serve_in_thread(vendor) as vendor_url:
        async def configure() -> None:
            db = Database.from_url(server.settings.database_url, pooled=False)
            try:
                await update_provider(db, "openai", base_url=f"{vendor_url}/v1", enabled=True)
                await set_provider_key(db, "openai", "sk-test-openai-0000000000001234")
            finally:
                await db.dispose()

        asyncio.run(configure())
        setup = Setup(server, vendor, server.make_user("limited"), [T0])
        setup.policy.clock = lambda: setup.clock[0]
        yield setup


def test_headers_on_every_response_and_a_429_with_retry_after(setup: Setup) -> None:
    setup.vendor.then(Reply(chunks=["one"], input_tokens=12, output_tokens=7),
                      Reply(chunks=["t", "wo"]))
    raw = setup.client().chat.completions.with_raw_response.create(
        model=MODEL, messages=USER)  # type: ignore[arg-type]
    assert raw.parse().choices[0].message.content == "one"
    assert raw.headers["x-ratelimit-limit-requests"] == "3"
    assert raw.headers["x-ratelimit-remaining-requests"] == "2"
    assert raw.headers["x-ratelimit-reset-requests"] == "1m0s"
    assert raw.headers["x-ratelimit-limit-tokens"] == "100000"
    remaining = int(raw.headers["x-ratelimit-remaining-tokens"])
    assert 100000 - 4096 - 100 < remaining < 100000 - 4096  # prompt + capped answer budget
    assert raw.headers["x-ratelimit-reset-tokens"] == "1m0s"

    setup.clock[0] = T0 + 20
    with setup.client().chat.completions.with_streaming_response.create(
            model=MODEL, messages=USER, stream=True) as stream:  # type: ignore[arg-type]
        assert stream.headers["x-ratelimit-remaining-requests"] == "1"
        assert stream.headers["x-ratelimit-reset-requests"] == "40s"
        # the first call's reservation was corrected to its real usage (12 + 7): what is
        # booked now is that plus this call's reservation (the same size as the first's)
        assert int(stream.headers["x-ratelimit-remaining-tokens"]) == remaining - 19
        text = "".join(c.choices[0].delta.content or "" for c in stream.parse()
                       if c.choices)
    assert text == "two"

    setup.vendor.then(Reply(chunks=["three"]))
    setup.client().chat.completions.create(model=MODEL, messages=USER)  # type: ignore[arg-type]
    setup.clock[0] = T0 + 30
    calls = len(setup.vendor.chat_requests())
    with pytest.raises(openai.RateLimitError) as refused:
        setup.client().chat.completions.create(model=MODEL, messages=USER)  # type: ignore[arg-type]
    response = refused.value.response
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"  # the call at T0 leaves at T0 + 60
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-ratelimit-reset-requests"] == "30s"
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert "3 requests per minute" in error["message"]
    assert len(setup.vendor.chat_requests()) == calls  # the vendor was never asked

    setup.clock[0] = T0 + 60
    setup.vendor.then(Reply(chunks=["four"]))
    assert setup.client().chat.completions.create(
        model=MODEL, messages=USER).choices[0].message.content == "four"  # type: ignore[arg-type]


def test_concurrency_slot_is_freed_when_the_client_disconnects(setup: Setup) -> None:
    hold = Hold(Reply(chunks=["a", "b", "c"]), after=1)
    setup.vendor.then(hold)
    limiter = setup.policy.limiter
    assert isinstance(limiter, LocalLimiter)
    body = {"model": MODEL, "messages": USER, "stream": True}
    headers = {"authorization": f"Bearer {setup.token}"}
    with httpx.Client(timeout=30) as http:
        with http.stream("POST", f"{setup.server.v1}/chat/completions", json=body,
                         headers=headers) as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()  # kept: a dropped generator closes the response
            assert next(lines).startswith("data: ")  # the answer has begun: it holds its slot
            busy = http.post(f"{setup.server.v1}/chat/completions", headers=headers,
                             json={"model": MODEL, "messages": USER})
            assert busy.status_code == 429
            assert "1 calls at once" in busy.json()["error"]["message"]
            assert busy.headers["retry-after"] == "1"
        # the client went away mid-answer
    hold.release.set()
    deadline = time.monotonic() + 15
    bucket = next(iter(limiter.buckets._buckets.values()))
    while bucket.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    assert bucket.in_flight == 0
    setup.vendor.then(Reply(chunks=["again"]))
    assert setup.client().chat.completions.create(
        model=MODEL, messages=USER).choices[0].message.content == "again"  # type: ignore[arg-type]


def test_a_client_leaving_while_the_model_is_silent_ends_the_call_at_once(
        setup: Setup) -> None:
    """The disconnect itself ends the call (``EventStream`` watches for it, decision
    0178), not the model's next chunk: here the model says nothing more until the test
    lets it, and the slot must be free before that."""
    hold = Hold(Reply(chunks=["a", "b", "c"]), after=1)
    setup.vendor.then(hold)
    limiter = setup.policy.limiter
    assert isinstance(limiter, LocalLimiter)
    body = {"model": MODEL, "messages": USER, "stream": True}
    headers = {"authorization": f"Bearer {setup.token}"}
    try:
        with httpx.Client(timeout=30) as http, http.stream(
                "POST", f"{setup.server.v1}/chat/completions", json=body,
                headers=headers) as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("data: ")  # the answer has begun
        bucket = next(iter(limiter.buckets._buckets.values()))
        deadline = time.monotonic() + 10  # the vendor holds for up to 30 s
        while bucket.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        assert bucket.in_flight == 0
        assert not hold.release.is_set()
    finally:
        hold.release.set()


@pytest.mark.parametrize(("path", "body", "refused_type"), [
    ("/messages", {"model": "offline:offline-chat", "max_tokens": 50,
                   "messages": [{"role": "user", "content": "hi"}]}, "rate_limit_error"),
    ("/responses", {"model": "offline:offline-chat", "input": "hi"}, "requests"),
])
def test_the_other_v1_wires_carry_the_headers_and_refuse_alike(
        setup: Setup, path: str, body: dict[str, object], refused_type: str) -> None:
    headers = {"authorization": f"Bearer {setup.token}", "x-api-key": setup.token,
               "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=setup.server.v1, headers=headers, timeout=30) as http:
        for remaining in ("2", "1", "0"):
            ok = http.post(path, json=body)
            assert ok.status_code == 200, ok.text
            assert ok.headers["x-ratelimit-limit-requests"] == "3"
            assert ok.headers["x-ratelimit-remaining-requests"] == remaining
        refused = http.post(path, json=body)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    error = refused.json()["error"]
    assert error["type"] == refused_type and "3 requests per minute" in error["message"]
