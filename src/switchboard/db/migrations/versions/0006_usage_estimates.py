"""Estimated usage flags, and the columns that let a crashed answer be closed.

Revision ID: 0006_usage_estimates
Revises: 0005_catalog_states
Create Date: 2026-12-03

- ``usage_events.estimated`` and ``messages.usage_estimated``: the tokens (and cost) were
  estimated by Switchboard because the vendor reported none (a stopped or broken answer).
  Existing rows are reported figures: ``false``.
- ``messages.writer`` / ``messages.progress_at``: which process is writing an answer and
  when it last saved progress, so start-up can close the answers of a dead process
  (decision 0024). A partial index keeps the "answers being written" lookup to those rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import UTCDateTime

revision: str = "0006_usage_estimates"
down_revision: str | None = "0005_catalog_states"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_events") as batch:
        batch.add_column(sa.Column("estimated", sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("usage_estimated", sa.Boolean(),
                                   server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("writer", sa.String(200), nullable=True))
        batch.add_column(sa.Column("progress_at", UTCDateTime(), nullable=True))
    op.create_index("ix_messages_writer", "messages", ["writer"],
                    sqlite_where=sa.text("writer IS NOT NULL"),
                    postgresql_where=sa.text("writer IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_messages_writer", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("progress_at")
        batch.drop_column("writer")
        batch.drop_column("usage_estimated")
    with op.batch_alter_table("usage_events") as batch:
        batch.drop_column("estimated")
