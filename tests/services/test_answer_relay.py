"""``services.answer_relay`` against a real Redis: a follower on "another worker" reads
the mirrored log live, and a fold that deletes entries it has not read yet makes it read
the snapshot instead (never a gap). The job and the follower share this process; they
talk only through Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from switchboard.services.answer_jobs import AnswerJob, AnswerJobs, JobEvent, TooManyFollowers
from switchboard.services.answer_relay import AnswerRelay
from tests.services.test_answer_jobs import apply, spawn

Pair = tuple[str, dict[str, Any]]


@pytest.mark.redis
async def test_a_follower_elsewhere_reads_through_folds(redis_url: str) -> None:
    relay = AnswerRelay(redis_url, block_ms=200)
    reader = AnswerRelay(redis_url, block_ms=200)  # "the other worker"
    message_id = 10_000_000 + secrets.randbelow(10_000_000)
    words = [f"w{i} " for i in range(120)]
    steps = [asyncio.Event() for _ in range(3)]
    read_some, resume = asyncio.Event(), asyncio.Event()

    async def produce(job: AnswerJob) -> AsyncIterator[Pair]:
        yield "start", {"assistant_message_id": message_id}
        for i, word in enumerate(words):
            if i in (10, 60):  # wait for the follower, then outrun it (folds)
                await steps[0 if i == 10 else 1].wait()
            yield "delta", {"text": word}
        await steps[2].wait()
        yield "done", {"message": {"text": "".join(words)}}

    jobs = AnswerJobs(max_events=16, max_bytes=100_000, mirror=relay)
    try:
        job = jobs.start(message_id, 7, produce, spawn)
        seen: list[Any] = []

        async def follow() -> None:
            async for event in reader.follow(message_id, 0):
                seen.append(event)
                if len(seen) == 5:  # pause while the job runs far ahead and folds
                    read_some.set()
                    await resume.wait()

        following = asyncio.create_task(follow())
        steps[0].set()
        await read_some.wait()
        steps[1].set()
        steps[2].set()
        assert job.task is not None
        await job.task
        assert jobs.folds > 0
        resume.set()
        await asyncio.wait_for(following, 10)
        assert reader.resyncs >= 1  # the entries after its id were folded away
        assert seen[-1].name == "done"
        assert apply("", seen) == "".join(words)
        assert [e.seq for e in seen] == sorted({e.seq for e in seen})  # in order, no repeats
        # a follower arriving after the end reads start + snapshot + the rest
        late = [e async for e in reader.follow(message_id, 0)]
        assert late[0].name == "start" and late[1].name == "snapshot"
        assert apply("", late) == "".join(words)
        assert orjson.loads(late[-1].data)["message"]["text"] == "".join(words)
    finally:
        await relay.client.delete(f"switchboard:answer:{message_id}",
                                  f"switchboard:answer:{message_id}:snap")
        await relay.close()
        await reader.close()


@pytest.mark.redis
async def test_followers_of_other_workers_are_bounded(redis_url: str) -> None:
    relay = AnswerRelay(redis_url, max_followers=1)
    try:
        first = relay.follow(1, 0)
        relay.followers = 1  # the first one is waiting on Redis
        with pytest.raises(TooManyFollowers):
            relay.follow(2, 0)
        await first.aclose()
    finally:
        await relay.close()


@pytest.mark.redis
async def test_a_follower_stops_waiting_once_the_answer_is_closed(redis_url: str) -> None:
    """The writer died after two events (its log stays in Redis); the crash recovery
    closed the row, so the next silent wait ends the follow instead of blocking."""
    relay = AnswerRelay(redis_url, block_ms=50)
    message_id = 20_000_000 + secrets.randbelow(10_000_000)
    checks: list[bool] = []

    async def alive() -> bool:
        checks.append(len(checks) < 2)  # still in progress twice, then closed
        return checks[-1]

    try:
        await relay.append(message_id, JobEvent(1, "start", b"{}"))
        await relay.append(message_id, JobEvent(2, "delta", b'{"text":"Once"}'))
        events = [e async for e in relay.follow(message_id, 0, alive=alive)]
        assert [e.name for e in events] == ["start", "delta"]
        assert checks == [True, True, False]
    finally:
        await relay.client.delete(f"switchboard:answer:{message_id}")
        await relay.close()


@pytest.mark.redis
async def test_waiting_reads_the_calls_asked_and_not_yet_decided(redis_url: str) -> None:
    """What the approve route asks on a worker without the job (decision 0190), read
    from the mirrored log: asked → waiting; decided or ended → not; never a fold away
    (many deltas after the question)."""
    relay = AnswerRelay(redis_url)
    reader = AnswerRelay(redis_url)  # "the other worker"
    message_id = 10_000_000 + secrets.randbelow(10_000_000)
    gates = [asyncio.Event() for _ in range(2)]
    checked = [asyncio.Event() for _ in range(2)]

    async def produce(job: AnswerJob) -> AsyncIterator[Pair]:
        yield "start", {"assistant_message_id": message_id}
        yield "approval_needed", {"id": "call_a", "name": "calc", "arguments": "{}"}
        yield "approval_needed", {"id": "call_b", "name": "calc", "arguments": "{}"}
        for i in range(50):
            yield "delta", {"text": f"w{i} "}
        checked[0].set()
        await gates[0].wait()
        yield "approval", {"id": "call_a", "approved": True}
        checked[1].set()
        await gates[1].wait()
        yield "done", {}

    jobs = AnswerJobs(max_events=20, mirror=relay)  # folds the deltas meanwhile
    job = jobs.start(message_id, 1, produce, spawn)
    try:
        await checked[0].wait()  # every event before it is copied (``_run`` awaits it)
        assert jobs.folds > 0
        assert await reader.waiting(message_id, "call_a")
        assert await reader.waiting(message_id, "call_b")
        assert not await reader.waiting(message_id, "call_z")
        gates[0].set()
        await checked[1].wait()
        assert not await reader.waiting(message_id, "call_a")  # decided
        assert await reader.waiting(message_id, "call_b")
        gates[1].set()
        assert job.task is not None
        await job.task
        assert not await reader.waiting(message_id, "call_b")  # the answer has ended
        assert not await reader.waiting(message_id + 1, "call_b")  # no such log
    finally:
        for gate in gates:
            gate.set()
        await relay.close()
        await reader.close()
