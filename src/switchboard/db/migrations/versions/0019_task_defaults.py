"""Per-task default models: the model an administrator chose for each task type.

Revision ID: 0019_task_defaults
Revises: 0018_tool_settings
Create Date: 2026-12-04

``task_defaults``: one row per task type that has a default (issue 16 item 2; decision
0113). The model is a ref in TEXT, like ``user_preferences.selected_model``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import UTCDateTime

revision: str = "0019_task_defaults"
down_revision: str | None = "0018_tool_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_defaults",
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("model_ref", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("task", name="pk_task_defaults"),
    )


def downgrade() -> None:
    op.drop_table("task_defaults")
