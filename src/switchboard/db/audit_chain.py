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

The chain is computed when a session flushes new ``AuditLog`` rows (``_chain``, a
``before_flush`` listener registered when ``switchboard.db`` is imported, so no code path
can add an unchained row through the ORM): it locks the head row (PostgreSQL: ``SELECT …
FOR UPDATE``, so appends from every worker take one order; SQLite: every writing unit of
work already holds the write lock), numbers and hashes the new rows in the order they
were added, and moves the head, all in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from switchboard.db import models as m
from switchboard.db.types import utcnow

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


def _new_rows(session: Session) -> Iterator[m.AuditLog]:
    for obj in session.new:  # in the order they were added (an ordered identity set)
        if isinstance(obj, m.AuditLog) and obj.hash is None:
            yield obj


@event.listens_for(Session, "before_flush")
def _chain(session: Session, _context: Any, _instances: Any) -> None:
    """Number and hash the audit rows about to be inserted, under the head's lock."""
    rows = list(_new_rows(session))
    if not rows:
        return
    head = session.execute(select(m.AuditChain.seq, m.AuditChain.hash)
                           .where(m.AuditChain.id == 1).with_for_update()).first()
    if head is None:  # removed by hand: go on after the newest row, and say so
        log.error("the audit chain's head row is missing; rebuilding it from the last row")
        last = session.execute(select(m.AuditLog.seq, m.AuditLog.hash)
                               .order_by(m.AuditLog.seq.desc()).limit(1)).first()
        seq, prev = (int(last[0]), str(last[1])) if last and last[0] else (0, GENESIS)
        session.execute(insert(m.AuditChain).values(
            id=1, seq=seq, hash=prev, checkpoint_seq=0, checkpoint_hash=GENESIS))
    else:
        seq, prev = int(head[0]), str(head[1])
    for row in rows:
        seq += 1
        row.seq = seq
        row.prev_hash = prev
        row.created_at = row.created_at or utcnow()
        row.details = row.details or {}
        prev = row.hash = row_hash(fields_of(row))
    session.execute(update(m.AuditChain).where(m.AuditChain.id == 1)
                    .values(seq=seq, hash=prev))
