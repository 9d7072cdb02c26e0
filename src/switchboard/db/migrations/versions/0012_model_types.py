"""Model types: a catalog model is a chat model or an embedding model.

Revision ID: 0012_model_types
Revises: 0011_rate_limit_rules
Create Date: 2026-12-04

- ``provider_models.model_type``: ``chat`` (every existing row) or ``embedding``
  (``POST /v1/embeddings``; never offered for chat). CHECK-constrained.
- ``provider_models.embedding``: what an embedding model's vectors are (JSON:
  ``dimensions``, ``custom_dimensions``); null for chat models.

Existing installs keep their rows as they are; embedding models are added like any
model (the catalog knows their prices), and ``offline:offline-embed`` answers whether or
not it is listed. Decision 0076.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import JSONType

revision: str = "0012_model_types"
down_revision: str | None = "0011_rate_limit_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider_models") as batch:
        batch.add_column(sa.Column("model_type", sa.String(16), server_default="chat",
                                   nullable=False))
        batch.add_column(sa.Column("embedding", JSONType, nullable=True))
        batch.create_check_constraint("model_type",
                                      "model_type IN ('chat', 'embedding')")


def downgrade() -> None:
    with op.batch_alter_table("provider_models") as batch:
        batch.drop_constraint("model_type", type_="check")
        batch.drop_column("embedding")
        batch.drop_column("model_type")
