"""Circuit breakers (services.breakers): states, both opening rules, exactly one probe,
cooldown — on a clock the test turns (no sleeping)."""

from __future__ import annotations

import pytest

from switchboard.services.breakers import Breaker, BreakerPolicy, Breakers, State


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(**policy: float) -> tuple[Breaker, Clock]:
    clock = Clock()
    return Breaker(BreakerPolicy(**policy), clock), clock  # type: ignore[arg-type]


def test_consecutive_failures_open_it_and_it_refuses_until_the_cooldown() -> None:
    b, clock = breaker(failure_threshold=3, cooldown=30)
    for _ in range(2):
        assert b.allow()
        b.failure("HTTP 503")
    assert b.state is State.CLOSED
    assert b.allow()
    b.failure("HTTP 503")
    assert b.state is State.OPEN
    assert not b.allow()
    clock.now += 29.9
    assert not b.allow()
    assert b.snapshot("p", None).retry_in == pytest.approx(0.1)
    clock.now += 0.1
    assert b.allow()  # the probe
    assert b.state is State.HALF_OPEN


def test_a_success_resets_the_streak() -> None:
    b, _ = breaker(failure_threshold=3, minimum_requests=100)
    for _ in range(10):
        b.failure()
        b.failure()
        b.success()
    assert b.state is State.CLOSED


def test_failure_rate_over_a_minimum_of_requests_opens_it() -> None:
    b, clock = breaker(failure_threshold=100, failure_rate=0.5, minimum_requests=10,
                       window=60)
    for _ in range(4):  # 8 calls, 4 failed: under the minimum
        b.success()
        b.failure()
        clock.now += 1
    assert b.state is State.CLOSED
    b.success()
    b.failure()  # 10 calls, 5 failed: 50 %
    assert b.state is State.OPEN


def test_the_rate_forgets_calls_older_than_the_window() -> None:
    b, clock = breaker(failure_threshold=100, failure_rate=0.5, minimum_requests=10,
                       window=60)
    for _ in range(9):
        b.failure()
        b.success()
    clock.now += 61  # all of that is out of the window
    for _ in range(9):
        b.success()
    b.failure()
    assert b.state is State.CLOSED
    assert b.snapshot("p", None).requests == 10


def test_half_open_lets_exactly_one_probe_through() -> None:
    b, clock = breaker(failure_threshold=1, cooldown=5)
    b.failure()
    clock.now += 5
    assert [b.allow() for _ in range(5)] == [True, False, False, False, False]
    b.success()
    assert b.state is State.CLOSED
    assert all(b.allow() for _ in range(5))


def test_a_failed_probe_opens_it_for_another_cooldown() -> None:
    b, clock = breaker(failure_threshold=1, cooldown=5)
    b.failure()
    clock.now += 5
    assert b.allow()
    b.failure("timeout")
    assert b.state is State.OPEN
    assert not b.allow()
    clock.now += 4.9
    assert not b.allow()
    clock.now += 0.1
    assert b.allow()


def test_a_probe_abandoned_or_lost_does_not_stick() -> None:
    b, clock = breaker(failure_threshold=1, cooldown=5, probe_timeout=60)
    b.failure()
    clock.now += 5
    assert b.allow()
    b.release()  # the client went away
    assert b.allow()  # the next caller probes
    clock.now += 59
    assert not b.allow()
    clock.now += 1  # never reported: given up
    assert b.allow()


def test_breakers_are_per_instance_and_per_key() -> None:
    clock = Clock()
    breakers = Breakers(BreakerPolicy(failure_threshold=1), clock)
    breakers.get("openai", "k1").failure()
    assert not breakers.get("openai", "k1").allow()
    assert breakers.get("openai", "k2").allow()
    assert breakers.get("openai").allow()
    assert breakers.get("anthropic").allow()
    states = {(s.key_id, s.state) for s in breakers.of_provider("openai")}
    assert states == {(None, State.CLOSED), ("k1", State.OPEN), ("k2", State.CLOSED)}
    assert [s.state for s in breakers.of_provider("never-used")] == [State.CLOSED]
    assert breakers.known("never-used") is None  # reading created nothing
    breakers.forget("openai")
    assert breakers.known("openai", "k1") is None


@pytest.mark.parametrize("bad", [dict(failure_rate=0), dict(failure_rate=1.5),
                                 dict(failure_threshold=0), dict(cooldown=0)])
def test_policy_refuses_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(**bad)  # type: ignore[arg-type]
