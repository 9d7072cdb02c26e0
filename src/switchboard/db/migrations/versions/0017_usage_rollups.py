"""Daily roll-ups of usage, backfilled from the raw rows.

Revision ID: 0017_usage_rollups
Revises: 0016_files
Create Date: 2026-12-04

``usage_daily``: usage summed per UTC day x user x provider x model x source;
``usage_daily_latency``: a latency histogram per day x provider x model. The usage
recorder keeps both up to date in the transaction that writes the raw rows; every report
reads them (decision 0129). The backfill below is plain SQL frozen with this revision (a
migration must not import today's services: they change, the revision must not), with
the bucket bounds of ``services/usage_rollup.LATENCY_BOUNDS_MS`` at the time.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_usage_rollups"
down_revision: str | None = "0016_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BOUNDS = (50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000,
           15_000, 20_000, 30_000, 60_000, 120_000)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _backfill() -> None:
    dialect = op.get_bind().dialect.name
    day = ("CAST(timezone('UTC', created_at) AS date)" if dialect == "postgresql"
           else "date(created_at)")
    op.execute(
        "INSERT INTO usage_daily (day, user_id, provider, model, source, requests, errors, "
        "input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost, priced, "
        "latency_total, latency_count, estimated) "
        f"SELECT {day}, COALESCE(user_id, 0), provider, model, source, count(*), "
        "sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), sum(input_tokens), "
        "sum(output_tokens), sum(cached_tokens), sum(reasoning_tokens), "
        "COALESCE(sum(cost), 0), count(cost), COALESCE(sum(latency_ms), 0), "
        "count(latency_ms), sum(CASE WHEN estimated THEN 1 ELSE 0 END) "
        f"FROM usage_events GROUP BY {day}, COALESCE(user_id, 0), provider, model, source")
    bucket = ("CASE " + " ".join(f"WHEN latency_ms < {b} THEN {i}"
                                 for i, b in enumerate(_BOUNDS))
              + f" ELSE {len(_BOUNDS)} END")
    op.execute(
        "INSERT INTO usage_daily_latency (day, provider, model, bucket, calls) "
        f"SELECT {day}, provider, model, {bucket}, count(*) FROM usage_events "
        f"WHERE latency_ms IS NOT NULL GROUP BY {day}, provider, model, {bucket}")


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        sa.Column("id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("priced", sa.BigInteger(), nullable=False),
        sa.Column("latency_total", sa.BigInteger(), nullable=False),
        sa.Column("latency_count", sa.BigInteger(), nullable=False),
        sa.Column("estimated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_daily")),
        sa.UniqueConstraint("day", "user_id", "provider", "model", "source",
                            name=op.f("uq_usage_daily_day_user_id_provider_model_source")),
    )
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_daily_user_id_day"), ["user_id", "day"],
                              unique=False)
    op.create_table(
        "usage_daily_latency",
        sa.Column("id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_daily_latency")),
        sa.UniqueConstraint("day", "provider", "model", "bucket",
                            name=op.f("uq_usage_daily_latency_day_provider_model_bucket")),
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("usage_daily_latency")
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_daily_user_id_day"))
    op.drop_table("usage_daily")
