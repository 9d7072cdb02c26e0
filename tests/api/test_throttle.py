"""The login throttle's arithmetic, on a clock the test controls."""

from __future__ import annotations

from switchboard.api.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_free_attempts_then_exponential_lock() -> None:
    clock = Clock()
    t = LoginThrottle(free=3, window=60, max_delay=10, clock=clock)
    for _ in range(3):
        assert t.retry_after("ann", "1.2.3.4") == 0
        t.failed("ann", "1.2.3.4")
    assert t.retry_after("ann", "1.2.3.4") == 0  # three free failures: no lock yet
    t.failed("ann", "1.2.3.4")
    assert t.retry_after("ann", "1.2.3.4") == 1
    t.failed("ann", "1.2.3.4")
    assert t.retry_after("ann", "1.2.3.4") == 2
    t.failed("ann", "1.2.3.4")
    t.failed("ann", "1.2.3.4")
    t.failed("ann", "1.2.3.4")
    assert t.retry_after("ann", "1.2.3.4") == 10  # capped
    clock.now += 10
    assert t.retry_after("ann", "1.2.3.4") == 0


def test_locks_both_the_name_and_the_address() -> None:
    clock = Clock()
    t = LoginThrottle(free=2, window=60, clock=clock)
    for name in ("a", "b", "c"):  # one address trying many names
        t.failed(name, "9.9.9.9")
    assert t.retry_after("someone-else", "9.9.9.9") > 0
    for addr in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):  # many addresses trying one name
        t.failed("target", addr)
    assert t.retry_after("target", "4.4.4.4") > 0
    assert t.retry_after("other", "4.4.4.4") == 0


def test_failures_expire_and_success_clears_the_name() -> None:
    clock = Clock()
    t = LoginThrottle(free=2, window=60, clock=clock)
    t.failed("z", "5.5.5.5")
    t.failed("z", "5.5.5.5")
    clock.now += 61  # outside the window: forgotten
    t.failed("z", "6.6.6.6")
    assert t.retry_after("z", "6.6.6.6") == 0
    t.failed("z", "6.6.6.6")
    t.failed("z", "6.6.6.6")
    assert t.retry_after("z", "7.7.7.7") > 0
    t.succeeded("z")
    assert t.retry_after("z", "7.7.7.7") == 0
