"""Stored files: content-addressed bytes in the data directory, one row per owner.

Revision ID: 0016_files
Revises: 0015_image_models
Create Date: 2026-12-04

``files``: who owns which content (SHA-256), as what media type and size; deleted with
the user. The bytes are not in the database (decision 0081).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK, UTCDateTime

revision: str = "0016_files"
down_revision: str | None = "0015_image_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("owner_id", BigIntPK, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_files_owner_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
        sa.UniqueConstraint("owner_id", "sha256", name="uq_files_owner_id_sha256"),
    )


def downgrade() -> None:
    op.drop_table("files")
