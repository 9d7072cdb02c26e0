"""The tools a conversation has switched on, remembered across reloads.

Revision ID: 0027_conversation_tools
Revises: 0026_file_blobs
Create Date: 2026-12-04

``conversations.tools``: the public tool names the person switched on in the composer's
tools menu for this conversation (issue 14; decision 0164). NULL: never chosen, the
composer starts from the tools "on in new chats".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import JSONType

revision: str = "0027_conversation_tools"
down_revision: str | None = "0026_file_blobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("tools", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("tools")
