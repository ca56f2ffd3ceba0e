"""Safety alarms: that the immediate-danger safety net fired, never the text that fired it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from bot.store import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_alarms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("place", sa.String(80), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_safety_alarms_user_id", "safety_alarms", ["user_id"])


def downgrade() -> None:
    op.drop_table("safety_alarms")
