"""Running ARM quota usage per subscription and region (for the prepare-only quota rule), a region index, and
partial indexes on the lock and migration-state columns.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


LOCKED = sa.text("lock_holder IS NOT NULL")
IN_MIGRATION = sa.text("migration_state IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_resources_sub_model_location", "resources", ["subscription_id", "model", "location"])
    # Few rows are ever locked: partial indexes keep the planner (SQLite after ANALYZE especially) from judging
    # "lock_holder = x" unselective because almost every row has NULL there.
    op.drop_index("ix_resources_lock_holder", "resources")
    op.drop_index("ix_resources_migration_state", "resources")
    op.create_index("ix_resources_lock_holder", "resources", ["lock_holder"], sqlite_where=LOCKED,
                    postgresql_where=LOCKED)
    op.create_index("ix_resources_migration_state", "resources", ["migration_state"], sqlite_where=IN_MIGRATION,
                    postgresql_where=IN_MIGRATION)
    op.create_table(
        "arm_usage",
        sa.Column("subscription_id", sa.String(64), primary_key=True),
        sa.Column("location", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    _backfill()


def _backfill() -> None:
    """Count what ARM resources stored by an older version already use."""
    import orjson

    from classic2arm.domain.usage import usage_of

    conn = op.get_bind()
    totals: dict[tuple[str, str, str], int] = {}
    rows = conn.execute(sa.text("SELECT subscription_id, location, type, doc FROM resources WHERE model = 'arm'"))
    for sub, location, rtype, doc in rows:
        data = doc if isinstance(doc, dict) else orjson.loads(doc)
        for kind, n in usage_of(rtype, data).items():
            key = (sub, location or "", kind)
            totals[key] = totals.get(key, 0) + n
    if totals:
        conn.execute(sa.text("INSERT INTO arm_usage (subscription_id, location, kind, value) VALUES (:s, :l, :k, :v)"),
                     [{"s": s, "l": loc, "k": k, "v": v} for (s, loc, k), v in totals.items()])


def downgrade() -> None:
    op.drop_table("arm_usage")
    op.drop_index("ix_resources_lock_holder", "resources")
    op.drop_index("ix_resources_migration_state", "resources")
    op.create_index("ix_resources_lock_holder", "resources", ["lock_holder"])
    op.create_index("ix_resources_migration_state", "resources", ["migration_state"])
    op.drop_index("ix_resources_sub_model_location", "resources")
