"""The offline model's stream is paced against a deadline (providers/offline/pacing.py):
delta ``i`` is due at ``start + i * interval``, a late wake-up is made up by the next
deltas instead of adding to every one. A fake clock and sleep: nothing really sleeps."""

from __future__ import annotations

import pytest

from switchboard.providers.offline.pacing import paced
from switchboard.spec import (
    Finish,
    FinishReason,
    ResponseMetadata,
    StreamEvent,
    StreamStart,
    TextDelta,
)

INTERVAL = 0.015
DELTAS = 40


class Machine:
    """A clock that moves only when the stream sleeps (each sleep ends ``late`` seconds
    after it was due, as on a loaded machine) or when the reader works on a delta
    (``work`` seconds each)."""

    def __init__(self, *, late: float = 0.0, work: float = 0.0) -> None:
        self.now = 100.0
        self.late = late
        self.work = work
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds + (self.late if seconds > 0 else 0.0)

    async def read(self, events: list[StreamEvent], interval: float = INTERVAL) -> list[float]:
        """When each event reached the reader."""
        times = []
        async for _ in paced(events, interval, clock=self.clock, sleep=self.sleep):
            times.append(self.now)
            self.now += self.work
        return times


def answer(deltas: int = DELTAS) -> list[StreamEvent]:
    return [StreamStart(), ResponseMetadata(response_id="r", model="m"),
            *(TextDelta(text=f"w{i} ") for i in range(deltas)),
            Finish(finish_reason=FinishReason(unified="stop"))]


async def test_a_quiet_machine_sees_one_delta_per_interval() -> None:
    machine = Machine()
    times = await machine.read(answer())
    assert times[:2] == [100.0, 100.0]  # start and metadata go at once
    deltas = times[2:-1]
    assert deltas == [100.0 + i * INTERVAL for i in range(1, DELTAS + 1)]
    assert all(s > 0 for s in machine.sleeps)  # it still streams: a pause before each
    assert times[-1] == deltas[-1]  # the finish goes at once


async def test_late_wake_ups_do_not_add_up() -> None:
    """Each sleep ends 2.5 intervals late: paced by a sleep per delta the answer took
    3.5 times as long; against the deadline it ends one lateness after it was due."""
    late = 2.5 * INTERVAL
    machine = Machine(late=late)
    times = await machine.read(answer())
    due = 100.0 + DELTAS * INTERVAL
    assert times[-1] <= due + late + 1e-9
    assert 0.0 in machine.sleeps  # behind: the next deltas went without a pause
    assert sum(s > 0 for s in machine.sleeps) >= DELTAS // 4  # and then it paced again


async def test_a_slow_reader_gets_no_pauses_on_top() -> None:
    """Handling each delta takes twice the interval: no pause is added to that work."""
    machine = Machine(work=2 * INTERVAL)
    times = await machine.read(answer())
    assert all(s == 0.0 for s in machine.sleeps[1:])
    # the reader's own work on the events before the finish, and nothing on top
    assert times[-1] - times[0] == pytest.approx((len(times) - 1) * 2 * INTERVAL)


async def test_no_interval_no_sleeping() -> None:
    machine = Machine()
    events = answer(3)
    times = await machine.read(events, interval=0)
    assert machine.sleeps == [] and times == [100.0] * len(events)
