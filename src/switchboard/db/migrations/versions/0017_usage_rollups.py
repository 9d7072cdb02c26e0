"""Daily roll-ups of usage, backfilled from the raw rows.

Revision ID: 0017_usage_rollups
Revises: 0016_files
Create Date: 2026-12-04

``usage_daily``: usage summed per UTC day x user x provider x model x source;
``usage_daily_models``: the same without the user; ``usage_daily_users``: per day x user;
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


_SUMS = ("requests", "errors", "input_tokens", "output_tokens", "cached_tokens",
         "reasoning_tokens", "cost", "priced", "latency_total", "latency_count",
         "estimated")
_SUMS_SQL = ("count(*), sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), "
             "sum(input_tokens), sum(output_tokens), sum(cached_tokens), "
             "sum(reasoning_tokens), COALESCE(sum(cost), 0), count(cost), "
             "COALESCE(sum(latency_ms), 0), count(latency_ms), "
             "sum(CASE WHEN estimated THEN 1 ELSE 0 END)")
# table -> the columns it groups by
_SHAPES = {"usage_daily": ("day", "user_id", "provider", "model", "source"),
           "usage_daily_models": ("day", "provider", "model", "source"),
           "usage_daily_users": ("day", "user_id")}


def _backfill() -> None:
    dialect = op.get_bind().dialect.name
    day = ("CAST(timezone('UTC', created_at) AS date)" if dialect == "postgresql"
           else "date(created_at)")
    expressions = {"day": day, "user_id": "COALESCE(user_id, 0)", "provider": "provider",
                   "model": "model", "source": "source"}
    for table, key in _SHAPES.items():
        grouped = ", ".join(expressions[name] for name in key)
        op.execute(f"INSERT INTO {table} ({', '.join(key + _SUMS)}) "
                   f"SELECT {grouped}, {_SUMS_SQL} FROM usage_events GROUP BY {grouped}")
    bucket = ("CASE " + " ".join(f"WHEN latency_ms < {b} THEN {i}"
                                 for i, b in enumerate(_BOUNDS))
              + f" ELSE {len(_BOUNDS)} END")
    op.execute(
        "INSERT INTO usage_daily_latency (day, provider, model, bucket, calls) "
        f"SELECT {day}, provider, model, {bucket}, count(*) FROM usage_events "
        f"WHERE latency_ms IS NOT NULL GROUP BY {day}, provider, model, {bucket}")


def _sum_columns() -> list[sa.Column[object]]:
    return [sa.Column(name, sa.Numeric(precision=20, scale=10) if name == "cost"
                      else sa.BigInteger(), nullable=False) for name in _SUMS]


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        sa.Column("id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        *_sum_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_daily")),
        sa.UniqueConstraint("day", "user_id", "provider", "model", "source",
                            name=op.f("uq_usage_daily_day_user_id_provider_model_source")),
    )
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_daily_user_id_day"), ["user_id", "day"],
                              unique=False)
    op.create_table(
        "usage_daily_models",
        sa.Column("id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        *_sum_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_daily_models")),
        sa.UniqueConstraint("day", "provider", "model", "source",
                            name=op.f("uq_usage_daily_models_day_provider_model_source")),
    )
    op.create_table(
        "usage_daily_users",
        sa.Column("id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        *_sum_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_daily_users")),
        sa.UniqueConstraint("day", "user_id", name=op.f("uq_usage_daily_users_day_user_id")),
    )
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
    op.drop_table("usage_daily_users")
    op.drop_table("usage_daily_models")
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_daily_user_id_day"))
    op.drop_table("usage_daily")
