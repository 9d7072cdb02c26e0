"""Reading the audit trail: verify its hash chain, search it, export it, and delete old
rows without breaking the chain (decision 0123; the chain itself: ``services.audit``).

- ``verify`` walks the rows in chain order, in pages (memory stays bounded however long
  the trail), from the retention checkpoint to the head, and names the FIRST row whose
  chain breaks: a row changed (its hash no longer matches its content), a row removed
  (a gap in ``seq``: the next row is named), a row added by hand (no ``seq``), or the
  newest rows removed (the last row is not the head). Rows appended while it runs are
  left for the next run.
- ``prune`` deletes the rows older than a date in one transaction that first moves the
  checkpoint to the last deleted row (``seq`` and ``hash``): the triggers let a DELETE
  through only at or below the checkpoint, and ``verify`` starts from it.
- ``csv_lines`` renders rows for a spreadsheet, safe against formula injection.

What the chain proves: no row was changed, removed or slipped in by someone who could not
also rewrite every later hash and the head. Someone with full write access to the
database could rebuild it all; the head hash printed by ``switchboard audit verify`` can
be noted elsewhere (a ticket, a log shipper) to anchor it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Select, delete, func, select, update

from switchboard.db import models as m
from switchboard.db.audit_chain import GENESIS, fields_of, row_hash
from switchboard.db.engine import Database
from switchboard.db.types import utcnow
from switchboard.services.audit import Actor, AuditEntry, record
from switchboard.services.errors import ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

RETENTION = Actor("retention")
"""Who prunes on the configured schedule (the audit row of each prune names it)."""

PAGE = 1000
MAX_LIMIT = 500
EXPORT_MAX_ROWS = 100_000
"""An export holds at most this many rows (the newest first); narrow the filters for more."""


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    checked: int
    """Rows whose hash was checked."""
    head_seq: int
    head_hash: str
    checkpoint_seq: int
    broken_id: int | None = None
    """The database id of the first row whose chain breaks (None: the head itself)."""
    broken_seq: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def verify(db: Database) -> Verdict:
    """Check the whole chain (see the module docstring)."""
    async with db.unit_of_work(read_only=True) as session:
        head = (await session.execute(select(m.AuditChain).where(m.AuditChain.id == 1))
                ).scalar_one_or_none()
        if head is None:
            return Verdict(False, 0, 0, GENESIS, 0, reason="the chain's head row is missing")
        base = Verdict(True, 0, head.seq, head.hash, head.checkpoint_seq)
        unchained = await session.scalar(select(func.min(m.AuditLog.id))
                                         .where(m.AuditLog.seq.is_(None)))
        if unchained is not None:
            return _broken(base, 0, unchained, None,
                           "a row was added outside the chain (it has no position)")
        expected, prev, checked = head.checkpoint_seq + 1, head.checkpoint_hash, 0
        while expected <= head.seq:
            rows = (await session.scalars(
                select(m.AuditLog).where(m.AuditLog.seq >= expected,
                                         m.AuditLog.seq <= head.seq)
                .order_by(m.AuditLog.seq).limit(PAGE))).all()
            if not rows:
                break
            for row in rows:
                if row.seq != expected:
                    return _broken(base, checked, row.id, row.seq,
                                   f"rows {expected}..{(row.seq or 0) - 1} before it are "
                                   "missing")
                if row.prev_hash != prev:
                    return _broken(base, checked, row.id, row.seq,
                                   "it does not follow the row before it")
                if row_hash(fields_of(row)) != row.hash:
                    return _broken(base, checked, row.id, row.seq,
                                   "its content was changed after it was written")
                checked += 1
                prev = row.hash or ""
                expected += 1
        if expected <= head.seq or prev != head.hash:
            return _broken(base, checked, None, expected,
                           f"the newest rows (from {expected} to {head.seq}) are missing")
        return Verdict(True, checked, head.seq, head.hash, head.checkpoint_seq)


def _broken(base: Verdict, checked: int, row_id: int | None, seq: int | None,
            reason: str) -> Verdict:
    return Verdict(False, checked, base.head_seq, base.head_hash, base.checkpoint_seq,
                   broken_id=row_id, broken_seq=seq, reason=reason)


class Retention:
    """The configured retention (``SWITCHBOARD_AUDIT_RETENTION_DAYS``), applied at most
    once per ``every`` seconds from a periodic task (the alert evaluator's rounds): rows
    older than ``days`` go behind a checkpoint through ``prune``, so ``verify`` still
    passes. Several workers may run it; ``prune`` locks the chain's head, so the second
    finds nothing left to delete. The clock is injected: tests never sleep."""

    def __init__(self, db: Database, days: int, *, every: float = 3600.0,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.db, self.days, self.every, self.now = db, days, every, now
        self._last: datetime | None = None
        self.deleted = 0

    async def __call__(self) -> None:
        now = self.now()
        if self.days <= 0 or (self._last is not None
                              and (now - self._last).total_seconds() < self.every):
            return
        self._last = now
        self.deleted += await prune(self.db, now - timedelta(days=self.days), RETENTION)


async def prune(db: Database, before: datetime, actor: Actor) -> int:
    """Delete the rows written before ``before``, leaving a checkpoint; the number deleted.

    Only a prefix of the chain is deleted (through the newest row older than ``before``),
    so the rows kept still follow one another."""
    async with db.unit_of_work() as session:
        await session.execute(select(m.AuditChain.id).where(m.AuditChain.id == 1)
                              .with_for_update())
        last = (await session.execute(
            select(m.AuditLog.seq, m.AuditLog.hash).where(m.AuditLog.created_at < before)
            .order_by(m.AuditLog.seq.desc()).limit(1))).first()
        if last is None or last[0] is None:
            return 0
        through, through_hash = int(last[0]), str(last[1])
        await session.execute(update(m.AuditChain).where(m.AuditChain.id == 1).values(
            checkpoint_seq=through, checkpoint_hash=through_hash, checkpoint_at=utcnow()))
        done = await session.execute(delete(m.AuditLog).where(m.AuditLog.seq <= through))
        deleted = int(getattr(done, "rowcount", 0) or 0)
        record(session, actor, "audit.prune", target_type="audit",
               details={"before": before.isoformat(), "through_seq": through,
                        "deleted": deleted, "checkpoint_hash": through_hash})
    return deleted


@dataclass(frozen=True, slots=True)
class Filters:
    """What the Audit page and ``GET /api/audit`` filter on (every field optional)."""

    actor: str | None = None
    action: str | None = None
    """A dotted prefix: ``provider`` matches ``provider.key.set``."""
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.actor:
            query = query.where(m.AuditLog.actor == self.actor)
        if self.action:
            action = self.action.rstrip(".")
            query = query.where((m.AuditLog.action == action)
                                | m.AuditLog.action.startswith(action + ".", autoescape=True))
        if self.target_type:
            query = query.where(m.AuditLog.target_type == self.target_type)
        if self.target_id:
            query = query.where(m.AuditLog.target_id == self.target_id)
        if self.since is not None:
            query = query.where(m.AuditLog.created_at >= self.since)
        if self.until is not None:
            query = query.where(m.AuditLog.created_at < self.until)
        return query


async def search(db: Database, filters: Filters, *, limit: int = 100,
                 before_id: int | None = None) -> list[AuditEntry]:
    """The newest rows matching ``filters`` (older pages: ``before_id``)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    query = filters.apply(select(m.AuditLog)).order_by(m.AuditLog.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(m.AuditLog.id < before_id)
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.scalars(query)).all()
        return [AuditEntry.model_validate(r, from_attributes=True) for r in rows]


CSV_COLUMNS = ("id", "seq", "created_at", "actor", "actor_user_id", "action",
               "target_type", "target_id", "address", "request_id", "details", "hash")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(value: Any) -> str:
    """One CSV cell: a text a spreadsheet could run as a formula (OWASP "CSV injection")
    gets a leading apostrophe, which the spreadsheet shows as text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    else:
        text = str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text  # a number is data, and "-3" must stay a number
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([cell(v) for v in values])
    return out.getvalue()


async def csv_lines(db: Database, filters: Filters) -> AsyncIterator[str]:
    """The header, then the matching rows (newest first, at most ``EXPORT_MAX_ROWS``),
    read in pages so the whole export is never in memory."""
    yield _line(list(CSV_COLUMNS))
    sent, before_id = 0, None
    while sent < EXPORT_MAX_ROWS:
        entries = await search(db, filters, limit=MAX_LIMIT, before_id=before_id)
        if not entries:
            return
        for entry in entries:
            data = entry.model_dump()
            yield _line([data[c] for c in CSV_COLUMNS])
        sent += len(entries)
        before_id = entries[-1].id


def lines_of(entries: list[AuditEntry]) -> Iterator[str]:
    """CSV of entries already read (tests, the CLI)."""
    yield _line(list(CSV_COLUMNS))
    for entry in entries:
        data = entry.model_dump()
        yield _line([data[c] for c in CSV_COLUMNS])


async def head(session: AsyncSession) -> tuple[int, str]:
    """The chain's head (seq, hash)."""
    row = (await session.execute(select(m.AuditChain.seq, m.AuditChain.hash)
                                 .where(m.AuditChain.id == 1))).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)
