"""The state store: everything the sync pipeline remembers between runs, in one database."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from leadscore.errors import ConfigError
from leadscore.gateway.port import EmailEventRecord, SubmissionRecord
from leadscore.logs import redact_text
from leadscore.records import EmailEvent, FormSubmission
from leadscore.state.schema import (
    ActivityRow,
    AuditRow,
    BackfillDoneRow,
    BackfillRow,
    ContactRow,
    Cursor,
    PendingWriteRow,
    Run,
    StageClearRow,
    TaskLedgerRow,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Cursor names; form submissions have one cursor per form: FORM_CURSOR_PREFIX + form id.
CONTACTS_CURSOR = "contacts"
EMAIL_EVENTS_CURSOR = "email_events"
FORM_CURSOR_PREFIX = "form:"

# Rows per INSERT / IN (...) so statements stay under every backend's parameter limit.
_CHUNK = 500


class StateStoreError(ConfigError):
    """The state store cannot be opened or migrated (bad URL, unreachable server)."""


@dataclass(frozen=True, slots=True)
class ContactState:
    """What the store knows about one contact before it is planned."""

    contact_id: str
    email: str | None = None
    stage: str | None = None
    written: Mapping[str, str] = field(default_factory=dict)
    next_due_ms: int | None = None
    open_task_key: str | None = None
    tasks_total: int = 0
    # Stage the service cleared to move the contact back, when the set has not landed yet.
    cleared_from: str | None = None


@dataclass(frozen=True, slots=True)
class ContactSnapshot:
    """What to remember about one contact after it was scored (and maybe written)."""

    contact_id: str
    email: str | None
    stage: str | None
    written: Mapping[str, str]
    next_due_ms: int | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One applied action as it lands in the audit log."""

    contact_id: str
    action: str
    property: str | None
    before: str | None
    after: str | None
    reasons: tuple[str, ...] = ()
    run_id: int = 0
    at_ms: int = 0


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A follow-up task in the ledger."""

    key: str
    contact_id: str
    state: str
    owner_id: str | None = None
    task_id: str | None = None
    error: str | None = None
    run_id: int = 0


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One row of the runs table."""

    id: int
    mode: str
    started_at_ms: int
    finished_at_ms: int | None
    outcome: str | None
    contacts_scored: int
    actions: Mapping[str, int]
    api_calls: int
    rate_limited: int
    failures: int
    error: str | None


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    """An unfinished (or the last) backfill."""

    id: int
    run_id: int
    started_at_ms: int
    status: str
    contacts_done: int


@dataclass(slots=True)
class BatchOutcome:
    """Everything one applied batch changes in the store, saved in one transaction."""

    snapshots: list[ContactSnapshot] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    tasks: list[LedgerEntry] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # contact id -> error
    succeeded: list[str] = field(default_factory=list)  # contact ids fully written
    backfill_id: int | None = None
    backfill_done: list[str] = field(default_factory=list)
    # Contacts whose stage is settled in HubSpot: any clear recorded for them is done with.
    stage_settled: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ContactActivity:
    """The stored activity of one email address."""

    form_submissions: tuple[FormSubmission, ...] = ()
    email_events: tuple[EmailEvent, ...] = ()


def _table(model: type[Any]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise StateStoreError("the database returned no id for a new row")
    return int(key[0])


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _normal_email(email: str | None) -> str | None:
    if not email:
        return None
    return email.strip().lower() or None


class StateStore:
    """Typed access to the state database. Every public method is its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    # --- lifecycle ----------------------------------------------------------
    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- dialect helpers ----------------------------------------------------
    def _insert(self, table: sa.Table) -> Any:
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        if self._dialect == "sqlite":
            return sqlite.insert(table)
        raise StateStoreError(f"unsupported database dialect {self._dialect!r}")

    def _insert_ignore(
        self, conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        for chunk in _chunks(rows):
            conn.execute(self._insert(table).on_conflict_do_nothing(), list(chunk))

    def _upsert(
        self,
        conn: Connection,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        keys: Sequence[str],
    ) -> None:
        if not rows:
            return
        updated = [c for c in rows[0] if c not in keys]
        for chunk in _chunks(rows):
            stmt = self._insert(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={c: getattr(stmt.excluded, c) for c in updated},
            )
            conn.execute(stmt, list(chunk))

    def _raw_many(self, conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """executemany of portable SQL written with ? placeholders (SQLite and PostgreSQL)."""
        if not rows:
            return
        if self.engine.dialect.paramstyle != "qmark":
            sql = sql.replace("?", "%s")
        conn.exec_driver_sql(sql, list(rows))

    # --- runs ---------------------------------------------------------------
    def begin_run(self, mode: str, started_at_ms: int) -> int:
        """Record a run as started; returns its id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.insert(_table(Run)).values(
                    mode=mode,
                    started_at_ms=started_at_ms,
                    contacts_scored=0,
                    actions_json="{}",
                    api_calls=0,
                    rate_limited=0,
                    failures=0,
                )
            )
            return _new_id(result)

    def finish_run(
        self,
        run_id: int,
        *,
        finished_at_ms: int,
        outcome: str,
        contacts_scored: int,
        actions: Mapping[str, int],
        api_calls: int,
        rate_limited: int,
        failures: int,
        error: str | None = None,
    ) -> None:
        """Record how a run ended."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(_table(Run))
                .where(_table(Run).c.id == run_id)
                .values(
                    finished_at_ms=finished_at_ms,
                    outcome=outcome,
                    contacts_scored=contacts_scored,
                    actions_json=json.dumps(dict(actions), sort_keys=True),
                    api_calls=api_calls,
                    rate_limited=rate_limited,
                    failures=failures,
                    error=redact_text(error) if error else None,
                )
            )

    def runs(self, limit: int = 50) -> list[RunRecord]:
        """The most recent runs, newest first."""
        t = _table(Run)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.id.desc()).limit(limit)).all()
        return [
            RunRecord(
                id=r.id,
                mode=r.mode,
                started_at_ms=r.started_at_ms,
                finished_at_ms=r.finished_at_ms,
                outcome=r.outcome,
                contacts_scored=r.contacts_scored,
                actions=json.loads(r.actions_json or "{}"),
                api_calls=r.api_calls,
                rate_limited=r.rate_limited,
                failures=r.failures,
                error=r.error,
            )
            for r in rows
        ]

    # --- cursors --------------------------------------------------------------
    def cursors(self) -> dict[str, int]:
        """Every stream's watermark."""
        t = _table(Cursor)
        with self.engine.connect() as conn:
            return {r.stream: r.value_ms for r in conn.execute(sa.select(t)).all()}

    def get_cursor(self, stream: str) -> int | None:
        """One stream's watermark, or None when the stream was never synced."""
        return self.cursors().get(stream)

    def set_cursors(self, values: Mapping[str, int], now_ms: int) -> None:
        """Advance (or set) several watermarks in one transaction."""
        rows = [{"stream": k, "value_ms": v, "updated_at_ms": now_ms} for k, v in values.items()]
        with self.engine.begin() as conn:
            self._upsert(conn, _table(Cursor), rows, ["stream"])

    # --- activity -------------------------------------------------------------
    def add_email_events(self, events: Iterable[EmailEventRecord]) -> set[str]:
        """Store email events (duplicates ignored); returns the emails they concern."""
        rows = []
        emails: set[str] = set()
        for e in events:
            email = _normal_email(e.recipient)
            if email is None:
                continue
            emails.add(email)
            rows.append(
                {
                    "email": email,
                    "kind": "email",
                    "event_key": e.event_id,
                    "occurred_at_ms": e.created,
                    "event_type": e.type,
                    "form_id": None,
                    "form_name": None,
                    "campaign_id": e.campaign_id,
                    "url": e.url,
                }
            )
        if rows:
            with self.engine.begin() as conn:
                self._insert_ignore(conn, _table(ActivityRow), rows)
        return emails

    def add_submissions(
        self, submissions: Iterable[SubmissionRecord], form_names: Mapping[str, str] | None = None
    ) -> set[str]:
        """Store form submissions (duplicates ignored); returns the emails they concern."""
        names = form_names or {}
        rows = []
        emails: set[str] = set()
        for s in submissions:
            email = _normal_email(s.email)
            if email is None:
                continue
            emails.add(email)
            key = s.conversion_id or f"{s.form_id}:{s.submitted_at}:{email}"
            rows.append(
                {
                    "email": email,
                    "kind": "form",
                    "event_key": key,
                    "occurred_at_ms": s.submitted_at,
                    "event_type": None,
                    "form_id": s.form_id,
                    "form_name": names.get(s.form_id),
                    "campaign_id": None,
                    "url": s.page_url,
                }
            )
        if rows:
            with self.engine.begin() as conn:
                self._insert_ignore(conn, _table(ActivityRow), rows)
        return emails

    def activity_for(
        self, emails: Iterable[str | None], since_ms: int | None = None
    ) -> dict[str, ContactActivity]:
        """Stored activity per (lower-cased) email, oldest first, optionally since a time."""
        wanted = sorted({e for e in (_normal_email(x) for x in emails) if e})
        t = _table(ActivityRow)
        forms: dict[str, list[FormSubmission]] = defaultdict(list)
        events: dict[str, list[EmailEvent]] = defaultdict(list)
        cols = (
            t.c.email,
            t.c.kind,
            t.c.occurred_at_ms,
            t.c.form_id,
            t.c.form_name,
            t.c.url,
            t.c.event_key,
            t.c.event_type,
            t.c.campaign_id,
        )
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                stmt = sa.select(*cols).where(t.c.email.in_(chunk))
                if since_ms is not None:
                    stmt = stmt.where(t.c.occurred_at_ms >= since_ms)
                stmt = stmt.order_by(t.c.occurred_at_ms, t.c.id)
                # Plain tuples: this runs for every contact of every run.
                for email, kind, at, form_id, form_name, url, key, etype, campaign in conn.execute(
                    stmt
                ):
                    if kind == "form":
                        forms[email].append(FormSubmission(form_id or "", at, form_name, url, key))
                    else:
                        events[email].append(EmailEvent(etype or "", at, campaign, key, url))
        return {
            e: ContactActivity(tuple(forms.get(e, ())), tuple(events.get(e, ())))
            for e in wanted
            if e in forms or e in events
        }

    def prune_activity(self, before_ms: int) -> int:
        """Forget activity older than the rules can see; returns rows removed."""
        t = _table(ActivityRow)
        with self.engine.begin() as conn:
            return int(conn.execute(sa.delete(t).where(t.c.occurred_at_ms < before_ms)).rowcount)

    # --- contacts -------------------------------------------------------------
    def contact_ids_for_emails(self, emails: Iterable[str]) -> dict[str, str]:
        """email (lower-cased) -> contact id, for the emails the store knows."""
        wanted = sorted({e for e in (_normal_email(x) for x in emails) if e})
        t = _table(ContactRow)
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                stmt = sa.select(t.c.email, t.c.contact_id).where(t.c.email.in_(chunk))
                for email, contact_id in conn.execute(stmt.order_by(t.c.contact_id)).all():
                    found.setdefault(email, contact_id)
        return found

    def contact_states(self, contact_ids: Iterable[str]) -> dict[str, ContactState]:
        """What the store knows about each contact (missing ones get an empty state)."""
        ids = sorted(set(contact_ids))
        c = _table(ContactRow)
        led = _table(TaskLedgerRow)
        rows: dict[str, Any] = {}
        open_keys: dict[str, str] = {}
        totals: dict[str, int] = defaultdict(int)
        clears: dict[str, str] = {}
        sc = _table(StageClearRow)
        with self.engine.connect() as conn:
            for chunk in _chunks(ids):
                clear_stmt = sa.select(sc.c.contact_id, sc.c.from_stage).where(
                    sc.c.contact_id.in_(chunk)
                )
                clears.update((cid, stage) for cid, stage in conn.execute(clear_stmt).all())
                for r in conn.execute(sa.select(c).where(c.c.contact_id.in_(chunk))).all():
                    rows[r.contact_id] = r
                stmt = (
                    sa.select(led.c.contact_id, led.c.key, led.c.state)
                    .where(led.c.contact_id.in_(chunk))
                    .order_by(led.c.created_at_ms, led.c.key)
                )
                for contact_id, key, state in conn.execute(stmt).all():
                    totals[contact_id] += 1
                    if state == "planned":
                        open_keys[contact_id] = key
        states = {}
        for cid in ids:
            row: Any = rows.get(cid)
            states[cid] = ContactState(
                contact_id=cid,
                email=row.email if row is not None else None,
                stage=row.stage if row is not None else None,
                written=json.loads(row.written_json) if row is not None else {},
                next_due_ms=row.next_due_ms if row is not None else None,
                open_task_key=open_keys.get(cid),
                tasks_total=totals.get(cid, 0),
                cleared_from=clears.get(cid),
            )
        return states

    def due_contact_ids(self, now_ms: int, after_id: str = "", limit: int = 100) -> list[str]:
        """Contacts whose score changes by time alone at or before now (keyset paged by id)."""
        t = _table(ContactRow)
        stmt = (
            sa.select(t.c.contact_id)
            .where(t.c.next_due_ms.is_not(None), t.c.next_due_ms <= now_ms)
            .where(t.c.contact_id > after_id)
            .order_by(t.c.contact_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(stmt).all()]

    def retry_contact_ids(self) -> list[str]:
        """Contacts with a failed write or a planned-but-unconfirmed task: re-plan them."""
        p = _table(PendingWriteRow)
        led = _table(TaskLedgerRow)
        with self.engine.connect() as conn:
            ids = {r[0] for r in conn.execute(sa.select(p.c.contact_id)).all()}
            ids.update(
                r[0]
                for r in conn.execute(
                    sa.select(led.c.contact_id).where(led.c.state == "planned")
                ).all()
            )
            ids.update(r[0] for r in conn.execute(sa.select(_table(StageClearRow).c.contact_id)))
        return sorted(ids)

    def pending_writes(self) -> dict[str, tuple[str, int]]:
        """contact id -> (last error, attempts) for writes that failed and await a retry."""
        p = _table(PendingWriteRow)
        with self.engine.connect() as conn:
            return {r.contact_id: (r.error, r.attempts) for r in conn.execute(sa.select(p)).all()}

    def forget_contacts(self, contact_ids: Sequence[str]) -> None:
        """Drop contacts HubSpot no longer has (deleted, merged) so they stop coming due."""
        c = _table(ContactRow)
        p = _table(PendingWriteRow)
        led = _table(TaskLedgerRow)
        with self.engine.begin() as conn:
            for chunk in _chunks(list(contact_ids)):
                conn.execute(sa.delete(c).where(c.c.contact_id.in_(chunk)))
                conn.execute(sa.delete(p).where(p.c.contact_id.in_(chunk)))
                sc = _table(StageClearRow)
                conn.execute(sa.delete(sc).where(sc.c.contact_id.in_(chunk)))
                conn.execute(
                    sa.update(led)
                    .where(led.c.contact_id.in_(chunk), led.c.state == "planned")
                    .values(state="cancelled", error="contact no longer exists in HubSpot")
                )

    def record_clears(self, clears: Sequence[tuple[str, str, str]], now_ms: int) -> None:
        """Remember (contact id, from stage, to stage) before clearing stages to move back."""
        rows = [
            {"contact_id": c, "from_stage": f, "to_stage": t, "at_ms": now_ms} for c, f, t in clears
        ]
        with self.engine.begin() as conn:
            self._upsert(conn, _table(StageClearRow), rows, ["contact_id"])

    # --- task ledger ------------------------------------------------------------
    def plan_tasks(self, entries: Sequence[LedgerEntry], now_ms: int) -> None:
        """Record tasks as planned before any write that could create them (keys are stable)."""
        rows = [
            {
                "key": e.key,
                "contact_id": e.contact_id,
                "run_id": e.run_id,
                "state": "planned",
                "owner_id": e.owner_id,
                "task_id": None,
                "error": None,
                "created_at_ms": now_ms,
                "updated_at_ms": now_ms,
            }
            for e in entries
        ]
        with self.engine.begin() as conn:
            self._insert_ignore(conn, _table(TaskLedgerRow), rows)

    def cancel_tasks(self, keys: Sequence[str], reason: str, now_ms: int) -> None:
        """Mark planned tasks whose contact no longer crosses the line as cancelled."""
        t = _table(TaskLedgerRow)
        with self.engine.begin() as conn:
            for chunk in _chunks(list(keys)):
                conn.execute(
                    sa.update(t)
                    .where(t.c.key.in_(chunk), t.c.state == "planned")
                    .values(state="cancelled", error=reason, updated_at_ms=now_ms)
                )

    def ledger(self, contact_id: str | None = None) -> list[LedgerEntry]:
        """Ledger entries, oldest first (optionally for one contact)."""
        t = _table(TaskLedgerRow)
        stmt = sa.select(t).order_by(t.c.created_at_ms, t.c.key)
        if contact_id is not None:
            stmt = stmt.where(t.c.contact_id == contact_id)
        with self.engine.connect() as conn:
            return [
                LedgerEntry(
                    key=r.key,
                    contact_id=r.contact_id,
                    state=r.state,
                    owner_id=r.owner_id,
                    task_id=r.task_id,
                    error=r.error,
                    run_id=r.run_id,
                )
                for r in conn.execute(stmt).all()
            ]

    # --- batches ----------------------------------------------------------------
    def save_batch(self, run_id: int, outcome: BatchOutcome, now_ms: int) -> None:
        """Persist one applied batch atomically: snapshots, audit, tasks, retries, progress."""
        with self.engine.begin() as conn:
            # Plain executemany: this runs for every batch of every run.
            self._raw_many(
                conn,
                "INSERT INTO contacts (contact_id, email, stage, written_json, next_due_ms,"
                " updated_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (contact_id) DO UPDATE SET"
                " email = excluded.email, stage = excluded.stage,"
                " written_json = excluded.written_json, next_due_ms = excluded.next_due_ms,"
                " updated_at_ms = excluded.updated_at_ms",
                [
                    (
                        s.contact_id,
                        _normal_email(s.email),
                        s.stage,
                        json.dumps(dict(s.written), sort_keys=True),
                        s.next_due_ms,
                        now_ms,
                    )
                    for s in outcome.snapshots
                ],
            )
            self._raw_many(
                conn,
                "INSERT INTO audit_log (run_id, at_ms, contact_id, action, property, before,"
                " after, reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        now_ms,
                        a.contact_id,
                        a.action,
                        a.property,
                        a.before,
                        a.after,
                        json.dumps(list(a.reasons)),
                    )
                    for a in outcome.audit
                ],
            )
            led = _table(TaskLedgerRow)
            for task in outcome.tasks:
                conn.execute(
                    sa.update(led)
                    .where(led.c.key == task.key)
                    .values(
                        state=task.state,
                        task_id=task.task_id,
                        owner_id=task.owner_id,
                        error=task.error,
                        updated_at_ms=now_ms,
                    )
                )
            self._record_failures(conn, outcome.failed, now_ms)
            sc = _table(StageClearRow)
            for chunk in _chunks(outcome.stage_settled):
                conn.execute(sa.delete(sc).where(sc.c.contact_id.in_(chunk)))
            pend = _table(PendingWriteRow)
            cleared = [c for c in outcome.succeeded if c not in outcome.failed]
            for chunk in _chunks(cleared):
                conn.execute(sa.delete(pend).where(pend.c.contact_id.in_(chunk)))
            if outcome.backfill_id is not None and outcome.backfill_done:
                self._raw_many(
                    conn,
                    "INSERT INTO backfill_done (backfill_id, contact_id) VALUES (?, ?)"
                    " ON CONFLICT DO NOTHING",
                    [(outcome.backfill_id, c) for c in outcome.backfill_done],
                )
                bf = _table(BackfillRow)
                conn.execute(
                    sa.update(bf)
                    .where(bf.c.id == outcome.backfill_id)
                    .values(
                        contacts_done=bf.c.contacts_done + len(outcome.backfill_done),
                        updated_at_ms=now_ms,
                    )
                )

    def _record_failures(self, conn: Connection, failed: Mapping[str, str], now_ms: int) -> None:
        if not failed:
            return
        pend = _table(PendingWriteRow)
        ids = sorted(failed)
        existing: dict[str, tuple[int, int]] = {}
        for chunk in _chunks(ids):
            for r in conn.execute(sa.select(pend).where(pend.c.contact_id.in_(chunk))).all():
                existing[r.contact_id] = (r.attempts, r.first_failed_at_ms)
        rows = []
        for cid in ids:
            attempts, first = existing.get(cid, (0, now_ms))
            rows.append(
                {
                    "contact_id": cid,
                    "error": redact_text(failed[cid])[:2000],
                    "attempts": attempts + 1,
                    "first_failed_at_ms": first,
                    "last_failed_at_ms": now_ms,
                }
            )
        self._upsert(conn, pend, rows, ["contact_id"])

    def audit_log(
        self, contact_id: str | None = None, run_id: int | None = None
    ) -> list[AuditEntry]:
        """Audit entries in the order they were written."""
        t = _table(AuditRow)
        stmt = sa.select(t).order_by(t.c.id)
        if contact_id is not None:
            stmt = stmt.where(t.c.contact_id == contact_id)
        if run_id is not None:
            stmt = stmt.where(t.c.run_id == run_id)
        with self.engine.connect() as conn:
            return [
                AuditEntry(
                    contact_id=r.contact_id,
                    action=r.action,
                    property=r.property,
                    before=r.before,
                    after=r.after,
                    reasons=tuple(json.loads(r.reasons or "[]")),
                    run_id=r.run_id,
                    at_ms=r.at_ms,
                )
                for r in conn.execute(stmt).all()
            ]

    # --- backfill progress -------------------------------------------------------
    def unfinished_backfill(self) -> BackfillProgress | None:
        """The most recent backfill still marked running, if any."""
        t = _table(BackfillRow)
        stmt = sa.select(t).where(t.c.status == "running").order_by(t.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            r = conn.execute(stmt).first()
        if r is None:
            return None
        return BackfillProgress(r.id, r.run_id, r.started_at_ms, r.status, r.contacts_done)

    def start_backfill(self, run_id: int, started_at_ms: int) -> BackfillProgress:
        """Begin a new backfill; an older unfinished one is abandoned."""
        t = _table(BackfillRow)
        with self.engine.begin() as conn:
            old = [r[0] for r in conn.execute(sa.select(t.c.id).where(t.c.status == "running"))]
            if old:
                conn.execute(sa.update(t).where(t.c.id.in_(old)).values(status="abandoned"))
                done = _table(BackfillDoneRow)
                conn.execute(sa.delete(done).where(done.c.backfill_id.in_(old)))
            result = conn.execute(
                sa.insert(t).values(
                    run_id=run_id,
                    started_at_ms=started_at_ms,
                    status="running",
                    contacts_done=0,
                    updated_at_ms=started_at_ms,
                )
            )
            bid = _new_id(result)
        return BackfillProgress(bid, run_id, started_at_ms, "running", 0)

    def backfill_done_ids(self, backfill_id: int, contact_ids: Iterable[str]) -> set[str]:
        """Which of these contacts the backfill has already completed."""
        ids = sorted(set(contact_ids))
        t = _table(BackfillDoneRow)
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(ids):
                stmt = sa.select(t.c.contact_id).where(
                    t.c.backfill_id == backfill_id, t.c.contact_id.in_(chunk)
                )
                found.update(r[0] for r in conn.execute(stmt).all())
        return found

    def finish_backfill(self, backfill_id: int, cursors: Mapping[str, int], now_ms: int) -> None:
        """Mark the backfill done and set the incremental cursors it covers, atomically."""
        t = _table(BackfillRow)
        done = _table(BackfillDoneRow)
        rows = [{"stream": k, "value_ms": v, "updated_at_ms": now_ms} for k, v in cursors.items()]
        with self.engine.begin() as conn:
            self._upsert(conn, _table(Cursor), rows, ["stream"])
            conn.execute(
                sa.update(t)
                .where(t.c.id == backfill_id)
                .values(status="done", updated_at_ms=now_ms)
            )
            conn.execute(sa.delete(done).where(done.c.backfill_id == backfill_id))


def _schema_is_current(conn: Connection, engine: Engine) -> bool:
    """True at the head revision, False with no schema at all; an older schema is an error."""
    current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if current == head:
        return True
    if current is None:
        return False
    engine.dispose()
    raise StateStoreError(
        f"state store {engine.url.render_as_string(hide_password=True)} has schema revision "
        f"{current}, this version needs {head}: run `leadscore sync` once to migrate it "
        "(a dry-run never changes the database)"
    )


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def open_store(database_url: str) -> StateStore:
    """Connect to the state database and bring its schema up to date (alembic upgrade head)."""
    store = _open(database_url, migrate=True)
    assert store is not None
    return store


def open_store_for_reading(database_url: str) -> StateStore | None:
    """Open the state database without writing to it (dry-run, explain).

    None when it holds no leadscore schema yet (nothing has been synced); a schema at an
    older revision is refused with one line rather than migrated.
    """
    return _open(database_url, migrate=False)


def _open(database_url: str, *, migrate: bool) -> StateStore | None:
    try:
        # A server can drop idle connections (pre-ping); a SQLite file cannot.
        engine = sa.create_engine(database_url, pool_pre_ping=not database_url.startswith("sqlite"))
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        raise StateStoreError(
            f"invalid LEADSCORE_DATABASE_URL: {redact_text(str(exc).splitlines()[0])}"
        ) from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name != "postgresql":
        engine.dispose()
        raise StateStoreError(
            f"unsupported database {engine.dialect.name!r} in LEADSCORE_DATABASE_URL "
            "(use sqlite or postgresql+psycopg)"
        )
    try:
        with engine.begin() as conn:
            if migrate:
                cfg = _alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            elif not _schema_is_current(conn, engine):
                engine.dispose()
                return None
    except SQLAlchemyError as exc:
        engine.dispose()
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise StateStoreError(
            f"cannot open state store {engine.url.render_as_string(hide_password=True)}: "
            f"{redact_text(first[0] if first else type(exc).__name__)}"
        ) from None
    return StateStore(engine)


def _configure_sqlite(engine: Engine) -> None:
    """WAL and a busy timeout so a reader (dry-run, explain) never blocks a running sync."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
