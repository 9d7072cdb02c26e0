"""Argon2 work off the event loop, in a small bounded pool of threads.

An Argon2id check costs tens to hundreds of milliseconds of CPU and 64 MiB of memory by
design. Run on the event loop it stalls every other request for that long, so a burst of
logins would stall the whole server. ``argon2-cffi`` releases the GIL while it hashes, so a
thread does the work while the loop keeps serving.

The pool is bounded twice: ``workers`` threads compute (each Argon2 computation holds its
64 MiB while it runs, so this also bounds the memory), and at most ``max_waiting`` more
jobs may queue behind them. Past that, ``PasswordPoolBusy`` is raised at once (the API
answers 429 with ``Retry-After``) rather than letting a flood grow an unbounded queue of
requests that each hold a connection and will each cost a hash. One pool per process,
shared by every event loop (the threads do not belong to a loop).

The CLI calls the same functions; for it the pool is merely a thread hop.

``security.passwords`` is imported with the first password hashed or checked, in the
functions below: it loads ``argon2-cffi`` and its CFFI backend (~0.5 MB resident, issue
12), which a server answering only API tokens never calls (decision 0223). A deferral for
memory, not a hidden cycle: ``passwords`` imports only ``spec.errors``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TypeVar

from switchboard.spec.errors import SwitchboardError

T = TypeVar("T")
DEFAULT_WORKERS = 2
DEFAULT_MAX_WAITING = 8


class PasswordPoolBusy(SwitchboardError):
    """Too many password checks are already running or queued: try again shortly."""

    code = "throttled"

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("the server is busy checking passwords; try again in a moment")
        self.retry_after = retry_after


@dataclass(slots=True)
class PoolStats:
    """What the pool did (tests and the benchmark read these)."""

    verifications: int = 0
    hashes: int = 0
    refused: int = 0
    peak_pending: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class PasswordPool:
    def __init__(self, workers: int = DEFAULT_WORKERS,
                 max_waiting: int = DEFAULT_MAX_WAITING) -> None:
        self.workers = workers
        self.limit = workers + max_waiting
        self.stats = PoolStats()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        """Jobs running or queued now."""
        return self._pending

    async def _run(self, fn: Callable[[], T]) -> T:
        with self._lock:
            if self._pending >= self.limit:
                self.stats.refused += 1
                raise PasswordPoolBusy()
            self._pending += 1
            self.stats.peak_pending = max(self.stats.peak_pending, self._pending)
        try:
            future: Future[T] = self._executor.submit(fn)
        except BaseException:
            self._release(None)
            raise
        # Released when the computation ends, not when the caller stops waiting: a
        # cancelled request does not free a thread that is still hashing.
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _future: object) -> None:
        with self._lock:
            self._pending -= 1

    async def verify(self, stored_hash: str, password: str) -> bool:
        def work() -> bool:
            with self._lock:
                self.stats.verifications += 1
            from switchboard.security.passwords import verify_password  # see module doc

            return verify_password(stored_hash, password)
        return await self._run(work)

    async def hash(self, password: str) -> str:
        def work() -> str:
            with self._lock:
                self.stats.hashes += 1
            from switchboard.security.passwords import hash_password  # see module doc

            return hash_password(password)
        return await self._run(work)

    @staticmethod
    def needs_rehash(stored_hash: str) -> bool:
        """Cheap (reads the parameters in the encoded hash): no thread needed."""
        from switchboard.security.passwords import needs_rehash  # see module doc

        return needs_rehash(stored_hash)


_pool: PasswordPool | None = None
_pool_lock = threading.Lock()


def password_pool() -> PasswordPool:
    """The process-wide pool (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = PasswordPool()
        return _pool
