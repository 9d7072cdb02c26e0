"""Alerts: rules' settings, channels, alerts, their deliveries and per-process signals.

Revision ID: 0021_alerts
Revises: 0020_mcp_servers
Create Date: 2026-12-04

``alert_rules`` (an admin's settings of the rules in ``services.alert_rules``),
``alert_channels`` (e-mail / webhook / Slack; the secret encrypted like provider keys),
``alerts`` (at most one open per rule and subject: a partial unique index),
``alert_deliveries`` (each notice to each channel, retried a bounded number of times) and
``alert_signals`` (what one server process saw: a breaker opening, the usage recorder's
backlog). Decision 0130.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import JSONType, UTCDateTime

revision: str = "0021_alerts"
down_revision: str | None = "0020_mcp_servers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("min_requests", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sa.UniqueConstraint("kind", name=op.f("uq_alert_rules_kind")),
    )
    op.create_table(
        "alert_channels",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("settings", JSONType, nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("secret_hint", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('email', 'webhook', 'slack')",
                           name=op.f("ck_alert_channels_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_channels_name")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_opened_at"), "alerts", ["opened_at"])
    op.create_index("uq_alerts_open", "alerts", ["rule", "subject"], unique=True,
                    sqlite_where=sa.text("resolved_at IS NULL"),
                    postgresql_where=sa.text("resolved_at IS NULL"))
    op.create_table(
        "alert_deliveries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("alert_id", _ID, nullable=False),
        sa.Column("channel_id", _ID, nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')",
                           name=op.f("ck_alert_deliveries_status")),
        sa.CheckConstraint("event IN ('opened', 'resolved')",
                           name=op.f("ck_alert_deliveries_event")),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE",
                                name=op.f("fk_alert_deliveries_alert_id_alerts")),
        sa.ForeignKeyConstraint(["channel_id"], ["alert_channels.id"], ondelete="CASCADE",
                                name=op.f("fk_alert_deliveries_channel_id_alert_channels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index(op.f("ix_alert_deliveries_alert_id"), "alert_deliveries", ["alert_id"])
    op.create_index(op.f("ix_alert_deliveries_channel_id"), "alert_deliveries",
                    ["channel_id"])
    op.create_index(op.f("ix_alert_deliveries_status_next_at"), "alert_deliveries",
                    ["status", "next_at"])
    op.create_table(
        "alert_signals",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_signals")),
    )
    op.create_index(op.f("ix_alert_signals_kind_created_at"), "alert_signals",
                    ["kind", "created_at"])


def downgrade() -> None:
    op.drop_table("alert_signals")
    op.drop_table("alert_deliveries")
    op.drop_table("alerts")
    op.drop_table("alert_channels")
    op.drop_table("alert_rules")
