"""The login throttle's arithmetic, on a clock the test controls."""

from __future__ import annotations

import pytest

from switchboard.api.throttle import Limit, LoginThrottle, Throttled


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_of(t: LoginThrottle, name: str, address: str) -> float:
    """Seconds the throttle asks to wait (0 when the attempt was let through)."""
    try:
        t.reserve(name, address)
    except Throttled as exc:
        return exc.retry_after
    return 0.0


def test_free_attempts_then_doubling_delays_up_to_a_cap() -> None:
    clock = Clock()
    t = LoginThrottle(account=Limit(free=3, window=60, max_delay=10), clock=clock)
    for _ in range(3):
        assert wait_of(t, "ann", "1.2.3.4") == 0  # counted as it is let through
    assert wait_of(t, "ann", "1.2.3.4") == 1  # the 4th waits 1 s after the 3rd
    clock.now += 1
    assert wait_of(t, "ann", "1.2.3.4") == 0
    assert wait_of(t, "ann", "1.2.3.4") == 2
    for _ in range(4):
        clock.now += 10
        assert wait_of(t, "ann", "1.2.3.4") == 0
    assert wait_of(t, "ann", "1.2.3.4") == 10  # capped


def test_reservation_is_atomic_and_refusals_do_not_count() -> None:
    """A burst of concurrent guesses: only the free ones get through, and the refused
    ones do not lengthen the delay the real user faces afterwards."""
    clock = Clock()
    t = LoginThrottle(account=Limit(free=5, window=900, max_delay=120), clock=clock)
    passed = [wait_of(t, "victim", f"10.0.0.{i}") == 0 for i in range(60)]
    assert sum(passed) == 5
    assert wait_of(t, "victim", "10.9.9.9") == 1  # still 1 s: 55 refusals added nothing
    clock.now += 1
    assert wait_of(t, "victim", "10.9.9.9") == 0


def test_both_the_name_and_the_address_are_limited() -> None:
    clock = Clock()
    t = LoginThrottle(account=Limit(free=2, window=60, max_delay=60),
                      address=Limit(free=3, window=60, max_delay=60), clock=clock)
    for name in ("a", "b", "c"):  # one address trying many names
        assert wait_of(t, name, "9.9.9.9") == 0
    assert wait_of(t, "someone-else", "9.9.9.9") > 0
    for addr in ("1.1.1.1", "2.2.2.2"):  # many addresses trying one name
        assert wait_of(t, "target", addr) == 0
    assert wait_of(t, "target", "4.4.4.4") > 0
    assert wait_of(t, "other", "4.4.4.4") == 0


def test_failures_expire_and_success_clears_the_account() -> None:
    clock = Clock()
    t = LoginThrottle(account=Limit(free=2, window=60, max_delay=60), clock=clock)
    wait_of(t, "z", "5.5.5.5")
    wait_of(t, "z", "5.5.5.5")
    clock.now += 61  # outside the window: forgotten
    assert wait_of(t, "z", "6.6.6.6") == 0
    ok = t.reserve("Z", "6.6.6.6")  # names are case-insensitive
    assert wait_of(t, "z", "7.7.7.7") > 0
    t.succeeded(ok)
    assert wait_of(t, "z", "7.7.7.7") == 0


def test_a_known_address_is_not_locked_out_by_strangers() -> None:
    """An attacker elsewhere keeps the account slowed down; the owner, from an address
    they logged in from before, has a count of their own."""
    clock = Clock()
    t = LoginThrottle(account=Limit(free=3, window=900, max_delay=120), clock=clock)
    t.succeeded(t.reserve("owner", "192.0.2.10"))
    for i in range(3):
        wait_of(t, "owner", f"203.0.113.{i}")
    assert wait_of(t, "owner", "203.0.113.99") > 0  # strangers are slowed down
    assert wait_of(t, "owner", "192.0.2.10") == 0  # the owner is not
    with pytest.raises(Throttled):
        for _ in range(10):  # but guessing from the known address is limited as well
            t.reserve("owner", "192.0.2.10")


def test_success_refunds_the_address_attempt() -> None:
    clock = Clock()
    t = LoginThrottle(address=Limit(free=2, window=60, max_delay=60), clock=clock)
    for name in ("u1", "u2", "u3", "u4"):  # colleagues behind one NAT, all succeeding
        t.succeeded(t.reserve(name, "198.51.100.1"))
    assert wait_of(t, "u5", "198.51.100.1") == 0
