"""Image captions: what a vision model said an image shows, made once per image and model.

Revision ID: 0024_image_captions
Revises: 0023_grades
Create Date: 2026-12-04

``image_captions``: one row per (SHA-256 of the image's bytes, captioning model ref)
(issue 15 item 3; decision 0148). Keyed by the bytes' hash rather than by a ``files``
row: images in messages may be inline base64 that were never stored as files, and two
users sending the same picture get the same caption from the same model.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import UTCDateTime

revision: str = "0024_image_captions"
down_revision: str | None = "0023_grades"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "image_captions",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("model_ref", sa.String(length=400), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "model_ref", name="pk_image_captions"),
    )


def downgrade() -> None:
    op.drop_table("image_captions")
