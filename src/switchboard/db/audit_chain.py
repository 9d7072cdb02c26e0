"""The audit trail's hash chain: what exactly is hashed (decision 0123).

Each ``audit_log`` row carries ``hash = SHA-256(canonical(row))``, where the canonical form
includes the previous row's hash, so changing, inserting or removing any row breaks
every hash after it. It lives in ``db`` (not ``services``) because the migration that
introduced the chain hashes the rows that already existed with the same function.

The canonical serialization, exactly: a JSON object with the keys ``action``, ``actor``,
``actor_user_id``, ``address``, ``created_at``, ``details``, ``prev_hash``,
``request_id``, ``seq``, ``target_id``, ``target_type``; keys sorted at every level, no
whitespace (separators ``,`` and ``:``), non-ASCII characters as they are, encoded as
UTF-8, NaN and infinities refused. ``created_at`` is ISO 8601 in UTC with microseconds
and ``+00:00`` (``2026-12-04T20:35:00.123456+00:00``); ``seq`` is the row's position in
the chain (1, 2, ...) — not the database id, which is assigned at insert and may skip
after a rolled-back transaction. The first row's ``prev_hash`` is ``GENESIS``. Anyone
can recompute it with a few lines of any language.

The chain is computed when a session flushes new ``AuditLog`` rows (``chain``, a
``before_flush`` listener that ``db.orm`` registers with the mapped classes, so no code
path can add an unchained row through the ORM): it numbers and hashes the new rows in the
order they were added, moves the head and inserts the rows, all in the caller's
transaction.

The fast path (decision 0151): each process remembers the head it last wrote, per
engine (``_heads``), numbers the new rows after it without reading the head, and lets the
database check it in the same statements that write:

- SQLite (since migration 0028): the rows go in with one Core INSERT, and the
  ``audit_log_follow_head`` trigger aborts it if a row does not follow the head, or
  moves the head to it. An append is BEGIN IMMEDIATE, INSERT, COMMIT. SQLite undoes only
  the aborted statement, so the chain reads the head and inserts again in the same
  transaction.
- PostgreSQL: ``UPDATE audit_chain SET seq=new, hash=new WHERE id=1 AND seq=remembered
  AND hash=remembered``, then the INSERT. The UPDATE is the lock: a second transaction
  updating the row waits for the first, then re-checks its WHERE against the committed
  row (READ COMMITTED) and matches nothing. (A trigger's abort would end the whole
  transaction there, hence the UPDATE.)

When the check fails (another worker or engine appended, a transaction that moved the
remembered head rolled back, the head row is gone) the rows are numbered again after
the locked read of the head (``SELECT … FOR UPDATE``; SQLite: the writing unit of work
holds the write lock). A stale memory therefore costs a statement or two, never a fork.
The ORM objects ``record`` added are taken out of the session and inserted with Core
(nothing reads them back).
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    insert,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.exc import IntegrityError

from switchboard.db import models as m
from switchboard.db import tables
from switchboard.db.types import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

GENESIS = "0" * 64
"""The ``prev_hash`` of the first row ever written."""

FIELDS = ("seq", "created_at", "actor", "actor_user_id", "action", "target_type",
          "target_id", "details", "address", "request_id", "prev_hash")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes hashed for one row (``row`` holds at least ``FIELDS``)."""
    created = row["created_at"]
    if not isinstance(created, datetime) or created.tzinfo is None:
        raise ValueError("created_at must be an aware datetime")
    fields = {name: row[name] for name in FIELDS}
    fields["created_at"] = created.astimezone(UTC).isoformat(timespec="microseconds")
    fields["details"] = row["details"] or {}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def row_hash(row: Mapping[str, Any]) -> str:
    """The hex SHA-256 of ``canonical(row)``."""
    return hashlib.sha256(canonical(row)).hexdigest()


def fields_of(row: m.AuditLog) -> dict[str, Any]:
    """The hashed fields of a row object."""
    return {"seq": row.seq, "created_at": row.created_at, "actor": row.actor,
            "actor_user_id": row.actor_user_id, "action": row.action,
            "target_type": row.target_type, "target_id": row.target_id,
            "details": row.details, "address": row.address, "request_id": row.request_id,
            "prev_hash": row.prev_hash}


def _new_rows(session: Session) -> list[m.AuditLog]:
    # in the order they were added (an ordered identity set)
    return [obj for obj in session.new if isinstance(obj, m.AuditLog) and obj.hash is None]


_heads: weakref.WeakKeyDictionary[Engine, tuple[int, str]] = weakref.WeakKeyDictionary()
"""The head this process last moved, per engine (a hint: checked by the database)."""
_follows: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()
"""Whether the engine's database moves the head itself on INSERT (SQLite since migration
0028: the ``audit_log_follow_head`` trigger)."""

HEAD_MOVED = "audit chain head moved"
"""The message of the trigger's abort when a row does not follow the head."""
FOLLOW_TRIGGER = "audit_log_follow_head"

_TABLE = tables.audit_log
_HEAD = tables.audit_chain
_ADVANCE = (update(_HEAD)
            .where(_HEAD.c.id == 1, _HEAD.c.seq == bindparam("old_seq"),
                   _HEAD.c.hash == bindparam("old_hash"))
            .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))


def _number(rows: list[m.AuditLog], seq: int, prev: str) -> tuple[int, str]:
    """Give ``rows`` their positions and hashes after (``seq``, ``prev``); the new head."""
    for row in rows:
        seq += 1
        row.seq = seq
        row.prev_hash = prev
        prev = row.hash = row_hash(fields_of(row))
    return seq, prev


def _locked_head(conn: Connection) -> tuple[int, str]:
    """The head under its row lock (rebuilt from the newest row if it was removed)."""
    head = conn.execute(select(_HEAD.c.seq, _HEAD.c.hash)
                        .where(_HEAD.c.id == 1).with_for_update()).first()
    if head is not None:
        return int(head[0]), str(head[1])
    log.error("the audit chain's head row is missing; rebuilding it from the last row")
    last = conn.execute(select(_TABLE.c.seq, _TABLE.c.hash)
                        .order_by(_TABLE.c.seq.desc()).limit(1)).first()
    seq, prev = (int(last[0]), str(last[1])) if last and last[0] else (0, GENESIS)
    conn.execute(insert(_HEAD).values(id=1, seq=seq, hash=prev, checkpoint_seq=0,
                                      checkpoint_hash=GENESIS))
    return seq, prev


def _insert(conn: Connection, rows: list[m.AuditLog]) -> None:
    conn.execute(insert(_TABLE), [{name: getattr(row, name) for name in (*FIELDS, "hash")}
                                  for row in rows])


def _move(conn: Connection, old: tuple[int, str], new: tuple[int, str]) -> int:
    """Move the head from ``old`` to ``new``; 1 if it was at ``old`` (else 0)."""
    return int(conn.execute(_ADVANCE, {"old_seq": old[0], "old_hash": old[1],
                                       "new_seq": new[0], "new_hash": new[1]}).rowcount)


def _fast(conn: Connection, rows: list[m.AuditLog], cached: tuple[int, str],
          follows: bool) -> tuple[int, str] | None:
    """Append after the remembered head with one statement; None if it was stale (the
    failed statement changed nothing)."""
    new = _number(rows, *cached)
    if follows:
        try:
            _insert(conn, rows)  # the trigger checks the head and moves it
        except IntegrityError as exc:
            # behind the head: a row already holds the position (the unique index on
            # ``seq`` is checked before the trigger runs); otherwise the trigger's abort
            if any(s in str(exc.orig) for s in (HEAD_MOVED, "audit_log.seq")):
                return None
            raise
        return new
    if _move(conn, cached, new) != 1:
        return None
    _insert(conn, rows)
    return new


def _follow_trigger(conn: Connection) -> bool:
    if conn.dialect.name != "sqlite":
        return False  # PostgreSQL: a failed statement would abort the whole transaction
    return conn.execute(select(literal_column("1")).select_from(table("sqlite_master"))
                        .where(literal_column("type") == "trigger",
                               literal_column("name") == FOLLOW_TRIGGER)).first() is not None


def chain(session: Session, _context: Any, _instances: Any) -> None:
    """Number, hash and insert the audit rows about to be flushed; move the head."""
    rows = _new_rows(session)
    if not rows:
        return
    for row in rows:
        row.created_at = row.created_at or utcnow()
        row.details = row.details or {}
        session.expunge(row)  # inserted below, with Core: nothing reads them back
    conn = session.connection()
    engine = conn.engine
    cached = _heads.get(engine)
    new = None if cached is None else _fast(conn, rows, cached, _follows.get(engine, False))
    if new is None:  # first append of this engine, or another appended since
        follows = _follows.get(engine)
        if follows is None:
            follows = _follows[engine] = _follow_trigger(conn)
        old = _locked_head(conn)
        new = _number(rows, *old)
        if not follows:
            _move(conn, old, new)
        _insert(conn, rows)
    _heads[engine] = new
