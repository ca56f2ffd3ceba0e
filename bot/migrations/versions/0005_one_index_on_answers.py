"""Answers keep one index: the unique (run_id, step) one already serves lookups by run, so the
separate run_id index only cost every answer a second index write.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_answers_run_id", "answers")


def downgrade() -> None:
    op.create_index("ix_answers_run_id", "answers", ["run_id"])
