"""The first schema: users, runs, answers and answer matches.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from bot.store import FreeText, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(80), nullable=False, unique=True),
        sa.Column("area", sa.String(40)),
        sa.Column("waiting_for", sa.String(40)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("dialogue_id", sa.String(40), nullable=False),
        sa.Column("script_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("summary", FreeText()),
    )
    op.create_index("ix_runs_user_id", "runs", ["user_id"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(60), nullable=False),
        sa.Column("value", FreeText(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("run_id", "step"),
    )
    op.create_index("ix_answers_run_id", "answers", ["run_id"])
    op.create_table(
        "answer_matches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("answer_id", sa.Integer(), sa.ForeignKey("answers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref", sa.String(80), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
    )
    op.create_index("ix_answer_matches_answer_id", "answer_matches", ["answer_id"])


def downgrade() -> None:
    op.drop_table("answer_matches")
    op.drop_table("answers")
    op.drop_table("runs")
    op.drop_table("users")
