"""Enrolment and privacy: user roles, invites, the stranger counter, and the redaction notice flag.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from bot.store import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("role", sa.String(20), nullable=False, server_default="practitioner"))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("told_redacted", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime()),
    )
    op.create_table(
        "strangers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("strangers")
    op.drop_table("invites")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("told_redacted")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("role")
