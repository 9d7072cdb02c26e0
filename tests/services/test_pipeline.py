"""The call pipeline over real HTTP (fake vendors on loopback): admission, routing with
fallbacks, metering, and every grant settled exactly once however the call ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pytest

from switchboard.providers.openai import OpenAIProvider
from switchboard.registry import ProviderInstance, Registry
from switchboard.services.metering import CallOutcome
from switchboard.services.pipeline import OpenCall, Pipeline, SequentialRouter
from switchboard.services.policy import Admission, CallSpec, RateLimited
from switchboard.services.principal import Principal
from switchboard.spec import (
    ChatRequest,
    Collector,
    ContextLengthError,
    ErrorEvent,
    Finish,
    Message,
    OverloadedError,
    ServerError,
    StreamEvent,
    TextDelta,
    result_events,
)
from tests.fakes import openai as fake_openai
from tests.fakes.script import Break, Fail, Reply, Slow
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

KEY = "sk-pipeline-test-0123456789"
WHO = Principal(user_id=7, username="ada", role="member", token_id=3)
HI = ChatRequest(messages=[Message.user("hi")])
NOW = {"retry-after": "0"}


# -- a policy that records what it was asked and how its grants were settled --------------------

@dataclass
class Held:
    headers: Mapping[str, str]
    settled: list[CallOutcome | None] = field(default_factory=list)

    def settle(self, outcome: CallOutcome | None) -> None:
        self.settled.append(outcome)


@dataclass
class Recording:
    name: str = "recording"
    refuse: bool = False
    admitted: list[Admission] = field(default_factory=list)
    grants: list[Held] = field(default_factory=list)

    async def admit(self, admission: Admission) -> Held:
        self.admitted.append(admission)
        if self.refuse:
            raise RateLimited("10 requests per minute reached", retry_after=7,
                              headers={"x-ratelimit-remaining-requests": "0"})
        grant = Held({f"x-{self.name}": "granted"})
        self.grants.append(grant)
        return grant


@dataclass
class Vendors:
    a: FakeVendor
    b: FakeVendor
    registry: Registry
    rows: list[tuple[str, CallOutcome]] = field(default_factory=list)

    def pipeline(self, *policies: Recording) -> Pipeline:
        async def source() -> Registry:
            return self.registry

        def record(spec: CallSpec, outcome: CallOutcome) -> None:
            self.rows.append((spec.surface, outcome))

        return Pipeline(source, list(policies), SequentialRouter(), record)


@pytest.fixture
def vendors() -> Iterator[Vendors]:
    a, b = FakeVendor(fake_openai.Wire()), FakeVendor(fake_openai.Wire())
    with serve_in_thread(a) as base_a, serve_in_thread(b) as base_b:
        instances = [ProviderInstance(name, "openai", OpenAIProvider.Config(
            base_url=f"{base}/v1", api_key=KEY, max_retries=0))
            for name, base in (("a", base_a), ("b", base_b))]
        yield Vendors(a, b, Registry([OpenAIProvider], instances))


def spec(model: str = "a:gpt-4o-mini", fallbacks: list[str] | None = None,
         request: ChatRequest = HI) -> CallSpec:
    return CallSpec(WHO, "api", request, model, fallbacks or [])


async def drain(call: OpenCall) -> list[StreamEvent]:
    return [e async for e in call.events]


# -- streams ----------------------------------------------------------------------------------

async def test_a_finished_stream_settles_every_grant_once_with_its_outcome(
        vendors: Vendors) -> None:
    vendors.a.then(Reply(chunks=["Hel", "lo"]))
    first, second = Recording("one"), Recording("two")
    call = await vendors.pipeline(first, second).open(spec())
    assert call.model.ref == "a:gpt-4o-mini"
    assert call.headers == {"x-one": "granted", "x-two": "granted",
                            "x-switchboard-model": "a:gpt-4o-mini"}
    assert first.grants[0].settled == []  # not before the stream ends
    rest = await drain(call)
    assert isinstance(rest[-1], Finish)
    for policy in (first, second):
        [outcome] = policy.grants[0].settled
        assert outcome is not None and outcome.status == "ok"
        assert outcome.result.text == "Hello"
    assert first.admitted[0].model is call.model
    assert first.admitted[0].estimated_input_tokens > 0
    assert [(s, o.status) for s, o in vendors.rows] == [("api", "ok")]


async def test_a_stream_broken_midway_settles_once_with_the_partial_answer(
        vendors: Vendors) -> None:
    vendors.a.then(Break(Reply(chunks=["one ", "two ", "three"]), after=2))
    policy = Recording()
    call = await vendors.pipeline(policy).open(spec())
    rest = await drain(call)
    assert isinstance(rest[-1], ErrorEvent)
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.status == "partial"
    assert outcome.result.text == "one two "
    assert len(vendors.rows) == 1


async def test_a_client_gone_midway_settles_once(vendors: Vendors) -> None:
    vendors.a.then(Reply(chunks=["a", "b", "c", "d"]))
    policy = Recording()
    call = await vendors.pipeline(policy).open(spec())
    async for event in call.events:
        if isinstance(event, TextDelta):
            break
    await call.aclose()
    await call.aclose()  # closing twice settles nothing twice
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.reason == "client disconnected"
    assert len(vendors.rows) == 1


async def test_cancelled_before_the_first_byte_settles_once(vendors: Vendors) -> None:
    vendors.a.then(Slow(Reply(chunks=["late"]), delay=30))
    policy = Recording()
    opening = asyncio.ensure_future(vendors.pipeline(policy).open(spec()))
    for _ in range(1000):  # until the upstream call is in flight (another thread)
        if vendors.a.requests:
            break
        await asyncio.sleep(0.01)
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.status in ("error", "partial")
    assert len(vendors.rows) == 1


async def test_a_refusal_by_a_later_policy_settles_the_earlier_grants_with_none(
        vendors: Vendors) -> None:
    first, refusing, never = Recording("one"), Recording("two", refuse=True), Recording("3")
    with pytest.raises(RateLimited) as refused:
        await vendors.pipeline(first, refusing, never).open(spec())
    assert refused.value.retry_after == 7
    assert refused.value.headers == {"x-ratelimit-remaining-requests": "0"}
    assert first.grants[0].settled == [None]
    assert never.admitted == []
    assert vendors.a.requests == [] and vendors.rows == []  # no upstream byte


async def test_a_503_before_the_first_byte_falls_back_to_the_next_model(
        vendors: Vendors) -> None:
    vendors.a.then(Fail(503, "overloaded", headers=NOW))
    vendors.b.then(Reply(chunks=["from ", "b"]))
    policy = Recording()
    call = await vendors.pipeline(policy).open(spec(fallbacks=["b:gpt-4o"]))
    await drain(call)
    assert call.model.ref == "b:gpt-4o"
    assert call.headers["x-switchboard-model"] == "b:gpt-4o"
    assert [(ref, type(error)) for ref, error in call.failed] == [
        ("a:gpt-4o-mini", OverloadedError)]
    assert any("answered by b:gpt-4o after a:gpt-4o-mini" in w.message
               for w in call.warnings)
    # One usage row per upstream attempt; the grant sees the answer, once.
    assert [(o.provider, o.status) for _, o in vendors.rows] == [("a", "error"), ("b", "ok")]
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.provider == "b" and outcome.status == "ok"
    assert len(policy.admitted) == 1  # admitted once, priced at the first model
    assert policy.admitted[0].model is not None
    assert policy.admitted[0].model.ref == "a:gpt-4o-mini"


async def test_a_context_length_error_falls_back(vendors: Vendors) -> None:
    vendors.a.then(Fail(400, "This model's maximum context length is 8192 tokens",
                        code="context_length_exceeded"))
    vendors.b.then(Reply(chunks=["long"]))
    call = await vendors.pipeline().open(spec(fallbacks=["b:gpt-4o"]))
    await drain(call)
    assert call.model.ref == "b:gpt-4o"
    assert isinstance(call.failed[0][1], ContextLengthError)


async def test_what_is_not_retryable_does_not_fall_back(vendors: Vendors) -> None:
    vendors.a.then(Fail(400, "bad request"))
    policy = Recording()
    with pytest.raises(Exception) as failed:
        await vendors.pipeline(policy).open(spec(fallbacks=["b:gpt-4o"]))
    assert failed.value.__class__.__name__ == "BadRequestError"
    assert vendors.b.requests == []
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.status == "error"


async def test_when_every_model_fails_the_last_error_is_raised_and_settled_once(
        vendors: Vendors) -> None:
    vendors.a.then(Fail(503, headers=NOW))
    vendors.b.then(Fail(500, "b is down", headers=NOW))
    policy = Recording()
    with pytest.raises(ServerError, match="b is down"):
        await vendors.pipeline(policy).open(spec(fallbacks=["b:gpt-4o"]))
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.provider == "b"
    assert len(vendors.rows) == 2


# -- non-streaming ----------------------------------------------------------------------------

async def test_complete_folds_the_answer_once(vendors: Vendors,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    reply = Reply(chunks=["Hi", " there"])
    vendors.a.then(reply)
    folds: dict[int, int] = {}  # collector -> events it folded
    original = Collector.add

    def counting(self: Collector, event: object) -> None:
        folds[id(self)] = folds.get(id(self), 0) + 1
        original(self, event)  # type: ignore[arg-type]

    monkeypatch.setattr(Collector, "add", counting)
    policy = Recording()
    done = await vendors.pipeline(policy).complete(spec())
    assert done.result.text == "Hi there"
    assert done.headers["x-switchboard-model"] == "a:gpt-4o-mini"
    # The adapter's answer, as events (``ChatModel.generate_events``, decision 0210), goes
    # through the retry layer and metering and is folded ONCE, by metering's collector
    # (the adapter used to fold it into a ChatResult that was replayed, and
    # metered_generate folded it once more).
    assert list(folds.values()) == [len(result_events(done.result))]
    assert [r.body.get("stream") for r in vendors.a.chat_requests()] == [None]
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.status == "ok"
    assert len(vendors.rows) == 1


async def test_complete_falls_back_on_a_503(vendors: Vendors) -> None:
    vendors.a.then(Fail(503, headers=NOW))
    vendors.b.then(Reply(chunks=["b"]))
    policy = Recording()
    done = await vendors.pipeline(policy).complete(spec(fallbacks=["b:gpt-4o"]))
    assert done.model.ref == "b:gpt-4o" and done.result.text == "b"
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.provider == "b"
    assert [o.status for _, o in vendors.rows] == ["error", "ok"]


async def test_complete_with_later_accounts_only_when_the_surface_runs_it(
        vendors: Vendors) -> None:
    """``later`` (the ``/v1`` JSON path): the answer comes back with nothing accounted
    yet; running the list records the row and settles every grant once, in the order
    the call made them (the fallback's row first)."""
    vendors.a.then(Fail(503, headers=NOW))
    vendors.b.then(Reply(chunks=["b"]))
    policy = Recording()
    later: list[Callable[[], None]] = []
    [done] = await vendors.pipeline(policy).complete_n(spec(fallbacks=["b:gpt-4o"]), 1,
                                                       later=later)
    assert done.result.text == "b" and done.headers["x-recording"] == "granted"
    assert vendors.rows == [] and policy.grants[0].settled == []
    for work in later:
        work()
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.provider == "b" and outcome.status == "ok"
    assert [o.status for _, o in vendors.rows] == ["error", "ok"]


async def test_a_failed_call_with_later_settles_once_when_run(vendors: Vendors) -> None:
    vendors.a.then(Fail(400))
    policy = Recording()
    later: list[Callable[[], None]] = []
    with pytest.raises(Exception) as raised:
        await vendors.pipeline(policy).complete_n(spec(), 1, later=later)
    assert raised.value.call_headers == {"x-recording": "granted"}  # type: ignore[attr-defined]
    assert policy.grants[0].settled == [] and vendors.rows == []
    for work in later:
        work()
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.status == "error"
    assert [o.status for _, o in vendors.rows] == ["error"]


async def test_n_choices_are_admitted_once_and_settled_once_summed(vendors: Vendors) -> None:
    """The ``openai`` kind takes ``n`` itself (decision 0084): one vendor call, n rows
    (the vendor's usage on choice 0, zeros on the other), one settlement of the sum."""
    vendors.a.then(Reply(chunks=["x"], output_tokens=5))
    policy = Recording()
    done = await vendors.pipeline(policy).complete_n(spec(), 2)
    assert [d.result.text for d in done] == ["x (0)", "x (1)"]
    assert [r.body["n"] for r in vendors.a.chat_requests()] == [2]
    assert len(policy.admitted) == 1 and len(policy.grants) == 1
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.result.usage.output_tokens == 10  # 5 per choice
    assert sorted(o.result.usage.output_tokens or 0 for _, o in vendors.rows) == [0, 10]


async def test_n_to_openai_falls_back_as_one_call_on_a_503(vendors: Vendors) -> None:
    """The one call carrying ``n`` is routed like any call: the next candidate gets it
    whole (``n`` again, one request), and the grants are settled once, by the answer."""
    vendors.a.then(Fail(503, headers=NOW))
    vendors.b.then(Reply(chunks=["b"], output_tokens=2))
    policy = Recording()
    calls = await vendors.pipeline(policy).open_n(spec(fallbacks=["b:gpt-4o"]), 2)
    texts = ["".join(e.text for e in await drain(c) if isinstance(e, TextDelta))
             for c in calls]
    assert texts == ["b (0)", "b (1)"] and {c.model.ref for c in calls} == {"b:gpt-4o"}
    assert [r.body["n"] for r in vendors.a.chat_requests() + vendors.b.chat_requests()] \
        == [2, 2]
    [outcome] = policy.grants[0].settled
    assert outcome is not None and outcome.provider == "b"
    assert outcome.result.usage.output_tokens == 4
    assert sorted(o.status for _, o in vendors.rows) == ["error", "ok", "ok"]


async def test_n_streams_settle_once_when_the_last_one_ends(vendors: Vendors) -> None:
    vendors.a.then(Reply(chunks=["x"]), Reply(chunks=["y"]))
    policy = Recording()
    calls = await vendors.pipeline(policy).open_n(spec(), 2)
    await drain(calls[0])
    assert policy.grants[0].settled == []
    await drain(calls[1])
    assert len(policy.grants[0].settled) == 1


async def test_an_unknown_fallback_is_refused_before_any_upstream_call(
        vendors: Vendors) -> None:
    policy = Recording()
    with pytest.raises(Exception, match="nope"):
        await vendors.pipeline(policy).open(spec(fallbacks=["nope:x"]))
    assert vendors.a.requests == [] and policy.admitted == []
