"""The web chat's answers through the call pipeline, on a real server: per-request
fallbacks (saved with the answer), admission refusals as a 429 with a sentence, the
usage rows of every attempt, and SSE keep-alive comments while the model is silent."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

import pytest

from switchboard.config import load_settings
from switchboard.services.metering import CallOutcome
from switchboard.services.policy import Admission, BudgetExceeded, RateLimited
from tests.api.chat_support import add_provider, client, stream_chat, wait_for
from tests.fakes import openai as openai_fake
from tests.fakes.script import Fail, Hold, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

NOW = {"retry-after": "0"}


@dataclass
class Held:
    headers: Mapping[str, str]
    settled: list[CallOutcome | None] = field(default_factory=list)

    def settle(self, outcome: CallOutcome | None) -> None:
        self.settled.append(outcome)


@dataclass
class Limit:
    refuse: bool = False
    name: str = "limit"
    grants: list[Held] = field(default_factory=list)

    async def admit(self, admission: Admission) -> Held:
        if self.refuse:
            raise RateLimited("you have sent 10 messages this minute, the most allowed; "
                              "wait 42 seconds", retry_after=41.5)
        grant = Held({})
        self.grants.append(grant)
        return grant


@dataclass
class Setup:
    server: Running
    first: FakeVendor
    second: FakeVendor
    refs: tuple[str, str]
    token: str


@pytest.fixture
def setup() -> Iterator[Setup]:
    first, second = FakeVendor(openai_fake.Wire()), FakeVendor(openai_fake.Wire())
    settings = replace(load_settings(), sse_keep_alive=0.05)
    with running_server(settings) as server, serve_in_thread(first) as first_url, \
            serve_in_thread(second) as second_url:
        refs = (add_provider(server, "first", "openai", f"{first_url}/v1", "gpt-4o-mini"),
                add_provider(server, "second", "openai", f"{second_url}/v1", "gpt-4o"))
        yield Setup(server, first, second, refs, server.make_user("chatter"))


def test_a_fallback_answers_and_the_answer_says_which_failed(setup: Setup) -> None:
    primary, fallback = setup.refs
    setup.first.then(Fail(503, "overloaded", headers=NOW))
    setup.second.then(Reply(chunks=["from ", "the fallback"]))
    with client(setup.server, setup.token) as http:
        events = stream_chat(http, {"text": "hi", "model": primary, "fallbacks": [fallback]})
    start = dict(events)["start"]
    assert start["model"] == fallback
    assert any(f"answered by {fallback} after {primary}" in w for w in start["warnings"])
    done = dict(events)["done"]["message"]
    assert done["text"] == "from the fallback"
    assert done["provider"] == "second" and done["failed_models"] == [
        {"ref": primary, "code": "overloaded"}]
    rows = wait_for(setup.server, "SELECT provider, status, source FROM usage_events "
                    "ORDER BY id", lambda r: len(r) >= 2)
    assert rows == [("first", "error", "chat"), ("second", "ok", "chat")]


def test_fallbacks_are_bounded_and_must_be_models(setup: Setup) -> None:
    primary, _ = setup.refs
    with client(setup.server, setup.token) as http:
        too_many = http.post("/api/chat", json={"text": "hi", "model": primary,
                                                "fallbacks": [primary] * 6})
        unknown = http.post("/api/chat", json={"text": "hi", "model": primary,
                                               "fallbacks": ["nope:nothing"]})
    assert too_many.status_code == 422
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "fallbacks"
    assert setup.first.chat_requests() == []


def test_a_refusal_is_a_429_that_says_which_limit(setup: Setup) -> None:
    primary, _ = setup.refs
    setup.server.app.state.sb.pipeline.admission[:] = [Limit(refuse=True)]
    with client(setup.server, setup.token) as http:
        refused = http.post("/api/chat/stream", json={"text": "hi", "model": primary})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "42"
    body = refused.json()["error"]
    assert body["code"] == "rate_limit_exceeded"
    assert "10 messages this minute" in body["message"]
    assert setup.first.chat_requests() == []  # no upstream byte


def test_non_streaming_chat_settles_its_grant_once(setup: Setup) -> None:
    primary, _ = setup.refs
    limit = Limit()
    setup.server.app.state.sb.pipeline.admission[:] = [limit]
    setup.first.then(Reply(chunks=["ok"]))
    with client(setup.server, setup.token) as http:
        answered = http.post("/api/chat", json={"text": "hi", "model": primary})
    assert answered.status_code == 200, answered.text
    [grant] = limit.grants
    assert len(grant.settled) == 1 and grant.settled[0] is not None


def test_a_silent_model_gets_keep_alive_comments(setup: Setup) -> None:
    primary, _ = setup.refs
    hold = Hold(Reply(chunks=["think", "ing", " done"]), after=1)
    setup.first.then(hold)
    with client(setup.server, setup.token) as http, http.stream(
            "POST", "/api/chat/stream", json={"text": "hi", "model": primary}) as response:
        lines = response.iter_lines()
        seen: list[str] = []
        for line in lines:
            seen.append(line)
            if line == ": keep-alive":
                break
        hold.release.set()  # the model speaks again
        events = [line.removeprefix("event: ") for line in lines
                  if line.startswith("event: ")]
    assert "event: delta" in seen  # the model had started, then fell silent
    assert events[-1] in ("done", "title") and "done" in events


@dataclass
class Budget:
    """A hard budget that the first call spends: later calls are refused."""

    admitted: list[Admission] = field(default_factory=list)
    spent_after: int = 1
    name: str = "budget"

    async def admit(self, admission: Admission) -> Held:
        if len(self.admitted) >= self.spent_after:
            raise BudgetExceeded("Your monthly budget of $1.00 is spent")
        self.admitted.append(admission)
        return Held({})


def _titled(setup: Setup, budget: Budget) -> list[tuple[str, dict[str, object]]]:
    primary, _ = setup.refs
    state = setup.server.app.state.sb
    state.settings = replace(state.settings, auto_titles=True)
    state.pipeline.admission[:] = [budget]
    with client(setup.server, setup.token) as http:
        return stream_chat(http, {"text": "when should i plant tomatoes", "model": primary})


def test_the_title_goes_through_the_pipeline_and_is_metered_once(setup: Setup) -> None:
    setup.first.then(Reply(chunks=["Plant in May."]), Reply(chunks=["Planting tomatoes"]))
    budget = Budget(spent_after=2)
    events = _titled(setup, budget)
    assert events[-1][0] == "title" and events[-1][1]["title"] == "Planting tomatoes"
    answer, title = budget.admitted  # the title was admitted like the answer
    assert (title.spec.surface, title.spec.principal.user_id) == (
        "chat", answer.spec.principal.user_id)
    assert title.max_output_tokens == 30 and not title.spec.stream
    rows = wait_for(setup.server, "SELECT provider, status, source, user_id FROM "
                    "usage_events ORDER BY id", lambda r: len(r) >= 2)
    assert [r[:3] for r in rows] == [("first", "ok", "chat")] * 2  # one row per call
    assert rows[0][3] == rows[1][3] is not None


def test_a_spent_budget_skips_the_title_not_the_answer(setup: Setup) -> None:
    setup.first.then(Reply(chunks=["Plant in May."]))
    events = _titled(setup, Budget(spent_after=1))
    names = [name for name, _ in events]
    assert names[-1] == "done" and "error" not in names and "title" not in names
    done = dict(events)["done"]
    assert done["message"]["text"] == "Plant in May."  # type: ignore[index]
    assert done["conversation"]["title"] == "when should i plant tomatoes"  # type: ignore[index]
    assert len(setup.first.chat_requests()) == 1  # no title call reached the vendor
