"""Key pools: which key an attempt uses (weights, least in flight, limits, expiry), and a
401 taking a key out of the pool while the call goes on with another key, over real HTTP
to a fake OpenAI that accepts a given set of keys."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from switchboard.providers.openai import OpenAIProvider
from switchboard.registry import ProviderInstance, Registry
from switchboard.registry.keypool import KeyLedger, KeyPool, PoolKey
from switchboard.spec import AuthenticationError, ChatRequest, Message, RateLimitError, collect
from switchboard.spec.errors import MissingApiKeyError
from tests.fakes import openai as fake_openai
from tests.fakes.script import Received, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

REQUEST = ChatRequest(messages=[Message.user("hi")])
SECRETS = {1: "sk-pool-first-0000000000000001", 2: "sk-pool-second-000000000000002",
           3: "sk-pool-third-0000000000000003"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Events:
    def __init__(self) -> None:
        self.failed: list[str] = []
        self.expired: list[str] = []

    def key_failed(self, provider: str, key: PoolKey, error: AuthenticationError, *,
                   kept: bool) -> None:
        self.failed.append(key.label + (" (kept)" if kept else ""))

    def key_expired(self, provider: str, key: PoolKey) -> None:
        self.expired.append(key.label)


def key(key_id: int, **kw: object) -> PoolKey:
    secret = SECRETS.get(key_id, f"sk-pool-other-{key_id:016d}")
    return PoolKey(id=key_id, label=str(kw.pop("label", f"k{key_id}")),
                   open=lambda: SecretStr(secret), **kw)  # type: ignore[arg-type]


def pool(*keys: PoolKey, clock: Clock | None = None,
         events: Events | None = None) -> KeyPool:
    return KeyPool("oa", keys, ledger=KeyLedger(clock or Clock()), events=events or Events())


def test_weights_share_a_quiet_pool_exactly() -> None:
    p = pool(key(1, weight=3), key(2, weight=1))
    picks = []
    for _ in range(40):
        lease = p.acquire()
        picks.append(lease.key.id)
        lease.release()
    assert Counter(picks) == {1: 30, 2: 10}
    assert picks[:4].count(2) == 1  # interleaved, not thirty in a row then ten


def test_least_in_flight_relative_to_weight_wins() -> None:
    p = pool(key(1), key(2))
    held = p.acquire()  # a slow call holds key 1 (or 2)
    others = [p.acquire() for _ in range(3)]
    counts = Counter(lease.key.id for lease in [held, *others])
    assert counts == {1: 2, 2: 2}
    assert p.ledger.in_flight((1, 0.0)) == 2 and p.ledger.in_flight((2, 0.0)) == 2
    for lease in [held, *others]:
        lease.release()
        lease.release()  # idempotent
    assert p.ledger.in_flight((1, 0.0)) == p.ledger.in_flight((2, 0.0)) == 0


def test_disabled_failed_and_expired_keys_do_not_serve() -> None:
    clock, events = Clock(), Events()
    past = datetime.fromtimestamp(clock.now, UTC) - timedelta(seconds=1)
    p = pool(key(1, enabled=False), key(2, failed=True), key(3, expires_at=past), key(4),
             clock=clock, events=events)
    assert {p.acquire().key.id for _ in range(5)} == {4}
    assert events.expired == ["k3"]  # reported once, however often it is skipped


def test_a_key_expires_while_the_pool_lives() -> None:
    clock, events = Clock(), Events()
    soon = datetime.fromtimestamp(clock.now + 30, UTC)
    p = pool(key(1, expires_at=soon), clock=clock, events=events)
    p.acquire().release()
    clock.now += 31
    with pytest.raises(MissingApiKeyError, match="'k1' has expired"):
        p.acquire()
    assert events.expired == ["k1"]


def test_own_rpm_and_tpm_limits_skip_a_key_for_a_minute() -> None:
    clock = Clock()
    p = pool(key(1, rpm=2), key(2, tpm=100), clock=clock)
    used = []
    for _ in range(2):
        lease = p.acquire()
        used.append(lease.key.id)
        lease.record_tokens(60)
        lease.release()
    assert sorted(used) == [1, 2]
    for _ in range(2):  # key 1 has one request left; key 2 is at 60 of 100 tokens
        lease = p.acquire()
        lease.record_tokens(60)
        lease.release()
    with pytest.raises(RateLimitError) as full:  # 2 requests on key 1, 120 tokens on key 2
        p.acquire()
    assert full.value.retryable and full.value.retry_after == 60
    clock.now += 61
    assert p.acquire().key.id in (1, 2)


def test_the_last_serving_key_is_not_taken_out() -> None:
    events = Events()
    p = pool(key(1), key(2, enabled=False), events=events)
    for _ in range(2):
        lease = p.acquire()
        lease.fail(AuthenticationError("bad key", status=401))
        lease.release()
    assert events.failed == ["k1 (kept)"]
    assert p.acquire().key.id == 1


def test_a_reused_row_id_does_not_inherit_a_refusal() -> None:
    """SQLite gives a new row the id of the newest deleted one: a key added after a
    refused key was retired must serve (the ledger knows keys by id AND time stored)."""
    ledger = KeyLedger(Clock())
    then = datetime(2026, 1, 1, tzinfo=UTC)
    old = pool(key(7, set_at=then), key(8))
    old.ledger = ledger
    old.acquire().fail(AuthenticationError("bad key", status=401))
    new = pool(key(7, set_at=then + timedelta(days=30)))
    new.ledger = ledger
    assert new.acquire().key.id == 7


def test_every_key_refused_names_each_reason() -> None:
    p = pool(key(1, enabled=False, label="old"), key(2, failed=True, label="spare"))
    with pytest.raises(MissingApiKeyError) as info:
        p.check()
    assert "'old' is switched off" in str(info.value)
    assert "'spare' was refused by the provider" in str(info.value)
    assert "keys add oa" in str(info.value)


# -- over HTTP: the pool inside ResolvedModel -----------------------------------------


class Accepting:
    """A fake OpenAI that accepts the keys in ``accepted`` (changed by the test)."""

    def __init__(self, *accepted: str) -> None:
        self.accepted = set(accepted)
        self.used: list[str] = []

    def __call__(self, request: Received) -> str | None:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.used.append(sent)
        return None if sent in self.accepted else "Incorrect API key provided: " + sent


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, Accepting, str]]:
    accepting = Accepting(SECRETS[1], SECRETS[2])
    app = FakeVendor(fake_openai.Wire(), key_check=accepting)
    with serve_in_thread(app) as base:
        yield app, accepting, f"{base}/v1"


def registry_with(base: str, p: KeyPool) -> Registry:
    config = OpenAIProvider.Config(base_url=base, max_retries=0)
    return Registry([OpenAIProvider], [ProviderInstance("oa", "openai", config)],
                    pools={"oa": p})


async def test_401_takes_the_key_out_and_the_call_answers_with_another(
    vendor: tuple[FakeVendor, Accepting, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    app, accepting, base = vendor
    events = Events()
    p = pool(key(3, label="revoked"), key(1, label="good"), events=events)
    registry = registry_with(base, p)
    resolved = registry.resolve("oa:gpt-4o-mini")
    app.then(Reply(chunks=["Hel", "lo"]))
    result = collect([e async for e in resolved.stream(REQUEST)])
    assert result.text == "Hello" and result.error is None
    assert events.failed == ["revoked"]  # first pick (key 3) was refused, once
    assert resolved.key_label == "good" and resolved.key_id == 1
    assert accepting.used == [SECRETS[3], SECRETS[1]]
    # The refused key left the pool: later calls never send it again.
    for _ in range(3):
        app.then(Reply())
        again = registry.resolve("oa:gpt-4o-mini")
        assert (await again.generate(REQUEST)).text == "Hello, world!"
    assert accepting.used[2:] == [SECRETS[1]] * 3
    assert p.ledger.in_flight((1, 0.0)) == p.ledger.in_flight((3, 0.0)) == 0
    # Tokens were counted against the key that answered (12 in + 7 out per reply).
    assert p.ledger.state((1, 0.0)).token_total == 4 * 19


async def test_a_non_streaming_call_moves_to_another_key_after_a_401_too(
    vendor: tuple[FakeVendor, Accepting, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The non-streaming path (``_pooled_answer``, decision 0210): the same key
    handling as a stream's, the answer's tokens counted against the key that answered,
    no key left in flight."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    app, accepting, base = vendor
    events = Events()
    p = pool(key(3, label="revoked"), key(1, label="good"), events=events)
    resolved = registry_with(base, p).resolve("oa:gpt-4o-mini")
    app.then(Reply(chunks=["Hel", "lo"]))
    result = await resolved.generate(REQUEST)
    assert result.text == "Hello" and result.error is None
    assert events.failed == ["revoked"]
    assert resolved.key_label == "good" and resolved.key_id == 1
    assert accepting.used == [SECRETS[3], SECRETS[1]]
    assert p.ledger.in_flight((1, 0.0)) == p.ledger.in_flight((3, 0.0)) == 0
    assert p.ledger.state((1, 0.0)).token_total == 19
    assert p.ledger.state((3, 0.0)).token_total == 0


async def test_when_every_key_is_refused_the_vendors_401_is_the_answer(
    vendor: tuple[FakeVendor, Accepting, str]
) -> None:
    _, accepting, base = vendor
    accepting.accepted.clear()
    events = Events()
    registry = registry_with(base, pool(key(1), key(2), events=events))
    with pytest.raises(AuthenticationError, match="Incorrect API key") as info:
        [e async for e in registry.resolve("oa:gpt-4o-mini").stream(REQUEST)]
    assert SECRETS[1] not in str(info.value) and SECRETS[2] not in str(info.value)
    # The first refused key left; the last one stays (nothing to move the calls to):
    # each call gets the vendor's 401, as with one key, and it is reported once.
    assert events.failed == ["k1", "k2 (kept)"]
    with pytest.raises(AuthenticationError):
        [e async for e in registry.resolve("oa:gpt-4o-mini").stream(REQUEST)]
    assert accepting.used == [SECRETS[1], SECRETS[2], SECRETS[2]]
    assert events.failed == ["k1", "k2 (kept)"]


async def test_skip_key_keeps_a_key_out_of_one_call(
    vendor: tuple[FakeVendor, Accepting, str]
) -> None:
    app, accepting, base = vendor
    registry = registry_with(base, pool(key(1), key(2)))
    for _ in range(4):
        app.then(Reply())
        resolved = registry.resolve("oa:gpt-4o-mini")
        resolved.skip_key = lambda k: k.id == 1  # e.g. its breaker is open
        assert (await resolved.generate(REQUEST)).error is None
    assert accepting.used == [SECRETS[2]] * 4
