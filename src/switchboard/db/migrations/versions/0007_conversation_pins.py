"""Pinned conversations.

Revision ID: 0007_conversation_pins
Revises: 0006_usage_estimates
Create Date: 2026-12-03

- ``conversations.pinned_at``: when the owner pinned the conversation; pinned ones are
  listed first, most recently pinned on top. Existing rows are not pinned (NULL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import UTCDateTime

revision: str = "0007_conversation_pins"
down_revision: str | None = "0006_usage_estimates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("pinned_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("pinned_at")
