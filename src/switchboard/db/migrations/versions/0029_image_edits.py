"""Image models the catalog says edit are marked so on installs seeded before it knew.

Revision ID: 0029_image_edits
Revises: 0028_audit_head_trigger
Create Date: 2026-12-05

A data migration, no schema change. ``provider_models.image`` of a row seeded before the
catalog learned ``edits`` (decisions 0167, 0187) has no ``edits`` key, so the model is
taken as one that cannot edit until its provider's models are imported again. This sets
``edits: true`` on the rows of the models the catalog marks — OpenAI's gpt-image-1 and
dall-e-2, the offline image model — whose ``image`` has no ``edits`` key; a row that says
``edits`` either way (an administrator's choice) is left alone. The list is frozen here:
a migration must not change with a later catalog. Downgrade leaves the key (older code
reads ``edits`` since 0015's JSON; nothing to undo).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import JSONType

revision: str = "0029_image_edits"
down_revision: str | None = "0028_audit_head_trigger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EDITING = {("openai", "gpt-image-1"), ("openai", "dall-e-2"), ("offline", "offline-image")}

_providers = sa.table("providers", sa.column("id", sa.BigInteger), sa.column("kind", sa.String))
_models = sa.table("provider_models", sa.column("id", sa.BigInteger),
                   sa.column("provider_id", sa.BigInteger),
                   sa.column("model_sdk_id", sa.String), sa.column("image", JSONType))


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_models.c.id, _providers.c.kind, _models.c.model_sdk_id, _models.c.image)
        .join(_providers, _providers.c.id == _models.c.provider_id)
        .where(_models.c.model_sdk_id.in_(sorted({m for _, m in EDITING})))).all()
    for row_id, kind, model_id, image in rows:
        if (kind, model_id) in EDITING and isinstance(image, dict) and "edits" not in image:
            bind.execute(sa.update(_models).where(_models.c.id == row_id)
                         .values(image={**image, "edits": True}))


def downgrade() -> None:
    pass
