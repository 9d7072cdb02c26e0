"""Answers followed and stopped across workers, through Redis (``SWITCHBOARD_REDIS_URL``).

A job (``services.answer_jobs``) runs in the worker that took the request; a reload or a
second tab may land on another worker. With Redis, the job's log is copied to a Redis
stream, one entry per event, its entry id ``0-<event id>`` (so ``Last-Event-ID`` is the
same number on every worker):

- ``append``: ``XADD switchboard:answer:<id> 0-<seq> n <name> d <data>``, plus an
  ``EXPIRE`` (``live_ttl``) so a log whose writer died goes away on its own.
- ``fold`` (the log outgrew its bounds): in one ``MULTI``, the snapshot goes to
  ``…:snap`` and the entries it stands for are deleted (``XDEL``).
- ``finish``: both keys expire ``done_ttl`` after the end; then a reattach reads the
  saved message, as on a single worker.
- ``follow``: in one ``MULTI``, ``GET …:snap`` and ``XRANGE`` after the follower's id
  (the snapshot first when it covers events the follower lacks); then ``XREAD BLOCK``
  for the live entries. An entry that is not the next id means a fold happened in
  between: read again the same way. A stream that expired, or an answer the database
  says is closed (its writer died and was recovered), ends the follow after a silent
  wait: the client reattaches and gets the saved message.
- ``stop``: a notice on ``switchboard:answer-stop`` over the process's existing pub/sub
  link (``services.cache``); the worker running the job stops it.
- ``decide`` (an ``ask`` tool's approve / deny sent to a worker that does not run the
  answer): ``waiting`` reads the log's ``approval_needed`` / ``approval`` entries (never
  folded) to tell whether the call still waits, then a notice on
  ``switchboard:answer-decide`` over the same link; the worker running the job hands it
  to the turn (decision 0190).

A Redis failure never breaks the answer: the job's own worker still serves it, and the
job logs the failed copy (``AnswerJobs._mirrored``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson

from switchboard.services.answer_jobs import KEEP_FINISHED, JobEvent, TooManyFollowers
from switchboard.services.cache import catalog_cache

log = logging.getLogger("switchboard.chat.relay")

PREFIX = "switchboard:answer:"
STOP_CHANNEL = "switchboard:answer-stop"
DECIDE_CHANNEL = "switchboard:answer-decide"
LIVE_TTL = 3600
"""Seconds a log outlives its last event while the answer is written (a dead writer)."""
BLOCK_MS = 5_000
"""How long a follower waits on Redis before checking that the log still exists."""
MAX_FOLLOWERS = 256
"""Followers of other workers' answers in this process (each holds a Redis connection
while it waits)."""


Alive = Callable[[], Awaitable[bool]]
"""Whether the answer is still being written (read from the database)."""


def _key(message_id: int) -> str:
    return f"{PREFIX}{message_id}"


def _seq(entry_id: Any) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    return int(text.partition("-")[2] or 0)


def _event(entry_id: Any, fields: dict[Any, Any]) -> JobEvent:
    name = fields.get(b"n", fields.get("n", b"message"))
    data = fields.get(b"d", fields.get("d", b"null"))
    return JobEvent(_seq(entry_id), name.decode() if isinstance(name, bytes) else str(name),
                    data if isinstance(data, bytes) else str(data).encode())


class AnswerRelay:
    """The Redis copy of this process's answer logs, and followers of any worker's."""

    def __init__(self, url: str, *, live_ttl: int = LIVE_TTL,
                 done_ttl: float = KEEP_FINISHED, block_ms: int = BLOCK_MS,
                 max_followers: int = MAX_FOLLOWERS) -> None:
        from redis import asyncio as aioredis  # optional dependency, imported on use

        self.client: Any = aioredis.from_url(url)
        self.live_ttl = live_ttl
        self.done_ttl = max(1, int(done_ttl))
        self.block_ms = block_ms
        self.max_followers = max_followers
        self.followers = 0
        self.resyncs = 0
        """Times a follower found entries folded away under it and read again."""

    # -- the job's side (``answer_jobs.Mirror``) -----------------------------------------
    async def append(self, message_id: int, event: JobEvent) -> None:
        key = _key(message_id)
        async with self.client.pipeline(transaction=False) as pipe:
            if event.seq == 1:  # a log left by a database since reset must not mix in
                pipe.delete(key, f"{key}:snap")
            pipe.xadd(key, {"n": event.name, "d": event.data}, id=f"0-{event.seq}")
            pipe.expire(key, self.live_ttl)
            await pipe.execute()

    async def fold(self, message_id: int, snapshot: JobEvent, folded: list[int]) -> None:
        key = _key(message_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(f"{key}:snap", orjson.dumps({"seq": snapshot.seq,
                                                  "d": snapshot.data.decode()}),
                     ex=self.live_ttl)
            pipe.xdel(key, *(f"0-{seq}" for seq in folded))
            await pipe.execute()

    async def finish(self, message_id: int) -> None:
        key = _key(message_id)
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.expire(key, self.done_ttl)
            pipe.expire(f"{key}:snap", self.done_ttl)
            await pipe.execute()

    # -- any worker's side -----------------------------------------------------------
    async def exists(self, message_id: int) -> bool:
        return bool(await self.client.exists(_key(message_id)))

    async def _read(self, message_id: int, after: int) -> list[JobEvent]:
        """Everything after ``after``, consistently (one MULTI): a fold cannot fall
        between reading the snapshot and reading the entries."""
        key = _key(message_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(f"{key}:snap")
            pipe.xrange(key, f"0-{after + 1}", "+")
            snap, entries = await pipe.execute()
        events = [_event(i, f) for i, f in entries]
        if snap is not None:
            data = orjson.loads(snap)
            if data["seq"] > after:
                events.append(JobEvent(data["seq"], "snapshot", data["d"].encode()))
        return sorted((e for e in events if e.seq > after), key=lambda e: e.seq)

    def follow(self, message_id: int, after: int = 0, *,
               alive: Alive | None = None) -> AsyncIterator[JobEvent]:
        """The events after ``after``, then live ones, until the answer's last event.
        ``alive()`` is asked after each silent ``block_ms``: False (the answer was closed
        in the database, e.g. its writer died and was recovered) ends the follow, and
        the client's reattach then gets the saved message. Refused at once
        (``TooManyFollowers``) when this process follows too many."""
        if self.followers >= self.max_followers:
            raise TooManyFollowers(f"this server already follows {self.max_followers} "
                                   "answers of other workers")
        return self._follow(message_id, after, alive)

    async def _follow(self, message_id: int, after: int,
                      alive: Alive | None) -> AsyncIterator[JobEvent]:
        self.followers += 1
        try:
            async for event in self._read_on(message_id, after, alive):
                yield event
        finally:
            self.followers -= 1

    async def _read_on(self, message_id: int, after: int,
                       alive: Alive | None) -> AsyncIterator[JobEvent]:
        key = _key(message_id)
        seen = after
        pending = await self._read(message_id, seen)
        while True:
            for event in pending:
                seen = event.seq
                yield event
                if event.ends:
                    return
            reply = await self.client.xread({key: f"0-{seen}"}, block=self.block_ms)
            if not reply:
                if not await self.exists(message_id):
                    return  # expired: the saved message is the truth now
                if alive is not None and not await alive():
                    return  # closed without its writer: the saved message is the truth
                pending = []
                continue
            entries = [_event(i, f) for i, f in reply[0][1]]
            if entries and entries[0].seq != seen + 1:  # folded meanwhile: read again
                self.resyncs += 1
                pending = await self._read(message_id, seen)
            else:
                pending = entries

    async def stop(self, message_id: int) -> None:
        """Ask whichever worker runs answer ``message_id`` to stop it."""
        await catalog_cache().notify(STOP_CHANNEL, {"message_id": message_id})

    async def waiting(self, message_id: int, call_id: str) -> bool:
        """Does the log say tool call ``call_id`` waits for the user's decision (asked,
        not yet decided, the answer not ended)? Approval events are never folded
        (``answer_jobs.FOLDABLE``), so the stream holds every one of them; the read is
        bounded by the log's own bounds (``MAX_EVENTS`` entries)."""
        asked = False
        for entry_id, fields in await self.client.xrange(_key(message_id), "-", "+"):
            event = _event(entry_id, fields)
            if event.ends:
                return False
            if event.name in ("approval_needed", "approval"):
                data = orjson.loads(event.data)
                if isinstance(data, dict) and data.get("id") == call_id:
                    asked = event.name == "approval_needed"
        return asked

    async def decide(self, message_id: int, call_id: str, approved: bool) -> None:
        """Hand the user's approve / deny to whichever worker runs answer ``message_id``
        (``AnswerJobs.on_decide_notice``); that worker's ``approval`` event tells the
        followers it was taken."""
        await catalog_cache().notify(DECIDE_CHANNEL, {"message_id": message_id,
                                                      "call_id": call_id,
                                                      "approved": approved})

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.aclose()


__all__ = ["DECIDE_CHANNEL", "STOP_CHANNEL", "AnswerRelay"]
