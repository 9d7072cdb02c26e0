"""Stored Responses API answers (``previous_response_id``, ``GET /v1/responses/{id}``).

Revision ID: 0013_stored_responses
Revises: 0012_model_types
Create Date: 2026-12-04

One row per stored answer of ``POST /v1/responses`` (``store`` defaults to true, as on
OpenAI), per user, deleted with the user.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK, JSONType, UTCDateTime

revision: str = "0013_stored_responses"
down_revision: str | None = "0012_model_types"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_responses",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("response_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", BigIntPK, nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("body", JSONType, nullable=False),
        sa.Column("conversation", JSONType, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_stored_responses_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_stored_responses"),
        sa.UniqueConstraint("response_id", name="uq_stored_responses_response_id"),
    )
    op.create_index("ix_stored_responses_user_id_created_at", "stored_responses",
                    ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_stored_responses_user_id_created_at", table_name="stored_responses")
    op.drop_table("stored_responses")
