"""Stage clears in flight: contacts cleared for a backward move whose set has not landed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_clears",
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("from_stage", sa.String(100), nullable=False),
        sa.Column("to_stage", sa.String(100), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_stage_clears"),
    )


def downgrade() -> None:
    op.drop_table("stage_clears")
