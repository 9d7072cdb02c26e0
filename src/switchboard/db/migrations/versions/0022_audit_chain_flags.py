"""A hash chain over the audit trail, and feature flags.

Revision ID: 0022_audit_chain_flags
Revises: 0021_alerts
Create Date: 2026-12-04

- ``audit_log`` gains ``address`` and ``request_id`` (who, from where, in which request)
  and the chain: ``seq``, ``prev_hash``, ``hash`` (``db.audit_chain``, decision 0123).
  Rows written before are chained here, in id order.
- ``audit_chain``: the chain's head and the retention checkpoint (one row).
- The append-only triggers now let a DELETE through for rows at or below the checkpoint
  (retention moves the checkpoint and deletes in one transaction); UPDATE stays refused.
- ``feature_flags`` and the flags' change stamp (``revocation_stamp`` row 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.audit_chain import GENESIS, row_hash
from switchboard.db.types import BigIntPK, JSONType, UTCDateTime

revision: str = "0022_audit_chain_flags"
down_revision: str | None = "0021_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit_log is append-only"
_SQLITE_DELETE = (
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "WHEN OLD.seq IS NULL OR OLD.seq > (SELECT checkpoint_seq FROM audit_chain WHERE id = 1) "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE is not allowed'); END")
_SQLITE_UPDATE = ("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                  f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE is not allowed'); END")
# PostgreSQL: the same rule in the trigger function of migration 0003.
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN "
    "IF TG_OP = 'DELETE' AND OLD.seq IS NOT NULL AND OLD.seq <= "
    "(SELECT checkpoint_seq FROM audit_chain WHERE id = 1) THEN RETURN OLD; END IF; "
    f"RAISE EXCEPTION '{MESSAGE}: % is not allowed', TG_OP "
    "USING ERRCODE = 'integrity_constraint_violation'; END $$")
_PG_FUNCTION_0003 = (
    "CREATE OR REPLACE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql "
    f"AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}: % is not allowed', TG_OP "
    "USING ERRCODE = 'integrity_constraint_violation'; END $$")


def upgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    for column in (sa.Column("address", sa.String(64)), sa.Column("request_id", sa.String(64)),
                   sa.Column("seq", BigIntPK), sa.Column("prev_hash", sa.String(64)),
                   sa.Column("hash", sa.String(64))):
        op.add_column("audit_log", column)
    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", BigIntPK, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("checkpoint_seq", BigIntPK, nullable=False),
        sa.Column("checkpoint_hash", sa.String(64), nullable=False),
        sa.Column("checkpoint_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain"),
    )
    # Chain the rows already there, oldest first (the triggers refuse the UPDATE, so they
    # are lifted for this one transaction).
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    log = sa.table("audit_log", sa.column("id", BigIntPK),
                   sa.column("created_at", UTCDateTime()), sa.column("actor", sa.String),
                   sa.column("actor_user_id", BigIntPK), sa.column("action", sa.String),
                   sa.column("target_type", sa.String), sa.column("target_id", sa.String),
                   sa.column("details", JSONType), sa.column("address", sa.String),
                   sa.column("request_id", sa.String), sa.column("seq", BigIntPK),
                   sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
    bind = op.get_bind()
    prev, seq = GENESIS, 0
    rows = bind.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    for row in rows:
        seq += 1
        fields = {**row, "seq": seq, "prev_hash": prev}
        prev = row_hash(fields)
        bind.execute(log.update().where(log.c.id == row["id"])
                     .values(seq=seq, prev_hash=fields["prev_hash"], hash=prev))
    op.bulk_insert(chain, [{"id": 1, "seq": seq, "hash": prev, "checkpoint_seq": 0,
                            "checkpoint_hash": GENESIS}])
    op.create_index("ix_audit_log_seq", "audit_log", ["seq"], unique=True)
    if sqlite:
        op.execute(_SQLITE_UPDATE)
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(_SQLITE_DELETE)
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
        op.execute(_PG_FUNCTION)

    op.create_table(
        "feature_flags",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("user_ids", JSONType, nullable=False),
        sa.Column("roles", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_by", sa.String(100)),
        sa.PrimaryKeyConstraint("name", name="pk_feature_flags"),
        sa.CheckConstraint("mode IN ('on', 'off', 'rollout')", name="ck_feature_flags_mode"),
    )
    # Kept by the downgrade (a harmless row): added here only if absent.
    op.execute("INSERT INTO revocation_stamp (id, version) SELECT 2, 0 "
               "WHERE NOT EXISTS (SELECT 1 FROM revocation_stamp WHERE id = 2)")


def downgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    op.drop_table("feature_flags")
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    else:
        op.execute(_PG_FUNCTION_0003)
    op.drop_index("ix_audit_log_seq", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        for name in ("hash", "prev_hash", "seq", "request_id", "address"):
            batch.drop_column(name)
    op.drop_table("audit_chain")
    if sqlite:
        op.execute(_SQLITE_UPDATE)
        op.execute(_SQLITE_DELETE.replace(
            "WHEN OLD.seq IS NULL OR OLD.seq > (SELECT checkpoint_seq FROM audit_chain "
            "WHERE id = 1) ", ""))
