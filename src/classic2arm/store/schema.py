"""Tables, in SQLAlchemy Core (bulk writes of tens of thousands of rows go through executemany).

A resource is a JSON document plus the columns queries filter on. This module describes the newest
schema; `migrations/` holds how every older database gets there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


class Json(sa.types.TypeDecorator[Any]):
    """JSON, stored as JSONB on PostgreSQL. (A variant naming JSONB would import the PostgreSQL dialect into
    every process, SQLite ones included: a tenth of a second of each command-line call.)"""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.JSON())


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

subscriptions = sa.Table(
    "subscriptions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("doc", Json, nullable=False),
)

resources = sa.Table(
    "resources", metadata,
    sa.Column("key", sa.String(1024), primary_key=True),  # lower-cased id
    sa.Column("id", sa.String(1024), nullable=False),
    sa.Column("subscription_id", sa.String(64), nullable=False),
    sa.Column("model", sa.String(8), nullable=False),  # classic | arm
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
    sa.Column("arm_key", sa.String(1024)),  # lower-cased ARM id of a classic resource's ARM view
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("doc", Json, nullable=False),
    sa.Index("ix_resources_sub_type", "subscription_id", "type_lc", "name_lc"),
    sa.Index("ix_resources_parent", "parent_key"),
    sa.Index("ix_resources_rg", "subscription_id", "resource_group_lc"),
    # Both partial (WHERE … IS NOT NULL) on both backends, as migration 0004 creates them. (Not said here:
    # SQLAlchemy checks dialect options by importing the dialects, which would cost every process both.)
    sa.Index("ix_resources_migration_state", "migration_state"),
    sa.Index("ix_resources_lock_holder", "lock_holder"),
    sa.Index("ix_resources_arm_key", "arm_key"),
    sa.Index("ix_resources_sub_model_location", "subscription_id", "model", "location"),
)

events = sa.Table(
    "events", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("subscription_id", sa.String(64), nullable=False),
    sa.Column("resource_key", sa.String(1024), nullable=False),
    sa.Column("type", sa.String(128), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # create | update | delete
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("operation_id", sa.String(64)),
    # no index on resource_key: the log is read in seq order (see migration 0006)
    # Partial (WHERE action = 'create' AND operation_id IS NOT NULL) on both backends, as migration 0008 creates
    # it: what an operation created (`tx.resources.keys_created_by`).
    sa.Index("ix_events_creations", "operation_id"),
)

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", Json, nullable=False),
)

operations = sa.Table(
    "operations", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("subscription_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # prepare | commit | abort | validate
    sa.Column("unit_key", sa.String(1024), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # InProgress | Succeeded | Failed
    sa.Column("http_status", sa.Integer),
    sa.Column("error_code", sa.String(128)),
    sa.Column("error_message", sa.Text),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_expires", UTCDateTime()),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("request", Json),
    sa.Column("progress", Json),
    # created_at/updated_at are world-clock times (what every surface shows); this is the real time the operation
    # was accepted at, which the admin pacing's "seconds" mode measures from (migration 0007)
    sa.Column("created_real_at", UTCDateTime(), nullable=False),
    sa.Index("ix_operations_unit", "unit_key"),
    sa.Index("ix_operations_status", "status"),
)

units = sa.Table(
    "units", metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # stable hash of the root key
    sa.Column("subscription_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("root_key", sa.String(1024), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("service", sa.String(256)),
    sa.Column("state", sa.String(32)),
    sa.Column("operation_id", sa.String(64)),  # the operation currently or last acting on the unit
    sa.Column("commit_attempted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("doc", Json, nullable=False),  # destination, power states before prepare, …
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_units_sub", "subscription_id", "kind"),
)

vm_timeline = sa.Table(
    "vm_timeline", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subscription_id", sa.String(64), nullable=False),
    sa.Column("vm_key", sa.String(1024), nullable=False),  # classic role key
    sa.Column("event", sa.String(16), nullable=False),  # down | up
    sa.Column("at", UTCDateTime(), nullable=False),  # world clock
    sa.Column("real_at", UTCDateTime(), nullable=False),  # wall clock, for measured durations
    sa.Column("operation_id", sa.String(64)),
    sa.Column("reason", sa.String(128)),
    sa.Index("ix_vm_timeline_vm", "vm_key"),
    sa.Index("ix_vm_timeline_op", "operation_id"),
)

arm_usage = sa.Table(
    "arm_usage", metadata,
    sa.Column("subscription_id", sa.String(64), primary_key=True),
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

credentials = sa.Table(
    "credentials", metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 of a token, or a certificate thumbprint
    sa.Column("subscription_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # token | certificate
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime()),
    sa.Column("description", sa.String(256)),
    sa.Index("ix_credentials_sub", "subscription_id"),
)
