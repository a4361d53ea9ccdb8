"""The event log is read in order (the change feed that keeps a classic index current), not per resource: drop
the per-resource index, which every write paid for — two entries of a long key per row migrated.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_resource", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_resource", "events", ["resource_key"])
