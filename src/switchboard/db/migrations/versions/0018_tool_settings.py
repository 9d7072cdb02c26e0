"""Tool settings: an administrator's choices per tool (issue 14, decision 0097).

Revision ID: 0018_tool_settings
Revises: 0017_usage_rollups
Create Date: 2026-12-04

``tool_settings``: one row per tool an administrator changed (enabled, on by default,
policy allow | ask | deny); NULL keeps the tool's own default. Keyed by the tool's
public name (``calculator``, ``server.tool``), not a foreign key: MCP tools come and go.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import UTCDateTime

revision: str = "0018_tool_settings"
down_revision: str | None = "0017_usage_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tool_settings",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("default_on", sa.Boolean(), nullable=True),
        sa.Column("policy", sa.String(length=8), nullable=True),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("policy IS NULL OR policy IN ('allow', 'ask', 'deny')",
                           name=op.f("ck_tool_settings_policy")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tool_settings")),
    )


def downgrade() -> None:
    op.drop_table("tool_settings")
