"""Tables of the state store (SQLAlchemy 2 declarative models); migrations mirror them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY, so surrogate ids use INTEGER there.
_Id = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (migrations refer to them)."""

    metadata = MetaData(naming_convention=NAMING)


class Run(Base):
    """One sync or backfill run: mode, times, counts and outcome."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    mode: Mapped[str] = mapped_column(String(16))
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    finished_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str | None] = mapped_column(String(16))
    contacts_scored: Mapped[int] = mapped_column(Integer, default=0)
    actions_json: Mapped[str] = mapped_column(Text, default="{}")
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class Cursor(Base):
    """Watermark of one input stream (contacts, email events, one form's submissions)."""

    __tablename__ = "cursors"

    stream: Mapped[str] = mapped_column(String(200), primary_key=True)
    value_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class ContactRow(Base):
    """What the service last wrote for one contact and when time alone changes its score.

    The email column doubles as the email -> contact id map used to route activity.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_email", "email"),
        Index("ix_contacts_next_due_ms", "next_due_ms"),
    )

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    stage: Mapped[str | None] = mapped_column(String(100))
    written_json: Mapped[str] = mapped_column(Text, default="{}")
    next_due_ms: Mapped[int | None] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class ActivityRow(Base):
    """One form submission or email event, keyed by the email address it concerns."""

    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("kind", "event_key"),
        Index("ix_activity_email", "email"),
        Index("ix_activity_occurred_at_ms", "occurred_at_ms"),
    )

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(16))  # form | email
    event_key: Mapped[str] = mapped_column(String(300))
    occurred_at_ms: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str | None] = mapped_column(String(32))
    form_id: Mapped[str | None] = mapped_column(String(100))
    form_name: Mapped[str | None] = mapped_column(String(300))
    campaign_id: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(Text)


class AuditRow(Base):
    """One applied action, with the values before and after and the reasons."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_contact_id", "contact_id"),)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigInteger)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    property: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text, default="")


class TaskLedgerRow(Base):
    """A follow-up task by deterministic key: planned before the write, created after."""

    __tablename__ = "task_ledger"
    __table_args__ = (Index("ix_task_ledger_contact_id", "contact_id"),)

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))  # planned | created | cancelled
    owner_id: Mapped[str | None] = mapped_column(String(64))
    task_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class PendingWriteRow(Base):
    """A contact whose last write failed; the next run re-plans and retries it."""

    __tablename__ = "pending_writes"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_failed_at_ms: Mapped[int] = mapped_column(BigInteger)
    last_failed_at_ms: Mapped[int] = mapped_column(BigInteger)


class BackfillRow(Base):
    """One backfill: its start time (the cursors it will leave) and whether it finished."""

    __tablename__ = "backfills"

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigInteger)
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # running | done
    contacts_done: Mapped[int] = mapped_column(Integer, default=0)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class BackfillDoneRow(Base):
    """A contact the running backfill has already scored and applied (skipped on --resume)."""

    __tablename__ = "backfill_done"

    backfill_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class StageClearRow(Base):
    """A contact whose stage the service cleared to move it back, until the set lands.

    A run killed between the clear and the set leaves the contact with no stage; this row
    lets the next run finish the move instead of treating the contact as stageless.
    """

    __tablename__ = "stage_clears"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_stage: Mapped[str] = mapped_column(String(100))
    to_stage: Mapped[str] = mapped_column(String(100))
    at_ms: Mapped[int] = mapped_column(BigInteger)
