"""Migration units (state, commit attempted, the operation acting on them) and the VM data-plane timeline.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("root_key", sa.String(1024), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("service", sa.String(256)),
        sa.Column("state", sa.String(32)),
        sa.Column("operation_id", sa.String(64)),
        sa.Column("commit_attempted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("doc", Json, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_units_sub", "units", ["subscription_id", "kind"])
    op.create_table(
        "vm_timeline",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("vm_key", sa.String(1024), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("real_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operation_id", sa.String(64)),
        sa.Column("reason", sa.String(128)),
    )
    op.create_index("ix_vm_timeline_vm", "vm_timeline", ["vm_key"])
    op.create_index("ix_vm_timeline_op", "vm_timeline", ["operation_id"])


def downgrade() -> None:
    op.drop_table("vm_timeline")
    op.drop_table("units")
