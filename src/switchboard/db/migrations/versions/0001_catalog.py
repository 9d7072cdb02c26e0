"""Catalog: providers and their models.

Revision ID: 0001_catalog
Revises:
Create Date: 2025-01-01

Migrations are frozen history: they spell out every column instead of importing the models
(which keep changing). Only the stable column types come from ``switchboard.db.types``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK, JSONType, PricePerMillion, UTCDateTime

revision: str = "0001_catalog"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("base_url", sa.Text()),
        sa.Column("api_key_ciphertext", sa.LargeBinary()),
        sa.Column("api_key_key_id", sa.String(64)),
        sa.Column("api_key_last4", sa.String(8)),
        sa.Column("api_key_set_at", UTCDateTime()),
        sa.Column("api_key_expires_at", UTCDateTime()),
        sa.Column("image_url", sa.Text()),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'unknown'"), nullable=False),
        sa.Column("status_checked_at", UTCDateTime()),
        sa.Column("status_latency_ms", sa.Integer()),
        sa.Column("status_error", sa.Text()),
        sa.Column("settings", JSONType, nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_providers"),
        sa.UniqueConstraint("name", name="uq_providers_name"),
        sa.CheckConstraint(
            "status IN ('unknown', 'ok', 'error')", name="ck_providers_status"
        ),
    )
    op.create_table(
        "provider_models",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("provider_id", BigIntPK, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("model_sdk_id", sa.String(200), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("capabilities", JSONType, nullable=False),
        sa.Column("context_window", sa.Integer()),
        sa.Column("max_output_tokens", sa.Integer()),
        sa.Column("price_input", PricePerMillion),
        sa.Column("price_cached_input", PricePerMillion),
        sa.Column("price_output", PricePerMillion),
        sa.Column("price_cache_write", PricePerMillion),
        sa.Column("description", sa.Text()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_provider_models"),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name="fk_provider_models_provider_id_providers",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint(
            "provider_id", "model_sdk_id", name="uq_provider_models_provider_id_model_sdk_id"
        ),
    )
    op.create_index("ix_provider_models_provider_id", "provider_models", ["provider_id"])
    # Exactly one default model in the whole table (a partial unique index: both SQLite
    # and PostgreSQL index only the rows where is_default is true).
    op.create_index(
        "uq_provider_models_one_default",
        "provider_models",
        ["is_default"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )


def downgrade() -> None:
    op.drop_index("uq_provider_models_one_default", table_name="provider_models")
    op.drop_index("ix_provider_models_provider_id", table_name="provider_models")
    op.drop_table("provider_models")
    op.drop_table("providers")
