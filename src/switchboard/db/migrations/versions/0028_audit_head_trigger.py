"""SQLite: the audit chain's head moves with each inserted row, inside the INSERT.

Revision ID: 0028_audit_head_trigger
Revises: 0027_conversation_tools
Create Date: 2026-12-04

An ``AFTER INSERT`` trigger on ``audit_log`` (decision 0151): a chained row (``seq`` set)
must follow the head exactly (``seq`` = head + 1, ``prev_hash`` = head hash), or the
INSERT is aborted with ``audit chain head moved``; then the head becomes that row. So
an append on SQLite is one statement (BEGIN IMMEDIATE, INSERT, COMMIT), and a process
whose remembered head is stale learns it from the abort, which undoes only that
statement: it reads the head and inserts again in the same transaction
(``db.audit_chain``). A row inserted without ``seq`` (by hand) is left alone, for
``verify`` to name.

PostgreSQL is unchanged: there a failed statement aborts the whole transaction, so the
chain moves the head with its own conditional UPDATE instead (``db.audit_chain``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from switchboard.db.audit_chain import FOLLOW_TRIGGER, HEAD_MOVED

revision: str = "0028_audit_head_trigger"
down_revision: str | None = "0027_conversation_tools"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_FOLLOW = (
    f"CREATE TRIGGER {FOLLOW_TRIGGER} AFTER INSERT ON audit_log "
    "WHEN NEW.seq IS NOT NULL BEGIN "
    f"SELECT RAISE(ABORT, '{HEAD_MOVED}') WHERE NOT EXISTS (SELECT 1 FROM audit_chain "
    "WHERE id = 1 AND seq = NEW.seq - 1 AND hash = NEW.prev_hash); "
    "UPDATE audit_chain SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END")


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(_SQLITE_FOLLOW)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {FOLLOW_TRIGGER}")
