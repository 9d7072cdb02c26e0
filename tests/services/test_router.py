"""The fallback router (services.router) through the real pipeline, against vendor-shaped
fakes on loopback that fail on cue: a 503, a 429 with Retry-After, a hang past the
first-byte deadline, a context-length error; breakers on a clock the test turns."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pydantic import SecretStr

from switchboard.providers.anthropic import AnthropicProvider
from switchboard.providers.openai import OpenAIProvider
from switchboard.registry import ProviderInstance, Registry
from switchboard.registry.keypool import KeyLedger, KeyPool, PoolKey
from switchboard.services.breakers import BreakerPolicy, Breakers, State
from switchboard.services.metering import CallOutcome
from switchboard.services.pipeline import OpenCall, Pipeline
from switchboard.services.policy import CallSpec
from switchboard.services.principal import Principal
from switchboard.services.router import BreakerOpen, FallbackRouter, RouterSettings
from switchboard.spec import (
    BadRequestError,
    ChatRequest,
    Finish,
    Message,
    ModelInfo,
    StreamEvent,
    collect,
)
from tests.fakes import anthropic as fake_anthropic
from tests.fakes import openai as fake_openai
from tests.fakes.script import Fail, Hang, Received, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

KEY = "sk-router-test-0123456789"
WHO = Principal(user_id=7, username="ada", role="member", token_id=3)
HI = ChatRequest(messages=[Message.user("hi")])
OVERLOADED = Fail(503, "The server is overloaded", error_type="server_error")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Vendors:
    a: FakeVendor
    b: FakeVendor
    c: FakeVendor
    urls: dict[str, str]
    clock: Clock = field(default_factory=Clock)
    rows: list[CallOutcome] = field(default_factory=list)

    def registry(self, chains: dict[str, tuple[str, ...]] | None = None,
                 windows: dict[str, int] | None = None, retries: int = 2) -> Registry:
        windows = windows or {}
        chains = chains or {}

        def models(name: str, model_id: str) -> dict[str, ModelInfo]:
            return {model_id: ModelInfo(model_id, context_window=windows.get(name))}

        return Registry([OpenAIProvider, AnthropicProvider], [
            ProviderInstance("a", "openai", OpenAIProvider.Config(
                base_url=self.urls["a"], api_key=KEY, max_retries=retries),
                models=models("a", "gpt-4o"), fallbacks={"gpt-4o": chains.get("a", ())}),
            ProviderInstance("b", "anthropic", AnthropicProvider.Config(
                base_url=self.urls["b"], api_key=KEY, max_retries=retries),
                models=models("b", "claude-sonnet-4-5")),
            ProviderInstance("c", "openai", OpenAIProvider.Config(
                base_url=self.urls["c"], api_key=KEY, max_retries=retries),
                models=models("c", "gpt-4.1")),
        ])

    def pipeline(self, registry: Registry, *, breakers: Breakers | None = None,
                 deadline: float = 30.0) -> Pipeline:
        async def source() -> Registry:
            return registry

        def record(spec: CallSpec, outcome: CallOutcome) -> None:
            self.rows.append(outcome)

        router = FallbackRouter(breakers or Breakers(clock=self.clock),
                                RouterSettings(first_byte_deadline=deadline))
        return Pipeline(source, [], router, record)


@pytest.fixture
def vendors() -> Iterator[Vendors]:
    a = FakeVendor(fake_openai.Wire())
    b = FakeVendor(fake_anthropic.Wire())
    c = FakeVendor(fake_openai.Wire())
    with serve_in_thread(a) as ua, serve_in_thread(b) as ub, serve_in_thread(c) as uc:
        yield Vendors(a, b, c, {"a": f"{ua}/v1", "b": ub, "c": f"{uc}/v1"})


def spec(fallbacks: list[str] | None = None, model: str = "a:gpt-4o",
         stream: bool = True) -> CallSpec:
    return CallSpec(WHO, "api", HI, model, fallbacks or [], stream=stream)


async def answer(call: OpenCall) -> str:
    events: list[StreamEvent] = [call.first, *[e async for e in call.events]]
    assert isinstance(events[-1], Finish)
    return collect(events).text


def failed(call: OpenCall) -> list[tuple[str, str]]:
    return [(ref, error.code) for ref, error in call.failed]


async def test_a_503_fails_over_without_a_stack_of_retries(vendors: Vendors) -> None:
    vendors.a.then(OVERLOADED, OVERLOADED, OVERLOADED)
    vendors.b.then(Reply(chunks=["from ", "b"]))
    call = await vendors.pipeline(vendors.registry()).open(
        spec(["b:claude-sonnet-4-5"]))
    assert call.model.ref == "b:claude-sonnet-4-5"
    assert await answer(call) == "from b"
    assert failed(call) == [("a:gpt-4o", "overloaded")]
    # a had a successor: at most the retry budget (1 s) was spent retrying it
    assert len(vendors.a.chat_requests()) <= 2
    # one usage row per upstream attempt, naming the model that really answered
    assert [(r.provider, r.status) for r in vendors.rows] == [("a", "error"), ("b", "ok")]
    assert call.headers["x-switchboard-model"] == "b:claude-sonnet-4-5"


async def test_a_429_with_a_long_retry_after_fails_over_at_once(vendors: Vendors) -> None:
    vendors.a.then(Fail(429, "Rate limit reached", error_type="requests",
                        code="rate_limit_exceeded", headers={"retry-after": "20"}))
    call = await vendors.pipeline(vendors.registry()).open(spec(["c:gpt-4.1"]))
    assert call.model.ref == "c:gpt-4.1" and await answer(call)
    assert len(vendors.a.chat_requests()) == 1  # the 20 s were not waited for
    assert failed(call) == [("a:gpt-4o", "rate_limited")]


async def test_a_hang_past_the_first_byte_deadline_fails_over(vendors: Vendors) -> None:
    vendors.a.then(Hang(seconds=3.0))
    vendors.c.then(Reply(chunks=["on time"]))
    call = await vendors.pipeline(vendors.registry(), deadline=0.3).open(
        spec(["c:gpt-4.1"]))
    assert call.model.ref == "c:gpt-4.1" and await answer(call) == "on time"
    assert failed(call) == [("a:gpt-4o", "timeout")]
    assert "had not begun after 0.3 s" in call.failed[0][1].message


async def test_the_last_candidate_has_no_deadline(vendors: Vendors) -> None:
    vendors.a.then(Hang(seconds=0.6, then=Reply(chunks=["late but fine"])))
    call = await vendors.pipeline(vendors.registry(), deadline=0.2).open(spec())
    assert await answer(call) == "late but fine" and call.failed == []


async def test_non_streaming_calls_have_no_first_byte_deadline(vendors: Vendors) -> None:
    vendors.a.then(Hang(seconds=0.6, then=Reply(chunks=["whole answer"])))
    done = await vendors.pipeline(vendors.registry(), deadline=0.2).complete(
        spec(["c:gpt-4.1"], stream=False))
    assert done.model.ref == "a:gpt-4o" and done.result.text == "whole answer"


async def test_a_context_length_error_goes_to_a_larger_window(vendors: Vendors) -> None:
    vendors.a.then(Fail(400, "This model's maximum context length is 8192 tokens",
                        error_type="invalid_request_error", code="context_length_exceeded"))
    vendors.c.then(Reply(chunks=["big window"]))
    registry = vendors.registry(windows={"a": 8192, "b": 8192, "c": 1_000_000})
    call = await vendors.pipeline(registry).open(spec(["b:claude-sonnet-4-5", "c:gpt-4.1"]))
    assert call.model.ref == "c:gpt-4.1" and await answer(call) == "big window"
    assert vendors.b.chat_requests() == []  # as small as a's: not tried
    assert failed(call) == [("a:gpt-4o", "context_length_exceeded")]


async def test_catalog_chain_comes_after_the_requests_own(vendors: Vendors) -> None:
    registry = vendors.registry(chains={"a": ("c:gpt-4.1", "b:claude-sonnet-4-5")})
    router = FallbackRouter(Breakers())
    order = [m.ref for m in router.candidates(spec(["b:claude-sonnet-4-5"]), registry)]
    assert order == ["a:gpt-4o", "b:claude-sonnet-4-5", "c:gpt-4.1"]
    vendors.a.then(OVERLOADED, OVERLOADED, OVERLOADED)
    vendors.c.then(Reply(chunks=["from the catalog chain"]))
    call = await vendors.pipeline(registry).open(spec())
    assert call.model.ref == "c:gpt-4.1" and await answer(call) == "from the catalog chain"


async def test_a_stale_catalog_ref_is_skipped_a_bad_request_ref_is_refused(
        vendors: Vendors) -> None:
    registry = vendors.registry(chains={"a": ("gone:model", "c:gpt-4.1")})
    router = FallbackRouter(Breakers())
    assert [m.ref for m in router.candidates(spec(), registry)] == ["a:gpt-4o", "c:gpt-4.1"]
    with pytest.raises(Exception, match="unknown provider 'gone'"):
        router.candidates(spec(["gone:model"]), registry)


async def test_a_callers_mistake_does_not_fall_back(vendors: Vendors) -> None:
    vendors.a.then(Fail(400, "Invalid value for 'temperature'",
                        error_type="invalid_request_error"))
    with pytest.raises(BadRequestError):
        await vendors.pipeline(vendors.registry()).open(spec(["c:gpt-4.1"]))
    assert vendors.c.chat_requests() == []


async def test_an_open_breaker_routes_straight_to_the_fallback_then_probes_once(
        vendors: Vendors) -> None:
    clock = vendors.clock
    breakers = Breakers(BreakerPolicy(failure_threshold=2, cooldown=30), clock)
    pipeline = vendors.pipeline(vendors.registry(retries=0), breakers=breakers)
    vendors.a.then(OVERLOADED, OVERLOADED)
    for _ in range(2):
        call = await pipeline.open(spec(["c:gpt-4.1"]))
        await answer(call)
    assert breakers.get("a").state is State.OPEN
    assert breakers.get("a").last_error == "overloaded"

    call = await pipeline.open(spec(["c:gpt-4.1"]))
    await answer(call)
    assert len(vendors.a.chat_requests()) == 2  # skipped: no upstream call
    assert failed(call) == [("a:gpt-4o", "provider_paused")]

    clock.now += 30  # the cooldown is over: exactly one probe goes to a
    vendors.a.then(Reply(chunks=["a is back"]))
    call = await pipeline.open(spec(["c:gpt-4.1"]))
    assert call.model.ref == "a:gpt-4o" and await answer(call) == "a is back"
    assert breakers.get("a").state is State.CLOSED


async def test_an_open_breaker_on_the_last_candidate_fails_fast(vendors: Vendors) -> None:
    breakers = Breakers(BreakerPolicy(failure_threshold=1, cooldown=30), vendors.clock)
    pipeline = vendors.pipeline(vendors.registry(retries=0), breakers=breakers)
    vendors.a.then(OVERLOADED)
    with pytest.raises(Exception) as first:
        await pipeline.open(spec())
    assert getattr(first.value, "code", None) == "overloaded"
    with pytest.raises(BreakerOpen) as paused:
        await pipeline.open(spec())
    assert paused.value.retry_after == 30 and "paused after repeated failures" in (
        paused.value.message)
    assert len(vendors.a.chat_requests()) == 1


async def test_the_callers_mistakes_do_not_trip_a_breaker(vendors: Vendors) -> None:
    breakers = Breakers(BreakerPolicy(failure_threshold=1), vendors.clock)
    pipeline = vendors.pipeline(vendors.registry(retries=0), breakers=breakers)
    vendors.a.then(Fail(400, "bad", error_type="invalid_request_error"))
    with pytest.raises(BadRequestError):
        await pipeline.open(spec())
    assert breakers.get("a").state is State.CLOSED


async def test_a_caller_gone_during_a_hang_is_not_a_failover(vendors: Vendors) -> None:
    vendors.a.then(Hang(seconds=1.5))
    breakers = Breakers(BreakerPolicy(failure_threshold=1), vendors.clock)
    pipeline = vendors.pipeline(vendors.registry(), breakers=breakers, deadline=5.0)
    task = asyncio.create_task(pipeline.open(spec(["c:gpt-4.1"])))
    # The fake vendor runs in its own thread: poll for the request to reach it.
    while not vendors.a.chat_requests():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert vendors.c.chat_requests() == []  # no failover for a caller who left
    assert breakers.get("a").state is State.CLOSED  # and no failure counted


def _pooled(vendors: Vendors) -> Registry:
    """``a`` with a key pool of two keys (k1, k2); ``c`` as before."""
    keys = [PoolKey(id=i, label=f"k{i}", open=lambda i=i: SecretStr(f"sk-pool-{i}-0123456789"))
            for i in (1, 2)]
    base = vendors.registry(retries=0)
    instances = [i if i.name != "a" else dataclasses.replace(
        i, config=i.config.model_copy(update={"api_key": None})) for i in base]
    return Registry([OpenAIProvider, AnthropicProvider], instances,
                    pools={"a": KeyPool("a", keys, ledger=KeyLedger(vendors.clock))})


def key_used(request: Received) -> str:
    return request.headers["authorization"].removeprefix("Bearer sk-pool-")[0]


async def test_a_rate_limited_key_rests_alone_and_the_pool_serves_with_the_other(
        vendors: Vendors) -> None:
    breakers = Breakers(BreakerPolicy(failure_threshold=1, cooldown=30), vendors.clock)
    pipeline = vendors.pipeline(_pooled(vendors), breakers=breakers)
    vendors.a.then(Fail(429, "Rate limit reached for requests", error_type="requests",
                        code="rate_limit_exceeded", headers={"retry-after": "20"}))
    call = await pipeline.open(spec(["c:gpt-4.1"]))
    assert call.model.ref == "c:gpt-4.1" and await answer(call)
    tired = key_used(vendors.a.chat_requests()[0])
    assert breakers.get("a", tired).state is State.OPEN  # the key rests...
    assert breakers.get("a").state is State.CLOSED  # ...not the provider

    for _ in range(3):  # every call now goes to the other key, none to the tired one
        call = await pipeline.open(spec(["c:gpt-4.1"]))
        assert call.model.ref == "a:gpt-4o" and await answer(call)
    assert {key_used(r) for r in vendors.a.chat_requests()[1:]} == {"12".replace(tired, "")}

    other = "12".replace(tired, "")
    breakers.get("a", other).failure("rate_limited")  # both keys resting now
    call = await pipeline.open(spec(["c:gpt-4.1"]))
    assert call.model.ref == "c:gpt-4.1" and await answer(call)
    assert failed(call) == [("a:gpt-4o", "provider_paused")]
    assert len(vendors.a.chat_requests()) == 4  # no call with a resting key
    states = {s.key_id: s.state for s in breakers.of_provider("a")}
    assert states == {None: State.CLOSED, "1": State.OPEN, "2": State.OPEN}
