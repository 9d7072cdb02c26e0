"""The revocation stamp: one row whose counter moves with every revocation.

Revision ID: 0008_revocation_stamp
Revises: 0007_conversation_pins
Create Date: 2026-12-03

A token revoked or a user deactivated from the CLI or another worker used to stay
usable for up to a minute in the other processes' auth caches. Each process now reads
this one row at most once a second (or listens on Redis) and drops its caches when the
counter moved (``services.revocations``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK

revision: str = "0008_revocation_stamp"
down_revision: str | None = "0007_conversation_pins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "revocation_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", BigIntPK, server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_revocation_stamp"),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("revocation_stamp")
