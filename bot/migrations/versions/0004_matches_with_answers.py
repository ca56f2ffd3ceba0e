"""What an answer matched is kept on the answer itself (a JSON list of [kind, ref, score]), so that
keeping an answer is one statement; the answer_matches table goes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_answers = sa.table("answers", sa.column("id", sa.Integer), sa.column("matched", sa.JSON))
_matches = sa.table("answer_matches", sa.column("id", sa.Integer), sa.column("answer_id", sa.Integer),
                    sa.column("kind", sa.String), sa.column("ref", sa.String), sa.column("score", sa.Float))


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("matched", sa.JSON()))
    connection = op.get_bind()
    matched = defaultdict(list)
    for answer_id, kind, ref, score in connection.execute(
            sa.select(_matches.c.answer_id, _matches.c.kind, _matches.c.ref, _matches.c.score)
            .order_by(_matches.c.id)):
        matched[answer_id].append([kind, ref, score])
    for answer_id, rows in matched.items():
        connection.execute(_answers.update().where(_answers.c.id == answer_id).values(matched=rows))
    op.drop_index("ix_answer_matches_answer_id", "answer_matches")
    op.drop_table("answer_matches")


def downgrade() -> None:
    op.create_table(
        "answer_matches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("answer_id", sa.Integer(), sa.ForeignKey("answers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref", sa.String(80), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
    )
    op.create_index("ix_answer_matches_answer_id", "answer_matches", ["answer_id"])
    connection = op.get_bind()
    rows = [{"answer_id": answer_id, "kind": kind, "ref": ref, "score": score}
            for answer_id, matched in connection.execute(
                sa.select(_answers.c.id, _answers.c.matched).where(_answers.c.matched.is_not(None)))
            for kind, ref, score in matched]
    if rows:
        connection.execute(_matches.insert(), rows)
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("matched")
