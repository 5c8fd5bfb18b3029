"""The state store on SQLite and PostgreSQL: schema from migrations, and every record it keeps."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from leadscore.gateway.port import EmailEventRecord, SubmissionRecord
from leadscore.state import (
    CONTACTS_CURSOR,
    EMAIL_EVENTS_CURSOR,
    AuditEntry,
    BatchOutcome,
    ContactSnapshot,
    LedgerEntry,
    StateStore,
    StateStoreError,
    open_store,
    open_store_for_reading,
)
from leadscore.state.schema import Base

DAY = 86_400_000


def _snapshot(cid: str, email: str | None = None, due: int | None = None) -> ContactSnapshot:
    return ContactSnapshot(cid, email, "lead", {"leadscore_total": "10"}, due)


def test_migrations_build_exactly_the_declared_schema(store: StateStore) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert diff == []
    assert version == "0002"


def test_reopening_an_up_to_date_store_keeps_its_data(store_url: str) -> None:
    with open_store(store_url) as first:
        first.set_cursors({CONTACTS_CURSOR: 123}, now_ms=1)
    with open_store(store_url) as second:
        assert second.cursors() == {CONTACTS_CURSOR: 123}


def test_runs_record_mode_times_counts_and_outcome(store: StateStore) -> None:
    run_id = store.begin_run("backfill", started_at_ms=1_000)
    store.finish_run(
        run_id,
        finished_at_ms=5_000,
        outcome="partial",
        contacts_scored=7,
        actions={"set_property": 5, "create_task": 1},
        api_calls=12,
        rate_limited=2,
        failures=1,
        error="token pat-na1-12345678-abcd-ffff leaked?",
    )
    (run,) = store.runs()
    assert (run.id, run.mode, run.started_at_ms, run.finished_at_ms) == (
        run_id,
        "backfill",
        1_000,
        5_000,
    )
    assert (run.outcome, run.contacts_scored, run.api_calls, run.rate_limited, run.failures) == (
        "partial",
        7,
        12,
        2,
        1,
    )
    assert run.actions == {"create_task": 1, "set_property": 5}
    assert run.error is not None and "pat-na1" not in run.error


def test_cursors_are_upserted_per_stream(store: StateStore) -> None:
    assert store.get_cursor(CONTACTS_CURSOR) is None
    store.set_cursors({CONTACTS_CURSOR: 10, EMAIL_EVENTS_CURSOR: 20}, now_ms=1)
    store.set_cursors({CONTACTS_CURSOR: 30}, now_ms=2)
    assert store.cursors() == {CONTACTS_CURSOR: 30, EMAIL_EVENTS_CURSOR: 20}


def test_activity_is_deduplicated_keyed_by_lowercased_email_and_windowed(
    store: StateStore,
) -> None:
    events = [
        EmailEventRecord("e1", "OPEN", 1_000, "Ann@Example.com", "c1"),
        EmailEventRecord("e2", "CLICK", 3_000, "ann@example.com", "c1", "https://x/pricing"),
    ]
    assert store.add_email_events(events) == {"ann@example.com"}
    store.add_email_events(events)  # a re-read after a lookback stores nothing twice
    subs = [SubmissionRecord("form-1", 2_000, "ANN@example.com", "conv-1", "https://x/demo")]
    store.add_submissions(subs, {"form-1": "Demo request"})
    store.add_submissions(subs, {"form-1": "Demo request"})

    activity = store.activity_for(["ann@EXAMPLE.com", "nobody@example.com"])
    assert list(activity) == ["ann@example.com"]
    ann = activity["ann@example.com"]
    assert [(e.event_id, e.type, e.created) for e in ann.email_events] == [
        ("e1", "OPEN", 1_000),
        ("e2", "CLICK", 3_000),
    ]
    assert ann.email_events[1].url == "https://x/pricing"
    (form,) = ann.form_submissions
    assert (form.form_id, form.form_name, form.submitted_at, form.conversion_id) == (
        "form-1",
        "Demo request",
        2_000,
        "conv-1",
    )
    recent = store.activity_for(["ann@example.com"], since_ms=2_500)["ann@example.com"]
    assert [e.event_id for e in recent.email_events] == ["e2"]
    assert recent.form_submissions == ()

    assert store.prune_activity(before_ms=2_500) == 2
    left = store.activity_for(["ann@example.com"])["ann@example.com"]
    assert [e.event_id for e in left.email_events] == ["e2"] and left.form_submissions == ()


def test_submissions_without_conversion_id_get_a_stable_key(store: StateStore) -> None:
    sub = SubmissionRecord("form-1", 2_000, "bob@example.com")
    store.add_submissions([sub, sub])
    (form,) = store.activity_for(["bob@example.com"])["bob@example.com"].form_submissions
    assert form.conversion_id == "form-1:2000:bob@example.com"


def test_saved_batch_keeps_snapshots_email_map_audit_and_due_times(store: StateStore) -> None:
    run_id = store.begin_run("incremental", 0)
    outcome = BatchOutcome(
        snapshots=[
            _snapshot("1", "A@x.com", due=5 * DAY),
            _snapshot("2", "b@x.com", due=1 * DAY),
            _snapshot("3", None, due=None),
        ],
        audit=[AuditEntry("1", "set_property", "leadscore_total", None, "10", ("demo (+10)",))],
        succeeded=["1", "2", "3"],
    )
    store.save_batch(run_id, outcome, now_ms=100)

    states = store.contact_states(["1", "2", "404"])
    assert states["1"].email == "a@x.com"
    assert states["1"].written == {"leadscore_total": "10"}
    assert states["1"].stage == "lead" and states["1"].next_due_ms == 5 * DAY
    assert states["404"].email is None and states["404"].written == {}
    assert store.contact_ids_for_emails(["a@X.com", "b@x.com", "c@x.com"]) == {
        "a@x.com": "1",
        "b@x.com": "2",
    }
    assert store.due_contact_ids(now_ms=1 * DAY) == ["2"]
    assert store.due_contact_ids(now_ms=10 * DAY) == ["1", "2"]
    assert store.due_contact_ids(now_ms=10 * DAY, after_id="1") == ["2"]
    (entry,) = store.audit_log(contact_id="1")
    assert (entry.run_id, entry.action, entry.property, entry.before, entry.after) == (
        run_id,
        "set_property",
        "leadscore_total",
        None,
        "10",
    )
    assert entry.reasons == ("demo (+10)",) and entry.at_ms == 100

    # A later snapshot replaces the earlier one.
    store.save_batch(run_id, BatchOutcome(snapshots=[_snapshot("2", "b@x.com", None)]), 200)
    assert store.due_contact_ids(now_ms=10 * DAY) == ["1"]


def test_failed_writes_are_kept_with_attempts_until_a_write_succeeds(store: StateStore) -> None:
    store.save_batch(1, BatchOutcome(failed={"7": "INVALID_OPTION"}), now_ms=10)
    store.save_batch(1, BatchOutcome(failed={"7": "still bad"}), now_ms=20)
    assert store.pending_writes() == {"7": ("still bad", 2)}
    assert store.retry_contact_ids() == ["7"]
    store.save_batch(1, BatchOutcome(succeeded=["7"]), now_ms=30)
    assert store.pending_writes() == {}
    assert store.retry_contact_ids() == []


def test_task_ledger_tracks_planned_created_and_cancelled_tasks(store: StateStore) -> None:
    store.plan_tasks([LedgerEntry("k1", "9", "planned", "owner-1", run_id=3)], now_ms=1)
    store.plan_tasks([LedgerEntry("k1", "9", "planned", "owner-1", run_id=4)], now_ms=2)
    state = store.contact_states(["9"])["9"]
    assert (state.open_task_key, state.tasks_total) == ("k1", 1)
    assert store.retry_contact_ids() == ["9"]

    store.save_batch(
        3, BatchOutcome(tasks=[LedgerEntry("k1", "9", "created", "owner-1", "task-77")]), 5
    )
    state = store.contact_states(["9"])["9"]
    assert (state.open_task_key, state.tasks_total) == (None, 1)
    (entry,) = store.ledger("9")
    assert (entry.state, entry.task_id, entry.run_id) == ("created", "task-77", 3)

    store.plan_tasks([LedgerEntry("k2", "9", "planned", None)], now_ms=6)
    store.cancel_tasks(["k2"], "fell back", now_ms=7)
    assert [(e.key, e.state) for e in store.ledger("9")] == [("k1", "created"), ("k2", "cancelled")]
    assert store.contact_states(["9"])["9"].tasks_total == 2
    assert store.retry_contact_ids() == []


def test_stage_clears_are_kept_until_the_stage_is_settled(store: StateStore) -> None:
    store.record_clears([("8", "salesqualifiedlead", "marketingqualifiedlead")], now_ms=1)
    assert store.contact_states(["8"])["8"].cleared_from == "salesqualifiedlead"
    assert store.retry_contact_ids() == ["8"]
    store.save_batch(1, BatchOutcome(stage_settled=["8"]), now_ms=2)
    assert store.contact_states(["8"])["8"].cleared_from is None
    assert store.retry_contact_ids() == []


def test_forgotten_contacts_stop_coming_due_and_lose_pending_work(store: StateStore) -> None:
    store.save_batch(1, BatchOutcome(snapshots=[_snapshot("5", "e@x.com", due=1)]), 1)
    store.save_batch(1, BatchOutcome(failed={"5": "boom"}), 2)
    store.plan_tasks([LedgerEntry("k5", "5", "planned", None)], 3)
    store.forget_contacts(["5"])
    assert store.due_contact_ids(now_ms=10) == []
    assert store.retry_contact_ids() == []
    assert [e.state for e in store.ledger("5")] == ["cancelled"]


def test_backfill_progress_resumes_and_sets_cursors_only_when_done(store: StateStore) -> None:
    assert store.unfinished_backfill() is None
    first = store.start_backfill(run_id=1, started_at_ms=1_000)
    store.save_batch(1, BatchOutcome(backfill_id=first.id, backfill_done=["1", "2"]), now_ms=1_100)
    progress = store.unfinished_backfill()
    assert progress is not None
    assert (progress.id, progress.started_at_ms, progress.contacts_done) == (first.id, 1_000, 2)
    assert store.backfill_done_ids(first.id, ["1", "2", "3"]) == {"1", "2"}
    assert store.cursors() == {}

    # Starting over abandons the unfinished one and its progress.
    second = store.start_backfill(run_id=2, started_at_ms=2_000)
    assert store.backfill_done_ids(first.id, ["1", "2"]) == set()
    store.finish_backfill(second.id, {CONTACTS_CURSOR: 2_000, EMAIL_EVENTS_CURSOR: 2_500}, 3_000)
    assert store.unfinished_backfill() is None
    assert store.cursors() == {CONTACTS_CURSOR: 2_000, EMAIL_EVENTS_CURSOR: 2_500}


def test_an_unusable_database_url_is_one_clear_line(tmp_path: object) -> None:
    for url, expected in [
        ("notadb://x", "invalid LEADSCORE_DATABASE_URL"),
        ("mysql://u@127.0.0.1/x", "LEADSCORE_DATABASE_URL"),
        ("postgresql+psycopg://nobody:secretpw@127.0.0.1:1/x", "cannot open state store"),
    ]:
        try:
            open_store(url)
        except StateStoreError as exc:
            assert expected in exc.message
            assert "\n" not in exc.message and "secretpw" not in exc.message
        else:  # pragma: no cover - the assertion below reports it
            raise AssertionError(f"{url} opened")


def test_reading_opens_without_writing_and_refuses_an_outdated_schema(store_url: str) -> None:
    def revision() -> str | None:
        engine = sa.create_engine(store_url)
        try:
            with engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        finally:
            engine.dispose()

    # An empty database: no state to read, and still no schema afterwards.
    assert open_store_for_reading(store_url) is None
    assert revision() is None

    open_store(store_url).close()
    head = revision()
    reader = open_store_for_reading(store_url)
    assert reader is not None
    reader.close()

    # A schema one revision behind is refused, not migrated.
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    with pytest.raises(StateStoreError) as info:
        open_store_for_reading(store_url)
    assert f"has schema revision 0001, this version needs {head}" in str(info.value)
    assert "\n" not in str(info.value)
    assert revision() == "0001"
