"""The resources an operation created, read by its id (a committed unit's page lists what its last prepare
created): a partial index of the event log's creations stamped with an operation. Only those entries pay for it
(a 10,000-VM migration's ~48,000 of its ~190,000), not the updates and deletes, nor an import's creations.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CREATIONS = sa.text("action = 'create' AND operation_id IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_events_creations", "events", ["operation_id"], sqlite_where=CREATIONS,
                    postgresql_where=CREATIONS)


def downgrade() -> None:
    op.drop_index("ix_events_creations", table_name="events")
