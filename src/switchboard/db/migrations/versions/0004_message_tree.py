"""Conversations become trees: every message has a parent, and a conversation remembers
which branch is shown (its leaf) and its own system prompt.

Revision ID: 0004_message_tree
Revises: 0003_audit_append_only
Create Date: 2026-12-03

Regenerating an answer or editing a question adds a sibling instead of replacing: the
earlier versions stay, and the user flips between them. Existing conversations are
linear, so each message's parent is the one before it and the leaf is the last one.
SQLite needs a table rebuild to add a foreign key (batch mode); PostgreSQL alters in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK

revision: str = "0004_message_tree"
down_revision: str | None = "0003_audit_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("parent_id", BigIntPK, nullable=True))
        batch.create_foreign_key("fk_messages_parent_id_messages", "messages",
                                 ["parent_id"], ["id"], ondelete="CASCADE")
        batch.create_index("ix_messages_parent_id", ["parent_id"])
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("leaf_id", BigIntPK, nullable=True))
        batch.add_column(sa.Column("system_prompt", sa.Text(), nullable=True))
    op.execute(
        "UPDATE messages SET parent_id = (SELECT max(p.id) FROM messages AS p "
        "WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)"
    )
    op.execute(
        "UPDATE conversations SET leaf_id = (SELECT max(m.id) FROM messages AS m "
        "WHERE m.conversation_id = conversations.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("system_prompt")
        batch.drop_column("leaf_id")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_parent_id")
        batch.drop_constraint("fk_messages_parent_id_messages", type_="foreignkey")
        batch.drop_column("parent_id")
