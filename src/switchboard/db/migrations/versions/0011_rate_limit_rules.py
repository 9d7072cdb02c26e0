"""Rate-limit overrides per role, user and API token.

Revision ID: 0011_rate_limit_rules
Revises: 0010_budgets
Create Date: 2026-12-04

- ``rate_limit_rules``: one row per overridden role, user or token (exactly one target,
  matching ``scope``); a NULL limit inherits, 0 means no limit. The configured defaults
  per role (``SWITCHBOARD_RATE_LIMITS_*``) apply where no row says otherwise
  (``services.rate_limit_rules``, decision 0060).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK, UTCDateTime

revision: str = "0011_rate_limit_rules"
down_revision: str | None = "0010_budgets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_rules",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16)),
        sa.Column("user_id", BigIntPK),
        sa.Column("api_token_id", BigIntPK),
        sa.Column("requests_per_minute", sa.Integer()),
        sa.Column("tokens_per_minute", sa.Integer()),
        sa.Column("concurrent", sa.Integer()),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_rate_limit_rules"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_rate_limit_rules_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["api_token_id"], ["api_tokens.id"],
                                name="fk_rate_limit_rules_api_token_id_api_tokens",
                                ondelete="CASCADE"),
        sa.UniqueConstraint("role", name="uq_rate_limit_rules_role"),
        sa.UniqueConstraint("user_id", name="uq_rate_limit_rules_user_id"),
        sa.UniqueConstraint("api_token_id", name="uq_rate_limit_rules_api_token_id"),
        sa.CheckConstraint("scope IN ('role', 'user', 'token')", name="ck_rate_limit_rules_scope"),
        sa.CheckConstraint(
            "(scope = 'role' AND role IS NOT NULL AND user_id IS NULL AND api_token_id IS NULL)"
            " OR (scope = 'user' AND role IS NULL AND user_id IS NOT NULL"
            " AND api_token_id IS NULL)"
            " OR (scope = 'token' AND role IS NULL AND user_id IS NULL"
            " AND api_token_id IS NOT NULL)", name="ck_rate_limit_rules_one_target"),
        sa.CheckConstraint("role IS NULL OR role IN ('admin', 'user')",
                           name="ck_rate_limit_rules_role"),
        sa.CheckConstraint("requests_per_minute >= 0 AND tokens_per_minute >= 0"
                           " AND concurrent >= 0", name="ck_rate_limit_rules_not_negative"),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_rules")
