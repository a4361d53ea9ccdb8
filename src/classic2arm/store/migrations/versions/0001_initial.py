"""Initial schema: subscriptions, resources (document + indexed columns), event log, meta.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("doc", Json, nullable=False),
    )
    op.create_table(
        "resources",
        sa.Column("key", sa.String(1024), primary_key=True),
        sa.Column("id", sa.String(1024), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(8), nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("type_lc", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("name_lc", sa.String(256), nullable=False),
        sa.Column("parent_key", sa.String(1024)),
        sa.Column("resource_group_lc", sa.String(128)),
        sa.Column("location", sa.String(64)),
        sa.Column("status", sa.String(64)),
        sa.Column("migration_state", sa.String(32)),
        sa.Column("lock_holder", sa.String(64)),
        sa.Column("arm_key", sa.String(1024)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("doc", Json, nullable=False),
    )
    op.create_index("ix_resources_sub_type", "resources", ["subscription_id", "type_lc", "name_lc"])
    op.create_index("ix_resources_parent", "resources", ["parent_key"])
    op.create_index("ix_resources_rg", "resources", ["subscription_id", "resource_group_lc"])
    op.create_index("ix_resources_migration_state", "resources", ["migration_state"])
    op.create_index("ix_resources_lock_holder", "resources", ["lock_holder"])
    op.create_index("ix_resources_arm_key", "resources", ["arm_key"])
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("resource_key", sa.String(1024), nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("operation_id", sa.String(64)),
    )
    op.create_index("ix_events_resource", "events", ["resource_key"])
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", Json, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meta")
    op.drop_table("events")
    op.drop_table("resources")
    op.drop_table("subscriptions")
