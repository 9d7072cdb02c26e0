"""``services.answer_jobs`` on its own: folding keeps a late follower's answer whole,
the bounds hold, stop is absorbed once and only while the model streams, a finished job
is dropped after ``keep_finished``. Producers here are plain async generators; the
HTTP side is tests/api/test_answer_jobs_api.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from switchboard.services.answer_jobs import (
    AnswerJob,
    AnswerJobs,
    JobEvent,
    TooManyAnswers,
    TooManyFollowers,
)

Pair = tuple[str, dict[str, Any]]


def spawn(coro: Any) -> asyncio.Task[Any]:
    return asyncio.get_running_loop().create_task(coro)


def apply(text: str, events: list[JobEvent]) -> str:
    """What a client shows after ``events`` (answers.js: snapshot replaces, delta adds)."""
    for event in events:
        data = orjson.loads(event.data)
        if event.name == "snapshot":
            text = data["text"]
        elif event.name == "delta":
            text += data["text"]
        elif event.name == "start":
            text = ""
    return text


async def test_folding_keeps_every_follower_whole() -> None:
    gate, said = asyncio.Event(), asyncio.Event()
    words = [f"w{i} " for i in range(200)]

    async def produce(job: AnswerJob) -> AsyncIterator[Pair]:
        yield "start", {"assistant_message_id": 1}
        for word in words:
            yield "delta", {"text": word}
        said.set()  # resumed after the job appended the last delta
        await gate.wait()
        yield "done", {"message": {"text": "".join(words)}}

    jobs = AnswerJobs(max_events=20, max_bytes=10_000)
    job = jobs.start(1, 7, produce, spawn)
    await said.wait()
    assert len(job.log) <= 21 and jobs.folds > 0
    assert job.log[0].name == "start" and job.log[1].name == "snapshot"
    # whatever a client had seen, what it is sent after that makes the whole answer
    full = "".join(words)
    for seen in range(0, 202):
        known = apply("", [JobEvent(i + 1, "delta" if i else "start",
                                    orjson.dumps({"text": words[i - 1]} if i else {}))
                           for i in range(seen)])
        assert apply(known, job.after(seen)) == full, seen
    gate.set()
    replay = [e async for e in job.follow(0)]
    assert replay[-1].name == "done" and apply("", replay) == full


async def test_bytes_bound_folds_too() -> None:
    async def produce(job: AnswerJob) -> AsyncIterator[Pair]:
        yield "start", {"question": "x" * 50_000}  # the question is never folded
        for _ in range(50):
            yield "delta", {"text": "y" * 1000}
        yield "done", {}

    jobs = AnswerJobs(max_events=10_000, max_bytes=8_000)
    job = jobs.start(2, 7, produce, spawn)
    events = [e async for e in job.follow(0)]
    assert apply("", events) == "y" * 50_000
    assert sum(len(e.data) for e in job.log if e.name != "start") < 60_000
    assert job.log[0].name == "start" and len(job.log) < 20


async def test_stop_is_absorbed_once_and_only_while_the_model_streams() -> None:
    stopped: list[str] = []
    streaming = asyncio.Event()

    async def produce(job: AnswerJob) -> AsyncIterator[Pair]:
        yield "start", {}
        try:
            streaming.set()
            await asyncio.Event().wait()  # the model, silent
        except asyncio.CancelledError:
            assert job.absorb_stop()
        job.model_done()
        await asyncio.sleep(0)  # the save: a second stop must not cancel it
        yield "error", {"code": "stopped"}

    jobs = AnswerJobs()
    job = jobs.start(3, 7, produce, spawn, on_stop=lambda: stopped.append("stop"))
    await streaming.wait()
    assert jobs.stop(3) is True
    assert jobs.stop(3) is True and stopped == ["stop"]  # asked twice, told once
    events = [e async for e in job.follow(0)]
    assert [e.name for e in events] == ["start", "error"]
    assert jobs.stop(3) is False and not job.task.cancelled()  # type: ignore[union-attr]
    assert jobs.stop(404) is False


async def test_bounds_on_answers_and_followers() -> None:
    release = asyncio.Event()

    async def produce(job: AnswerJob) -> AsyncIterator[Pair]:
        yield "start", {}
        await release.wait()
        yield "done", {}

    jobs = AnswerJobs(max_per_user=2, max_followers=1)
    first = jobs.start(10, 7, produce, spawn)
    jobs.start(11, 7, produce, spawn)
    with pytest.raises(TooManyAnswers):
        jobs.check_room(7)
    jobs.check_room(8)  # another user
    follower = first.follow(0)
    assert (await anext(follower)).name == "start"
    with pytest.raises(TooManyFollowers):
        await anext(first.follow(0))
    release.set()
    assert [e.name async for e in follower] == ["done"]
    assert first.followers == 0
    await asyncio.sleep(0)
    jobs.check_room(7)  # both finished


async def test_a_finished_job_is_dropped_after_keep_finished() -> None:
    async def produce(job: AnswerJob) -> AsyncIterator[Pair]:
        yield "done", {}

    jobs = AnswerJobs(keep_finished=0)
    job = jobs.start(20, 7, produce, spawn)
    assert job.task is not None
    await job.task
    assert jobs.get(20) is job  # kept until the timer runs
    await asyncio.sleep(0)
    assert jobs.get(20) is None


async def test_answers_starting_hold_their_place() -> None:
    """Requests sent at once: each holds a place while its model has not answered yet."""
    jobs = AnswerJobs(max_per_user=2)
    with jobs.admitting(7), jobs.admitting(7):
        with pytest.raises(TooManyAnswers):
            jobs.check_room(7)
        with pytest.raises(TooManyAnswers), jobs.admitting(7):
            pass
    jobs.check_room(7)  # both places given back (started or failed)
    with jobs.admitting(7), jobs.admitting(7):
        pass


async def test_a_decision_from_another_worker_reaches_only_a_waiting_call() -> None:
    """``on_decide_notice``: what another worker relayed (decision 0190); a payload not
    of the documented shape, or for an answer not running here, changes nothing."""
    decided: list[tuple[str, bool]] = []
    waiting = asyncio.Event()

    def on_decision(call_id: str, approved: bool) -> bool:
        decided.append((call_id, approved))
        return True

    async def produce(job: AnswerJob) -> AsyncIterator[Pair]:
        yield "approval_needed", {"id": "call_1"}
        await waiting.wait()
        yield "done", {}

    jobs = AnswerJobs()
    job = jobs.start(5, 7, produce, spawn, on_decision=on_decision)
    for bad in (None, {}, {"message_id": "5", "call_id": "call_1", "approved": True},
                {"message_id": 5, "call_id": 1, "approved": True},
                {"message_id": 5, "call_id": "c" * 201, "approved": True},
                {"message_id": 5, "call_id": "call_1", "approved": "yes"},
                {"message_id": 6, "call_id": "call_1", "approved": True}):
        jobs.on_decide_notice(bad)
    assert decided == []
    jobs.on_decide_notice({"message_id": 5, "call_id": "call_1", "approved": False,
                           "origin": "elsewhere"})
    assert decided == [("call_1", False)]
    waiting.set()
    assert [e.name async for e in job.follow(0)] == ["approval_needed", "done"]
    jobs.on_decide_notice({"message_id": 5, "call_id": "call_1", "approved": True})
    assert decided == [("call_1", False)]  # the answer has ended


async def test_pictures_among_the_text_fold_in_place_and_the_log_stays_bounded() -> None:
    """A picture (the ``image`` event) among the deltas: folding goes on past it (before,
    the foldable run stopped there and the log grew without bound), and the snapshot
    keeps each picture with the length of the text before it (UTF-16, as the page)."""
    said = asyncio.Event()
    words = [f"w{i} " for i in range(200)]
    part = {"type": "image", "media_type": "image/png", "file": {"sha256": "a" * 64, "size": 9}}

    async def produce(job: AnswerJob) -> AsyncIterator[Pair]:
        yield "start", {"assistant_message_id": 3}
        yield "delta", {"text": "🐋 "}
        for i, word in enumerate(words):
            if i == 50:
                yield "image", {"part": part}
            yield "delta", {"text": word}
        said.set()
        await asyncio.Event().wait()

    jobs = AnswerJobs(max_events=20, max_bytes=100_000)
    job = jobs.start(3, 7, produce, spawn)
    await said.wait()
    assert len(job.log) <= 21 and job.log[1].name == "snapshot"
    snapshot = orjson.loads(job.log[1].data)
    before = "🐋 " + "".join(words[:50])
    assert snapshot["images"] == [{"at": len(before) + 1, "part": part}]  # 🐋 is 2 in JS
    assert apply("", job.after(0)) == "🐋 " + "".join(words)
    job.stop()
