"""Operations keep the real time they were accepted at, beside their world-clock times: `created_at` and
`updated_at` follow the world clock (what every surface shows), `created_real_at` is what the admin pacing's
"seconds" mode measures from (a fixed world clock does not advance). Rows of older releases get their
`created_at`.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("operations", sa.Column("created_real_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE operations SET created_real_at = created_at")
    with op.batch_alter_table("operations") as batch:  # (SQLite: the table is copied; PostgreSQL: one ALTER)
        batch.alter_column("created_real_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("created_real_at")
