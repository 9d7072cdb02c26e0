"""Image models: a catalog model may be an image-generation model.

Revision ID: 0015_image_models
Revises: 0014_provider_keys
Create Date: 2026-12-04

- ``provider_models.model_type`` also accepts ``image`` (``POST /v1/images/generations``;
  never offered for chat).
- ``provider_models.image``: what an image model makes and what each picture costs
  (JSON: ``prices`` by quality then size, defaults, ``max_n``); null for other types.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import JSONType

revision: str = "0015_image_models"
down_revision: str | None = "0014_provider_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider_models") as batch:
        batch.add_column(sa.Column("image", JSONType, nullable=True))
        batch.drop_constraint("model_type", type_="check")
        batch.create_check_constraint("model_type",
                                      "model_type IN ('chat', 'embedding', 'image')")


def downgrade() -> None:
    op.execute("DELETE FROM provider_models WHERE model_type = 'image'")
    with op.batch_alter_table("provider_models") as batch:
        batch.drop_constraint("model_type", type_="check")
        batch.create_check_constraint("model_type",
                                      "model_type IN ('chat', 'embedding')")
        batch.drop_column("image")
