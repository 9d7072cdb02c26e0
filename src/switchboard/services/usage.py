"""Usage events, written in batches off the request path.

Every upstream call produces one ``usage_events`` row. Inserting it inside the request
would put a database round trip (and, on SQLite, the single writer lock) on the hot path
of every call; instead ``UsageRecorder.record()`` appends to an in-memory buffer and a
background task inserts the buffer in one multi-row statement every ``interval`` seconds
or as soon as ``batch_size`` rows are waiting. ``close()`` flushes what is left at
shutdown. The same transaction adds the batch to the daily roll-ups every report reads
(``usage_rollup``, decision 0129). A failed flush keeps its rows and tries again
(bounded by ``max_buffer``, past which the oldest rows are dropped and counted — logged
loudly, never silently).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert

from switchboard.db import Database, tables, utcnow
from switchboard.services import usage_rollup
from switchboard.services.metrics import NULL_METRICS, Hooks

log = logging.getLogger("switchboard.usage")
_EVENTS = tables.usage_events


@dataclass(slots=True)
class UsageRecord:
    provider: str
    model: str
    source: str  # chat | api | cli | test
    status: str  # ok | partial | error
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost: Decimal | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    error_code: str | None = None
    user_id: int | None = None
    api_token_id: int | None = None
    created_at: datetime | None = None
    estimated: bool = False  # tokens estimated by us: the vendor reported none

    def row(self) -> dict[str, object]:
        return usage_row(
            self.created_at or utcnow(), self.user_id, self.api_token_id, self.provider,
            self.model, self.source, self.status, self.input_tokens, self.output_tokens,
            self.cached_tokens, self.cache_write_tokens, self.reasoning_tokens, self.cost,
            self.latency_ms, self.ttft_ms, self.error_code, self.estimated)


def usage_row(created_at: datetime, user_id: int | None, api_token_id: int | None,
              provider: str, model: str, source: str, status: str,
              input_tokens: int | None, output_tokens: int | None,
              cached_tokens: int | None, cache_write_tokens: int | None,
              reasoning_tokens: int | None, cost: Decimal | None, latency_ms: int | None,
              ttft_ms: int | None, error_code: str | None,
              estimated: bool) -> dict[str, object]:
    """THE ``usage_events`` row (what ``UsageRecorder.flush`` inserts), in one place: a
    ``UsageRecord``'s (``row``) and a pipeline call's (``CallOutcome.usage_row``, once
    per attempt, which skips the 17-field ``UsageRecord`` between: issue 12). Positional
    on purpose: it runs once per call on the hot path, where keywords cost time. A
    count the vendor did not report is stored as 0."""
    return {
        "created_at": created_at,
        "user_id": user_id,
        "api_token_id": api_token_id,
        "provider": provider,
        "model": model,
        "source": source,
        "status": status,
        "input_tokens": input_tokens or 0,
        "output_tokens": output_tokens or 0,
        "cached_tokens": cached_tokens or 0,
        "cache_write_tokens": cache_write_tokens or 0,
        "reasoning_tokens": reasoning_tokens or 0,
        "cost": cost,
        "latency_ms": latency_ms,
        "ttft_ms": ttft_ms,
        "error_code": error_code,
        "estimated": estimated,
    }


class UsageRecorder:
    def __init__(self, db: Database, *, interval: float = 0.5, batch_size: int = 200,
                 max_buffer: int = 100_000) -> None:
        self.db = db
        self.interval = interval
        self.batch_size = batch_size
        self.max_buffer = max_buffer
        self._buffer: list[dict[str, object]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._lock = asyncio.Lock()
        self.after_flush: list[Callable[[], Awaitable[None]]] = []
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self.metrics: Hooks = NULL_METRICS
        """Told the backlog after each flush, and the rows an overflow drops."""

    def record(self, record: UsageRecord) -> None:
        """Queue one event (never blocks, never raises)."""
        if record.created_at is None:
            record.created_at = utcnow()
        self.record_row(record.row())

    def record_row(self, row: dict[str, object]) -> None:
        """Queue one event already in row form (``usage_row``: the pipeline's recorder
        builds it straight from the outcome, ``CallOutcome.usage_row``)."""
        self._buffer.append(row)
        if len(self._buffer) > self.max_buffer:
            overflow = len(self._buffer) - self.max_buffer
            del self._buffer[:overflow]
            self.dropped += overflow
            self.metrics.usage_dropped(overflow)
            log.error("usage buffer full: dropped %d oldest events (database down?)", overflow)
        if len(self._buffer) >= self.batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                 name="usage-recorder")

    async def _run(self) -> None:
        while not self._closing:
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()
            self.metrics.usage_backlog(len(self._buffer))
            await self._run_hooks()

    async def _run_hooks(self) -> None:
        for hook in self.after_flush:
            try:
                await hook()
            except Exception:
                log.exception("usage recorder hook %r failed", hook)

    async def flush(self) -> int:
        """Write everything buffered now; returns how many rows were written."""
        async with self._lock:
            if not self._buffer:
                return 0
            rows, self._buffer = self._buffer, []
            try:
                async with self.db.transaction() as conn:
                    # Core, not the ORM's bulk insert: the same statement without
                    # the ORM's per-row bookkeeping (~12 -> ~8.6 us a row), nor its
                    # session (decision 0237).
                    await conn.execute(insert(_EVENTS), rows)
                    await usage_rollup.add(conn, rows)  # same transaction: decision 0129
            except asyncio.CancelledError:
                self._buffer[:0] = rows  # rolled back: keep them for whoever flushes next
                raise
            except Exception:
                self.failures += 1
                self._buffer[:0] = rows  # keep them, in order, for the next try
                log.exception("writing %d usage events failed; will retry", len(rows))
                return 0
            self.written += len(rows)
            return len(rows)

    async def close(self) -> None:
        """Stop the background task and flush what is left (shutdown).

        The task is asked to stop, not cancelled: cancelling it in the middle of a flush
        would roll that batch back. It finishes the flush in progress, then exits.
        """
        if self._task is not None:
            self._closing = True
            self._wake.set()
            await self._task
            self._task = None
        await self.flush()
        await self._run_hooks()
