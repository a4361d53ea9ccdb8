"""Credentials: bearer tokens (stored as SHA-256 hashes) and management certificates (by thumbprint).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("description", sa.String(256)),
    )
    op.create_index("ix_credentials_sub", "credentials", ["subscription_id"])


def downgrade() -> None:
    op.drop_table("credentials")
