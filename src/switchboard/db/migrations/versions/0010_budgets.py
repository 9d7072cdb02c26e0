"""Budgets: spending limits per user, API token or everyone, and their spend per period.

Revision ID: 0010_budgets
Revises: 0009_fallbacks
Create Date: 2026-12-04

Generated with ``switchboard db revision -m budgets`` (docs/howto/add-a-migration.md),
then tidied. ``budget_spend`` counts nano-dollars in integers so the admission check
(``spent + reserved + cost <= limit``, one UPDATE) is exact on SQLite too
(``services.budget_policy``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK, Money, UTCDateTime

revision: str = "0010_budgets"
down_revision: str | None = "0009_fallbacks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("user_id", BigIntPK, nullable=True),
        sa.Column("api_token_id", BigIntPK, nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("soft", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "(scope = 'global' AND user_id IS NULL AND api_token_id IS NULL)"
            " OR (scope = 'user' AND user_id IS NOT NULL AND api_token_id IS NULL)"
            " OR (scope = 'token' AND api_token_id IS NOT NULL AND user_id IS NULL)",
            name=op.f("ck_budgets_subject")),
        sa.CheckConstraint("period IN ('day', 'week', 'month')", name=op.f("ck_budgets_period")),
        sa.CheckConstraint("scope IN ('global', 'user', 'token')", name=op.f("ck_budgets_scope")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_budgets_amount_positive")),
        sa.ForeignKeyConstraint(["api_token_id"], ["api_tokens.id"],
                                name=op.f("fk_budgets_api_token_id_api_tokens"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_budgets_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint("subject", "period", "soft",
                            name=op.f("uq_budgets_subject_period_soft")),
    )
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_budgets_api_token_id"), ["api_token_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_budgets_user_id"), ["user_id"], unique=False)

    op.create_table(
        "budget_spend",
        sa.Column("budget_id", BigIntPK, nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("spent", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("reserved", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(["budget_id"], ["budgets.id"],
                                name=op.f("fk_budget_spend_budget_id_budgets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("budget_id", "period_start", name=op.f("pk_budget_spend")),
    )


def downgrade() -> None:
    op.drop_table("budget_spend")
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_budgets_user_id"))
        batch_op.drop_index(batch_op.f("ix_budgets_api_token_id"))
    op.drop_table("budgets")
