"""Fallback chains: a model's own chain, and which models failed before an answer.

Revision ID: 0009_fallbacks
Revises: 0008_revocation_stamp
Create Date: 2026-12-04

- ``provider_models.fallbacks``: the model refs (``provider:model``) an admin chose to
  answer, in order, when this model fails before its first byte (issue 12, item 4;
  decision 0064). Existing models have none (``[]``).
- ``messages.failed_models``: for an answer given by a fallback, the models that failed
  first (``[{"ref": ..., "error": ...}]``), so the chat can say "answered by X after Y
  failed"; NULL when the first model answered (every existing row).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import JSONType

revision: str = "0009_fallbacks"
down_revision: str | None = "0008_revocation_stamp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider_models") as batch:
        batch.add_column(sa.Column("fallbacks", JSONType, server_default=sa.text("'[]'"),
                                   nullable=False))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("failed_models", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("failed_models")
    with op.batch_alter_table("provider_models") as batch:
        batch.drop_column("fallbacks")
