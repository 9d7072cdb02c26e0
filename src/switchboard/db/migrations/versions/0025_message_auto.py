"""Auto's pick on the answer: which model Auto chose for the turn, and why.

Revision ID: 0025_message_auto
Revises: 0024_image_captions
Create Date: 2026-12-04

``messages.auto`` (JSON, nullable): ``{"task", "confidence", "tier", "model", "why"}``
when the user asked Auto (issue 16 item 3; decision 0156). Until now the reason was
only in the stream's ``start`` event, so a reload, another tab or an export lost it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import JSONType

revision: str = "0025_message_auto"
down_revision: str | None = "0024_image_captions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("auto", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("auto")
