"""Accounts (users, preferences, API and setup tokens), chat (conversations, messages),
usage events and the audit log.

Revision ID: 0002_accounts_chat_usage
Revises: 0001_catalog
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK, JSONType, Money, UTCDateTime

revision: str = "0002_accounts_chat_usage"
down_revision: str | None = "0001_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False)


def _updated_at() -> sa.Column[object]:
    return sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False)


def _tokens(*names: str) -> list[sa.Column[object]]:
    return [
        sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
        for name in names
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200)),
        sa.Column("password_hash", sa.Text()),
        sa.Column("role", sa.String(16), server_default=sa.text("'user'"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _created_at(),
        sa.Column("last_login_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.CheckConstraint("role IN ('admin', 'user')", name="ck_users_role"),
    )
    op.create_table(
        "user_preferences",
        sa.Column("user_id", BigIntPK, nullable=False),
        sa.Column("selected_model", sa.Text()),
        sa.Column("settings", JSONType, nullable=False),
        _updated_at(),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_preferences"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_preferences_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("user_id", BigIntPK, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        _created_at(),
        sa.Column("last_used_at", UTCDateTime()),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("revoked_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("user_id", BigIntPK, nullable=False),
        sa.Column("csrf_token", sa.String(128), nullable=False),
        _created_at(),
        sa.Column("last_seen_at", UTCDateTime()),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("user_agent", sa.String(300)),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_web_sessions_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "setup_tokens",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column(
            "purpose", sa.String(32), server_default=sa.text("'admin_setup'"), nullable=False
        ),
        _created_at(),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_setup_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_setup_tokens_token_hash"),
        sa.CheckConstraint("purpose IN ('admin_setup')", name="ck_setup_tokens_purpose"),
    )

    op.create_table(
        "conversations",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("user_id", BigIntPK, nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("provider", sa.String(100)),
        sa.Column("model", sa.String(200)),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_conversations_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_conversations_provider", "conversations", ["provider"])
    op.create_index("ix_conversations_model", "conversations", ["model"])
    op.create_index(
        "ix_conversations_user_id_updated_at", "conversations", ["user_id", "updated_at"]
    )
    op.create_table(
        "messages",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("conversation_id", BigIntPK, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("parts", JSONType, nullable=False),
        sa.Column("provider", sa.String(100)),
        sa.Column("model", sa.String(200)),
        sa.Column("input_tokens", sa.Integer()),
        sa.Column("output_tokens", sa.Integer()),
        sa.Column("cached_tokens", sa.Integer()),
        sa.Column("cache_write_tokens", sa.Integer()),
        sa.Column("reasoning_tokens", sa.Integer()),
        sa.Column("cost", Money),
        sa.Column("latency_ms", sa.Integer()),
        sa.Column("ttft_ms", sa.Integer()),
        sa.Column("finish_reason", sa.String(32)),
        sa.Column(
            "status", sa.String(16), server_default=sa.text("'complete'"), nullable=False
        ),
        sa.Column("error", sa.Text()),
        sa.Column("rating", sa.SmallInteger()),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name="fk_messages_conversation_id_conversations", ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "role IN ('system', 'user', 'assistant', 'tool')", name="ck_messages_role"
        ),
        sa.CheckConstraint(
            "status IN ('complete', 'partial', 'error')", name="ck_messages_status"
        ),
        sa.CheckConstraint("rating IN (-1, 0, 1)", name="ck_messages_rating"),
    )
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])

    op.create_table(
        "usage_events",
        sa.Column("id", BigIntPK, primary_key=True),
        _created_at(),
        sa.Column("user_id", BigIntPK),
        sa.Column("api_token_id", BigIntPK),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        *_tokens(
            "input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens",
            "reasoning_tokens",
        ),
        sa.Column("cost", Money),
        sa.Column("latency_ms", sa.Integer()),
        sa.Column("ttft_ms", sa.Integer()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_usage_events"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_usage_events_user_id_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["api_token_id"], ["api_tokens.id"], name="fk_usage_events_api_token_id_api_tokens",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "source IN ('chat', 'api', 'cli', 'test')", name="ck_usage_events_source"
        ),
        sa.CheckConstraint(
            "status IN ('ok', 'error', 'partial')", name="ck_usage_events_status"
        ),
    )
    for columns in (["provider", "created_at"], ["model", "created_at"],
                    ["user_id", "created_at"], ["created_at"]):
        op.create_index(f"ix_usage_events_{'_'.join(columns)}", "usage_events", columns)

    op.create_table(
        "audit_log",
        sa.Column("id", BigIntPK, primary_key=True),
        _created_at(),
        sa.Column("actor_user_id", BigIntPK),  # not a FK on purpose: see models.AuditLog
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target_type", sa.String(50)),
        sa.Column("target_id", sa.String(200)),
        sa.Column("details", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])
    op.create_index(
        "ix_audit_log_target_type_target_id", "audit_log", ["target_type", "target_id"]
    )


def downgrade() -> None:
    # Dropping a table drops its indexes on both databases; children before parents.
    for table in (
        "audit_log", "usage_events", "messages", "conversations", "setup_tokens",
        "web_sessions", "api_tokens", "user_preferences", "users",
    ):
        op.drop_table(table)
