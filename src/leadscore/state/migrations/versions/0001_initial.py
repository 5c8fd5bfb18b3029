"""Initial state store: runs, cursors, contacts, activity, audit log, task ledger, retries, backfills.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("finished_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("contacts_scored", sa.Integer(), nullable=False),
        sa.Column("actions_json", sa.Text(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_table(
        "cursors",
        sa.Column("stream", sa.String(200), nullable=False),
        sa.Column("value_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("stream", name="pk_cursors"),
    )
    op.create_table(
        "contacts",
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("stage", sa.String(100), nullable=True),
        sa.Column("written_json", sa.Text(), nullable=False),
        sa.Column("next_due_ms", sa.BigInteger(), nullable=True),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_contacts"),
    )
    op.create_index("ix_contacts_email", "contacts", ["email"])
    op.create_index("ix_contacts_next_due_ms", "contacts", ["next_due_ms"])
    op.create_table(
        "activity",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("event_key", sa.String(300), nullable=False),
        sa.Column("occurred_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=True),
        sa.Column("form_id", sa.String(100), nullable=True),
        sa.Column("form_name", sa.String(300), nullable=True),
        sa.Column("campaign_id", sa.String(100), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_activity"),
        sa.UniqueConstraint("kind", "event_key", name="uq_activity_kind_event_key"),
    )
    op.create_index("ix_activity_email", "activity", ["email"])
    op.create_index("ix_activity_occurred_at_ms", "activity", ["occurred_at_ms"])
    op.create_table(
        "audit_log",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("property", sa.String(200), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_contact_id", "audit_log", ["contact_id"])
    op.create_table(
        "task_ledger",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("task_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_task_ledger"),
    )
    op.create_index("ix_task_ledger_contact_id", "task_ledger", ["contact_id"])
    op.create_table(
        "pending_writes",
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_failed_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_pending_writes"),
    )
    op.create_table(
        "backfills",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("contacts_done", sa.Integer(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backfills"),
    )
    op.create_table(
        "backfill_done",
        sa.Column("backfill_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("backfill_id", "contact_id", name="pk_backfill_done"),
    )


def downgrade() -> None:
    for table in (
        "backfill_done",
        "backfills",
        "pending_writes",
        "task_ledger",
        "audit_log",
        "activity",
        "contacts",
        "cursors",
        "runs",
    ):
        op.drop_table(table)
