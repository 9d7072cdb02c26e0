"""Key pools: several API keys per provider (``provider_keys``), decision 0066.

Revision ID: 0014_provider_keys
Revises: 0013_stored_responses
Create Date: 2026-12-04

- ``provider_keys``: one row per key (label, ciphertext, master key id, last four,
  weight, own rpm/tpm limits, enabled, expiry, when the vendor refused it).
- Each provider's stored key moves into its pool as its first key, label "default",
  with its expiry. The ciphertext moves as it is: pool keys are sealed with the
  provider's row id as associated data, as the single key was, so nothing is decrypted
  here (a migration need not hold the master key).
- The ``providers.api_key_*`` columns are dropped: the pool is the one place keys live.

Downgrade puts each provider's first key back on its row and drops the pool (keys
beyond the first are lost: say so before downgrading a deployment that uses pools).

Frozen history: plain SQL over the tables, no import of the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK, UTCDateTime

revision: str = "0014_provider_keys"
down_revision: str | None = "0013_stored_responses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_COLUMNS = ("api_key_ciphertext", "api_key_key_id", "api_key_last4", "api_key_set_at",
                "api_key_expires_at")


def upgrade() -> None:
    op.create_table(
        "provider_keys",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("provider_id", BigIntPK, nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(64), nullable=False),
        sa.Column("last4", sa.String(8), nullable=False),
        sa.Column("weight", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("rpm", sa.Integer()),
        sa.Column("tpm", sa.Integer()),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("failed_at", UTCDateTime()),
        sa.Column("set_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_provider_keys"),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], ondelete="CASCADE",
                                name="fk_provider_keys_provider_id_providers"),
        sa.UniqueConstraint("provider_id", "label", name="uq_provider_keys_provider_id_label"),
        sa.CheckConstraint("weight >= 1 AND weight <= 1000", name="ck_provider_keys_weight"),
        sa.CheckConstraint("rpm IS NULL OR rpm >= 1", name="ck_provider_keys_rpm"),
        sa.CheckConstraint("tpm IS NULL OR tpm >= 1", name="ck_provider_keys_tpm"),
    )
    op.create_index("ix_provider_keys_provider_id", "provider_keys", ["provider_id"])
    op.execute(sa.text(
        "INSERT INTO provider_keys (provider_id, label, ciphertext, master_key_id, last4, "
        "expires_at, set_at, updated_at) "
        "SELECT id, 'default', api_key_ciphertext, COALESCE(api_key_key_id, ''), "
        "COALESCE(api_key_last4, ''), api_key_expires_at, "
        "COALESCE(api_key_set_at, CURRENT_TIMESTAMP), COALESCE(api_key_set_at, CURRENT_TIMESTAMP) "
        "FROM providers WHERE api_key_ciphertext IS NOT NULL ORDER BY id"))
    with op.batch_alter_table("providers") as batch:
        for column in _OLD_COLUMNS:
            batch.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("api_key_ciphertext", sa.LargeBinary()))
        batch.add_column(sa.Column("api_key_key_id", sa.String(64)))
        batch.add_column(sa.Column("api_key_last4", sa.String(8)))
        batch.add_column(sa.Column("api_key_set_at", UTCDateTime()))
        batch.add_column(sa.Column("api_key_expires_at", UTCDateTime()))
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT provider_id, ciphertext, master_key_id, last4, set_at, expires_at "
        "FROM provider_keys ORDER BY id")).all()
    moved: set[int] = set()
    for provider_id, ciphertext, master_key_id, last4, set_at, expires_at in rows:
        if provider_id in moved:
            continue
        moved.add(provider_id)
        bind.execute(sa.text(
            "UPDATE providers SET api_key_ciphertext = :c, api_key_key_id = :k, "
            "api_key_last4 = :l, api_key_set_at = :s, api_key_expires_at = :e "
            "WHERE id = :id"), {"c": ciphertext, "k": master_key_id, "l": last4,
                                "s": set_at, "e": expires_at, "id": provider_id})
    op.drop_index("ix_provider_keys_provider_id", table_name="provider_keys")
    op.drop_table("provider_keys")
