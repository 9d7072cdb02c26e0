"""MCP servers as sources of tools (issue 14).

Revision ID: 0020_mcp_servers
Revises: 0019_task_defaults
Create Date: 2026-12-04

``mcp_servers``: one row per configured MCP server (stdio command or Streamable HTTP
URL), its sealed env / header values, whether it is on, its call timeout and the policy
its tools get by default (decision 0107; per tool: ``tool_settings``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK, JSONType, UTCDateTime

revision: str = "0020_mcp_servers"
down_revision: str | None = "0019_task_defaults"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mcp_servers",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("command", sa.Text()),
        sa.Column("args", JSONType, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("env", JSONType, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("url", sa.Text()),
        sa.Column("headers", JSONType, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False,
                  server_default=sa.text("30")),
        sa.Column("default_policy", sa.String(length=8), nullable=False,
                  server_default=sa.text("'ask'")),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mcp_servers"),
        sa.UniqueConstraint("name", name="uq_mcp_servers_name"),
        sa.CheckConstraint("transport IN ('stdio', 'http')", name="ck_mcp_servers_transport"),
        sa.CheckConstraint("default_policy IN ('allow', 'ask', 'deny')",
                           name="ck_mcp_servers_default_policy"),
        sa.CheckConstraint(
            "(transport = 'stdio' AND command IS NOT NULL AND url IS NULL)"
            " OR (transport = 'http' AND url IS NOT NULL AND command IS NULL)",
            name="ck_mcp_servers_endpoint"),
        sa.CheckConstraint("timeout_seconds > 0", name="ck_mcp_servers_timeout_positive"),
    )


def downgrade() -> None:
    op.drop_table("mcp_servers")
