"""Grades from feedback: votes and the leaderboard's exclusions.

Revision ID: 0023_grades
Revises: 0022_audit_chain_flags
Create Date: 2026-12-04

``grade_votes``: each thumbs up/down, regenerated answer and side-by-side vote as one
Bradley-Terry comparison (decision 0136); ``grade_exclusions``: models the administrator
left off the leaderboard; ``suggestion_daily``: the model picker's suggestions shown and
taken per user and day; ``messages.task``: the question's task type on its answer.
Votes already given as message ratings are copied in, so the
leaderboard starts from the feedback users already gave.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import BigIntPK, UTCDateTime

revision: str = "0023_grades"
down_revision: str | None = "0022_audit_chain_flags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grade_votes",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("user_id", BigIntPK, nullable=True),
        sa.Column("task", sa.String(length=32), nullable=True),
        sa.Column("a", sa.String(length=301), nullable=False),
        sa.Column("b", sa.String(length=301), nullable=True),
        sa.Column("winner", sa.String(length=4), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("message_id", BigIntPK, nullable=True),
        sa.CheckConstraint("source IN ('rating', 'regenerate', 'compare')",
                           name="ck_grade_votes_source"),
        sa.CheckConstraint("winner IN ('a', 'b', 'tie')", name="ck_grade_votes_winner"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_grade_votes_user_id_users"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="SET NULL",
                                name="fk_grade_votes_message_id_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_grade_votes"),
    )
    op.create_index("ix_grade_votes_message_id_source", "grade_votes",
                    ["message_id", "source"])
    op.create_index("ix_grade_votes_task", "grade_votes", ["task"])
    op.create_table(
        "grade_exclusions",
        sa.Column("model", sa.String(length=301), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("model", name="pk_grade_exclusions"),
    )
    op.create_table(
        "suggestion_daily",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", BigIntPK, nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_suggestion_daily_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_suggestion_daily"),
        sa.UniqueConstraint("day", "user_id", name="uq_suggestion_daily_day_user_id"),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("task", sa.String(length=32), nullable=True))
    # Thumbs already given: a win (up) or a loss (down) against the average model.
    op.execute(
        "INSERT INTO grade_votes (created_at, user_id, task, a, b, winner, source, message_id) "
        "SELECT m.created_at, c.user_id, NULL, m.provider || ':' || m.model, NULL, "
        "CASE WHEN m.rating > 0 THEN 'a' ELSE 'b' END, 'rating', m.id "
        "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE m.role = 'assistant' AND m.rating IN (-1, 1) "
        "AND m.provider IS NOT NULL AND m.model IS NOT NULL")


def downgrade() -> None:
    op.drop_table("suggestion_daily")
    op.drop_table("grade_exclusions")
    op.drop_index("ix_grade_votes_task", table_name="grade_votes")
    op.drop_index("ix_grade_votes_message_id_source", table_name="grade_votes")
    op.drop_table("grade_votes")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("task")
