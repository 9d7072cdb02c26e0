"""File blobs: stored files' bytes in the database, for several workers on one PostgreSQL.

Revision ID: 0026_file_blobs
Revises: 0025_message_auto
Create Date: 2026-12-04

``file_blobs``: one row per content (SHA-256 of the bytes) when
``SWITCHBOARD_FILE_STORE`` is ``database`` (the default on PostgreSQL; issue 15 item 1,
decision 0171). The ``files`` rows stay the access check; they name a blob by sha256
(not a foreign key: on the directory store there is no blob row). The column's storage
is left at PostgreSQL's default (TOAST compresses what shrinks: text, SVG; it gives up
on a picture within its first kilobyte — ``EXTERNAL`` measured no faster, decision 0171).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import UTCDateTime

revision: str = "0026_file_blobs"
down_revision: str | None = "0025_message_auto"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_file_blobs"),
    )


def downgrade() -> None:
    op.drop_table("file_blobs")
