"""``/v1/chat/completions`` through the call pipeline, on a real server with the official
``openai`` SDK: fallbacks (``models``), admission refusals in OpenAI's 429 shapes, and
the policies' headers on every response."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import openai
import pytest

from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.metering import CallOutcome
from switchboard.services.policy import Admission, BudgetExceeded, RateLimited, Refused
from switchboard.services.providers import create_provider, update_provider
from tests.fakes import openai as openai_fake
from tests.fakes.script import Fail, Hold, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

USER = [{"role": "user", "content": "hello"}]
NOW = {"retry-after": "0"}


@dataclass
class Held:
    headers: Mapping[str, str]
    settled: list[CallOutcome | None] = field(default_factory=list)

    def settle(self, outcome: CallOutcome | None) -> None:
        self.settled.append(outcome)


@dataclass
class Limit:
    """A policy for tests: grants with a header, or refuses with ``refusal``."""

    refusal: Refused | None = None
    name: str = "limit"
    grants: list[Held] = field(default_factory=list)

    async def admit(self, admission: Admission) -> Held:
        if self.refusal is not None:
            raise self.refusal
        grant = Held({"x-ratelimit-remaining-requests": "9"})
        self.grants.append(grant)
        return grant


@dataclass
class Setup:
    server: Running
    oa: FakeVendor
    local: FakeVendor
    token: str

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.server.v1, api_key=self.token, max_retries=0,
                             _strict_response_validation=True)

    def policy(self, limit: Limit) -> Limit:
        self.server.app.state.sb.pipeline.admission[:] = [limit]
        return limit

    def raw(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.server.v1}/chat/completions", json=body, timeout=30,
                          headers={"authorization": f"Bearer {self.token}"})

    def usage_rows(self, count: int) -> list[tuple[object, ...]]:
        """The usage rows, once ``count`` of them are written (the recorder batches)."""
        deadline = time.monotonic() + 10
        while True:
            rows = self.server.query(
                "SELECT provider, status, source FROM usage_events ORDER BY id")
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.05)


@pytest.fixture
def setup() -> Iterator[Setup]:
    oa, local = FakeVendor(openai_fake.Wire()), FakeVendor(openai_fake.Wire())
    with running_server() as server, serve_in_thread(oa) as oa_url, \
            serve_in_thread(local) as local_url:
        async def configure() -> None:
            db = Database.from_url(server.settings.database_url, pooled=False)
            try:
                await update_provider(db, "openai", base_url=f"{oa_url}/v1", enabled=True)
                await set_provider_key(db, "openai", "sk-test-openai-0000000000001234")
                await create_provider(db, name="local", kind="openai_compatible",
                                      base_url=f"{local_url}/v1",
                                      settings={"requires_api_key": False})
            finally:
                await db.dispose()

        asyncio.run(configure())
        yield Setup(server, oa, local, server.make_user("pipeline-user"))


def test_models_falls_back_after_a_503_and_names_who_answered(setup: Setup) -> None:
    setup.oa.then(*[Fail(503, "overloaded", headers=NOW)] * 3)  # 1 try + 2 retries
    setup.local.then(Reply(chunks=["from ", "local"]))
    raw = setup.client().chat.completions.with_raw_response.create(
        model="openai:gpt-4o-mini", messages=USER,  # type: ignore[arg-type]
        extra_body={"models": ["local:llama3"]})
    reply = raw.parse()
    assert reply.choices[0].message.content == "from local"
    assert reply.model == "local:llama3"
    assert raw.headers["x-switchboard-model"] == "local:llama3"
    assert "answered by local:llama3 after openai:gpt-4o-mini" in raw.headers[
        "x-switchboard-warnings"]
    assert len(setup.oa.chat_requests()) == 3
    # One usage row per upstream attempt (the retries are inside one attempt).
    assert setup.usage_rows(2) == [("openai", "error", "api"), ("local", "ok", "api")]


def test_models_falls_back_on_a_stream_too(setup: Setup) -> None:
    setup.oa.then(*[Fail(503, headers=NOW)] * 3)
    setup.local.then(Reply(chunks=["str", "eam"]))
    with setup.client().chat.completions.with_streaming_response.create(
            model="openai:gpt-4o-mini", messages=USER, stream=True,  # type: ignore[arg-type]
            extra_body={"models": ["local:llama3"]}) as response:
        assert response.headers["x-switchboard-model"] == "local:llama3"
        chunks = list(response.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "stream"
    assert {c.model for c in chunks} == {"local:llama3"}


def test_models_is_bounded(setup: Setup) -> None:
    too_many = setup.raw({"model": "openai:gpt-4o-mini", "messages": USER,
                          "models": [f"local:m{i}" for i in range(6)]})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["param"] == "models"
    not_a_ref = setup.raw({"model": "openai:gpt-4o-mini", "messages": USER,
                           "models": [""]})
    assert not_a_ref.status_code == 400
    not_strings = setup.raw({"model": "openai:gpt-4o-mini", "messages": USER,
                             "models": [{"model": "x"}]})
    assert not_strings.status_code == 400
    assert setup.oa.chat_requests() == []


def test_a_rate_limit_refusal_is_openais_429(setup: Setup) -> None:
    setup.policy(Limit(RateLimited("Rate limit reached: 10 requests per minute",
                                   retry_after=6.2,
                                   headers={"x-ratelimit-remaining-requests": "0"})))
    with pytest.raises(openai.RateLimitError) as info:
        setup.client().chat.completions.create(model="offline:offline-chat", messages=USER)
    response = info.value.response
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert info.value.code == "rate_limit_exceeded"
    assert isinstance(info.value.body, dict) and info.value.body["type"] == "requests"
    assert "10 requests per minute" in info.value.message


def test_a_budget_refusal_is_insufficient_quota(setup: Setup) -> None:
    setup.policy(Limit(BudgetExceeded("Your monthly budget of $5.00 is spent; it resets "
                                      "on 1 January")))
    with pytest.raises(openai.RateLimitError) as info:
        setup.client().chat.completions.create(model="offline:offline-chat", messages=USER,
                                               stream=True)
    assert info.value.code == "insufficient_quota"
    assert isinstance(info.value.body, dict) and info.value.body["type"] == "insufficient_quota"
    assert info.value.response.headers["x-should-retry"] == "false"


def test_grant_headers_are_on_every_response_and_grants_are_settled(setup: Setup) -> None:
    limit = setup.policy(Limit())
    raw = setup.client().chat.completions.with_raw_response.create(
        model="offline:offline-chat", messages=USER, n=2)
    assert raw.headers["x-ratelimit-remaining-requests"] == "9"
    assert len(raw.parse().choices) == 2
    with setup.client().chat.completions.with_streaming_response.create(
            model="offline:offline-chat", messages=USER, stream=True) as response:
        assert response.headers["x-ratelimit-remaining-requests"] == "9"
        list(response.parse())
    deadline = time.monotonic() + 10
    while any(not g.settled for g in limit.grants) and time.monotonic() < deadline:
        time.sleep(0.02)  # the stream's end is settled in the server's thread
    assert len(limit.grants) == 2  # n=2 was admitted once
    assert [len(g.settled) for g in limit.grants] == [1, 1]


def test_a_call_failing_after_admission_still_carries_the_grant_headers(
        setup: Setup) -> None:
    """Every model failed (the vendor's 503, retried): the error response carries the
    grants' ``x-ratelimit-*`` as a success would (OpenAI sends them on every response),
    streamed or not, on /v1/messages too; each grant is settled once."""
    limit = setup.policy(Limit())
    setup.oa.then(*[Fail(503, "overloaded", headers=NOW)] * 9)  # 3 calls, 1 try + 2 retries
    with pytest.raises(openai.APIStatusError) as info:
        setup.client().chat.completions.create(model="openai:gpt-4o-mini", messages=USER)
    assert info.value.status_code == 502  # the vendor failed: a bad gateway
    assert info.value.response.headers["x-ratelimit-remaining-requests"] == "9"
    with pytest.raises(openai.APIStatusError) as info:
        setup.client().chat.completions.create(model="openai:gpt-4o-mini", messages=USER,
                                               stream=True)
    assert info.value.response.headers["x-ratelimit-remaining-requests"] == "9"
    messages = httpx.post(f"{setup.server.v1}/messages", timeout=30,
                          headers={"authorization": f"Bearer {setup.token}"},
                          json={"model": "openai:gpt-4o-mini", "messages": USER,
                                "max_tokens": 50})
    assert messages.status_code >= 500
    assert messages.json()["type"] == "error"
    assert messages.headers["x-ratelimit-remaining-requests"] == "9"
    assert len(setup.oa.chat_requests()) == 9
    assert [len(g.settled) for g in limit.grants] == [1, 1, 1]


def test_n_to_openai_is_admitted_and_settled_once_with_the_vendors_usage(
        setup: Setup) -> None:
    """``n`` forwarded to OpenAI (decision 0084): one admission, one settlement, and the
    outcome the policies see holds what the vendor billed (choice 0's usage plus the
    other choices' zeros), for a stream too."""
    limit = setup.policy(Limit())
    setup.oa.then(Reply(input_tokens=11, output_tokens=3), Reply(input_tokens=11,
                                                                 output_tokens=3))
    reply = setup.client().chat.completions.create(model="openai:gpt-4o-mini",
                                                   messages=USER, n=2)
    assert [c.index for c in reply.choices] == [0, 1]
    with setup.client().chat.completions.with_streaming_response.create(
            model="openai:gpt-4o-mini", messages=USER, n=2, stream=True) as response:
        list(response.parse())
    deadline = time.monotonic() + 10
    while any(not g.settled for g in limit.grants) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(limit.grants) == 2 and len(setup.oa.chat_requests()) == 2
    for grant in limit.grants:
        (outcome,) = grant.settled
        assert outcome is not None
        usage = outcome.result.usage
        assert (usage.input_tokens, usage.output_tokens) == (11, 6)  # 3 per choice


def test_a_silent_model_gets_keep_alive_comments(setup: Setup) -> None:
    setup.server.app.state.sb.settings = replace(setup.server.app.state.sb.settings,
                                                 sse_keep_alive=0.05)
    hold = Hold(Reply(chunks=["slow ", "thought"]), after=1)
    setup.oa.then(hold)
    body = {"model": "openai:gpt-4o-mini", "messages": USER, "stream": True}
    with httpx.stream("POST", f"{setup.server.v1}/chat/completions", json=body, timeout=30,
                      headers={"authorization": f"Bearer {setup.token}"}) as response:
        lines = response.iter_lines()
        for line in lines:
            if line == ": keep-alive":
                break
        hold.release.set()
        rest = list(lines)
    assert "data: [DONE]" in rest
    assert any(line.startswith("data: {") for line in rest)  # the answer went on


@pytest.mark.parametrize(("path", "body", "last"), [
    ("/messages", {"max_tokens": 50}, "event: message_stop"),
    ("/responses", {}, "event: response.completed"),
])
def test_the_other_wires_get_keep_alive_comments_too(setup: Setup, path: str,
                                                      body: dict[str, Any],
                                                      last: str) -> None:
    """``/v1/messages`` and ``/v1/responses`` stream through ``EventStream`` as well: a
    model that goes silent after its first chunk gets comments, and the answer goes on."""
    setup.server.app.state.sb.settings = replace(setup.server.app.state.sb.settings,
                                                 sse_keep_alive=0.05)
    hold = Hold(Reply(chunks=["slow ", "thought"]), after=1)
    setup.oa.then(hold)
    body = {"model": "openai:gpt-4o-mini", "messages": USER, "stream": True, **body}
    if path == "/responses":
        body["input"] = body.pop("messages")
    with httpx.stream("POST", f"{setup.server.v1}{path}", json=body, timeout=30,
                      headers={"authorization": f"Bearer {setup.token}"}) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        for line in lines:
            if line == ": keep-alive":
                break
        hold.release.set()
        rest = list(lines)
    assert last in rest
    assert not any(line.startswith("event: error") for line in rest)
