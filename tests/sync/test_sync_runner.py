"""The runner over an in-memory HubSpot: what is written, what is remembered, what is not."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.sync.fakes import DAY, FakeHubSpot, PointsModel

from leadscore.gateway.port import (
    ContactUpdate,
    EmailEventRecord,
    SubmissionRecord,
    TaskOutcome,
    TaskSpec,
    WriteFailure,
    WriteReport,
)
from leadscore.records import Contact, Form
from leadscore.settings import Settings
from leadscore.state import CONTACTS_CURSOR, EMAIL_EVENTS_CURSOR, StateStore, open_store
from leadscore.sync import RunSummary, run_sync

T0 = 1_700_000_000_000


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'state.db'}",
        sync_lookback_seconds=0,
        max_concurrency=4,
    )


@pytest.fixture()
def store(settings: Settings) -> Iterator[StateStore]:
    s = open_store(settings.database_url)
    yield s
    s.close()


@pytest.fixture()
def hub() -> FakeHubSpot:
    h = FakeHubSpot(now_ms=T0, forms=[Form("demo", "Demo request")])
    h.add_contact("1", points="10", hubspot_owner_id="501")  # stays a lead
    h.add_contact("2", points="40")  # becomes MQL
    h.add_contact("3", points="70", hubspot_owner_id="502", firstname="Ada")  # becomes SQL
    h.add_contact("4", points="90", lifecyclestage="customer")  # protected
    h.add_contact("5", points="10", lifecyclestage="salesqualifiedlead")  # falls back to lead
    return h


def sync(
    settings: Settings,
    hub: FakeHubSpot,
    store: StateStore,
    now: int | None = None,
    **kw: object,
) -> RunSummary:
    return run_sync(
        settings,
        gateway=hub,
        model=PointsModel(),
        store=store,
        now_ms=now if now is not None else hub.now_ms,
        progress=False,
        **kw,  # type: ignore[arg-type]
    )


def _db_dump(store: StateStore) -> dict[str, list[tuple[object, ...]]]:
    with store.engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        return {
            t: sorted(map(tuple, conn.execute(sa.text(f"SELECT * FROM {t}")).all()), key=repr)
            for t in tables
        }


def test_first_sync_writes_scores_and_stages_and_one_task(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    summary = sync(settings, hub, store)
    c = hub.contacts
    assert [c[i]["leadscore_total"] for i in "12345"] == ["10.0", "40.0", "70.0", "90.0", "10.0"]
    assert [c[i]["lifecyclestage"] for i in "12345"] == [
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "customer",
        "lead",
    ]
    (task,) = hub.tasks
    assert (task.contact_id, task.owner_id) == ("3", "502")
    assert "total 70" in task.body and "points property (+70)" in task.body
    assert summary.outcome == "success" and summary.contacts_scored == 5
    assert summary.actions_by_kind == {
        "set_property": 10,
        "stage_forward": 2,
        "stage_backward": 1,
        "create_task": 1,
    }
    assert summary.api_calls == hub.stats.calls
    # Every applied action is in the audit log with its reasons.
    audit = store.audit_log(run_id=summary.run_id)
    assert len(audit) == 14
    (back,) = [a for a in audit if a.action == "stage_backward"]
    assert (back.contact_id, back.before, back.after) == ("5", "salesqualifiedlead", "lead")
    assert back.reasons[0] == "total 10 < 35"
    (run,) = store.runs()
    assert (run.outcome, run.contacts_scored, run.actions["create_task"]) == ("success", 5, 1)
    assert store.ledger("3")[0].state == "created"


def test_backward_moves_clear_before_they_set_in_a_separate_write(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    sync(settings, hub, store)
    clears = [
        (i, u)
        for i, b in enumerate(hub.writes)
        for u in b
        if u.properties.get("lifecyclestage") == ""
    ]
    # The clear travels with the contact's new scores; the set follows in a later request.
    ((clear_write, clear),) = clears
    assert clear.contact_id == "5" and clear.properties["leadscore_total"] == "10"
    ((set_write, update),) = [
        (i, u)
        for i, b in enumerate(hub.writes)
        for u in b
        if u.properties.get("lifecyclestage") == "lead"
    ]
    assert update.contact_id == "5" and update.properties == {"lifecyclestage": "lead"}
    assert clear_write < set_write
    assert hub.rejected_stage_moves == []
    assert hub.contacts["5"]["lifecyclestage"] == "lead"


def test_backward_stage_sets_are_pooled_into_requests_of_100(
    settings: Settings, store: StateStore
) -> None:
    hub = FakeHubSpot(now_ms=T0)
    for i in range(1, 1001):
        # Every 10th contact sits in SQL with too few points: 100 backward moves in 10 batches.
        stage = "salesqualifiedlead" if i % 10 == 0 else "lead"
        hub.add_contact(str(i), points="10", lifecyclestage=stage)
    summary = sync(settings, hub, store)
    assert summary.actions_by_kind["stage_backward"] == 100
    assert [len(b) for b in hub.writes] == [100] * 10 + [100]
    assert all(u.properties == {"lifecyclestage": "lead"} for u in hub.writes[-1])
    assert all(c["lifecyclestage"] == "lead" for c in hub.contacts.values())
    assert store.contact_states(["10"])["10"].stage == "lead"
    assert [a.action for a in store.audit_log(contact_id="10")] == [
        "set_property",
        "set_property",
        "stage_backward",
    ]


def test_a_failed_stage_set_after_the_clear_is_retried_next_run(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    original = hub.update_contacts

    def fail_sets(updates: Sequence[ContactUpdate]) -> WriteReport:
        if all(u.properties == {"lifecyclestage": "lead"} for u in updates):
            return WriteReport(
                failed=[WriteFailure(u.contact_id, "server hiccup") for u in updates]
            )
        return original(updates)

    hub.update_contacts = fail_sets  # type: ignore[method-assign]
    summary = sync(settings, hub, store)
    assert summary.outcome == "partial"
    assert hub.contacts["5"]["lifecyclestage"] == ""  # cleared, not yet set
    assert hub.contacts["5"]["leadscore_total"] == "10.0"  # its scores landed with the clear
    assert "after clearing it" in store.pending_writes()["5"][0]
    hub.update_contacts = original  # type: ignore[method-assign]
    retry = sync(settings, hub, store)
    assert retry.outcome == "success"
    assert hub.contacts["5"]["lifecyclestage"] == "lead"
    assert store.pending_writes() == {}


def test_a_second_sync_makes_zero_writes(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    sync(settings, hub, store)
    writes, tasks = len(hub.writes), len(hub.tasks)
    again = sync(settings, hub, store)
    assert (len(hub.writes), len(hub.tasks)) == (writes, tasks)
    assert again.actions_by_kind == {} and again.outcome == "success"
    # It re-read the contacts its own writes touched (they bumped lastmodifieddate).
    assert again.contacts_scored == 5
    third = sync(settings, hub, store)
    # The cursor is inclusive (GTE), so only the last-modified contact is read once more.
    assert third.contacts_scored == 1 and len(hub.writes) == writes


def test_dry_run_writes_nothing_and_prints_the_diff(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    before = _db_dump(store)
    calls_before = dict(hub.stats.calls_by_operation)
    out = io.StringIO()
    summary = sync(settings, hub, store, dry_run=True, output="json", stream=out)
    assert hub.writes == [] and hub.tasks == []
    assert _db_dump(store) == before
    ops = {k for k, v in hub.stats.calls_by_operation.items() if v != calls_before.get(k)}
    assert ops <= {
        "list_contacts",
        "lifecycle_stages",
        "list_owners",
        "list_forms",
        "email_events",
        "form_submissions",
    }
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {r["action"] for r in records} == {
        "set_property",
        "stage_forward",
        "stage_backward",
        "create_task",
        "hold",
    }
    back = next(r for r in records if r["action"] == "stage_backward")
    assert back == {
        "contact_id": "5",
        "email": "c5@example.com",
        "action": "stage_backward",
        "property": "lifecyclestage",
        "before": "salesqualifiedlead",
        "after": "lead",
        "reasons": ["total 10 < 35", "points property (+10)"],
    }
    hold = next(r for r in records if r["action"] == "hold")
    assert hold["contact_id"] == "4" and hold["reasons"] == [
        "excluded: stage customer is protected"
    ]
    task = next(r for r in records if r["action"] == "create_task")
    assert (task["contact_id"], task["owner_id"]) == ("3", "502")
    assert summary.run_id is None and summary.dry_run
    assert summary.actions_by_kind["set_property"] == 10

    # The real run then does exactly what the dry-run showed.
    real = sync(settings, hub, store)
    planned = {k: v for k, v in summary.actions_by_kind.items() if k != "hold"}
    assert real.actions_by_kind == planned


def test_dry_run_table_shows_contact_property_change_and_reasons(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    out = io.StringIO()
    sync(settings, hub, store, dry_run=True, output="table", stream=out)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0].split() == ["contact", "email", "property", "before", "->", "after", "reasons"]
    row = next(line for line in lines if line.startswith("5 ") and "lifecyclestage" in line)
    assert "salesqualifiedlead -> (clear) -> lead" in row
    assert "total 10 < 35" in row
    assert lines[-1].startswith("dry-run: 5 contacts scored, 5 would change")
    assert "nothing was written" in lines[-1]


def test_dry_run_on_a_missing_sqlite_file_does_not_create_it(
    tmp_path: Path, hub: FakeHubSpot
) -> None:
    db = tmp_path / "never.db"
    settings = Settings(database_url=f"sqlite:///{db}")
    run_sync(
        settings,
        gateway=hub,
        model=PointsModel(),
        dry_run=True,
        progress=False,
        stream=io.StringIO(),
        now_ms=T0,
    )
    assert not db.exists()
    assert hub.writes == []


def test_falling_back_and_climbing_again_creates_a_second_task_but_hovering_does_not(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    sync(settings, hub, store)
    hub.touch("3", points="68")  # still SQL
    sync(settings, hub, store)
    assert len(hub.tasks) == 1
    hub.touch("3", points="50")  # falls back to MQL
    sync(settings, hub, store)
    assert hub.contacts["3"]["lifecyclestage"] == "marketingqualifiedlead"
    hub.touch("3", points="75")  # climbs again
    sync(settings, hub, store)
    assert [t.contact_id for t in hub.tasks] == ["3", "3"]
    assert hub.tasks[0].key != hub.tasks[1].key
    assert [e.state for e in store.ledger("3")] == ["created", "created"]


def test_unowned_sql_contact_gets_the_default_owner(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    hub.add_contact("6", points="80")
    settings = settings.model_copy(update={"default_owner_id": "999"})
    sync(settings, hub, store)
    (task,) = [t for t in hub.tasks if t.contact_id == "6"]
    assert task.owner_id == "999"


def test_unowned_sql_contact_without_default_is_reported(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    hub.add_contact("6", points="80")
    summary = sync(settings, hub, store)
    (task,) = [t for t in hub.tasks if t.contact_id == "6"]
    assert task.owner_id is None
    assert any("contact 6" in w and "no owner" in w for w in summary.warnings)


def test_failed_writes_are_recorded_and_retried_next_run(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    hub.failing["3"] = "Property values were not valid"
    summary = sync(settings, hub, store)
    assert summary.outcome == "partial" and summary.failures == 1
    assert hub.tasks == []  # no task while the stage did not land
    assert store.pending_writes()["3"][0] == "Property values were not valid"
    assert store.ledger("3")[0].state == "planned"
    assert store.get_cursor(CONTACTS_CURSOR) is not None  # the retry queue covers contact 3

    del hub.failing["3"]
    retry = sync(settings, hub, store)
    assert retry.outcome == "success"
    assert hub.contacts["3"]["lifecyclestage"] == "salesqualifiedlead"
    (task,) = hub.tasks
    assert task.key == store.ledger("3")[0].key
    assert store.pending_writes() == {}


def test_activity_is_pulled_mapped_to_contacts_and_drives_rescoring(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    sync(settings, hub, store)
    sync(settings, hub, store)  # settles the re-read of its own writes
    hub.submissions.append(SubmissionRecord("demo", hub.now_ms + 1, "C2@example.com", "cv1"))
    hub.now_ms += 10
    summary = sync(settings, hub, store)
    # Contact 2 is read by id because of its submission (the other one is the inclusive
    # cursor's re-read); the demo form moves it to SQL with a task.
    assert summary.contacts_scored == 2
    assert hub.contacts["2"]["leadscore_total"] == "70.0"
    assert hub.contacts["2"]["lifecyclestage"] == "salesqualifiedlead"
    assert [t.contact_id for t in hub.tasks] == ["3", "2"]
    assert store.get_cursor("form:demo") == summary_now(store)


def summary_now(store: StateStore) -> int:
    """The `now` of the latest run: where activity cursors stop."""
    return store.runs()[0].started_at_ms


def test_decay_moves_a_contact_down_when_its_window_closes(
    settings: Settings, store: StateStore
) -> None:
    hub = FakeHubSpot(now_ms=T0, forms=[])
    hub.add_contact("1", points="30")
    hub.add_contact("2", points="0")  # written after contact 1, so it holds the cursor
    hub.events.append(EmailEventRecord("e1", "OPEN", T0 - DAY, "c1@example.com"))
    sync(settings, hub, store)
    assert hub.contacts["1"]["lifecyclestage"] == "marketingqualifiedlead"  # 30 + 5
    assert store.contact_states(["1"])["1"].next_due_ms == T0 + 29 * DAY
    sync(settings, hub, store)  # settle
    quiet = sync(settings, hub, store, now=T0 + 10 * DAY)
    assert "read_contacts" not in quiet.calls_by_operation  # not due yet

    later = sync(settings, hub, store, now=T0 + 29 * DAY + 1)
    # Read by id because it came due, though nothing about it changed in HubSpot.
    assert later.calls_by_operation["read_contacts"] == 1
    assert hub.contacts["1"]["leadscore_total"] == "30.0"
    assert hub.contacts["1"]["lifecyclestage"] == "lead"


def test_incremental_reads_only_what_changed(settings: Settings, store: StateStore) -> None:
    hub = FakeHubSpot(now_ms=T0)
    for i in range(1, 501):
        hub.add_contact(str(i), points=str(i % 50))
    sync(settings, hub, store)
    sync(settings, hub, store)
    hub.now_ms += 1
    for i in range(1, 6):
        hub.touch(str(i), points="60")
    writes = len(hub.writes)
    summary = sync(settings, hub, store)
    assert summary.contacts_scored == 5 + 1  # plus the contact holding the inclusive cursor
    assert len(hub.writes) - writes == 1  # one batch update for the five contacts
    assert summary.calls_by_operation.get("list_contacts") is None
    assert summary.calls_by_operation["search_contacts"] == 1


def test_stop_interrupts_between_batches_without_moving_cursors(
    settings: Settings, store: StateStore
) -> None:
    hub = FakeHubSpot(now_ms=T0)
    for i in range(1, 1001):
        hub.add_contact(str(i), points="40")
    stop = threading.Event()

    class StopAfterFirstWrite(FakeHubSpot):
        pass

    original = hub.update_contacts

    def update_then_stop(updates: Sequence[ContactUpdate]) -> WriteReport:
        stop.set()
        return original(updates)

    hub.update_contacts = update_then_stop  # type: ignore[method-assign]
    summary = sync(settings, hub, store, mode="backfill", stop=stop)
    assert summary.outcome == "interrupted"
    assert 0 < summary.contacts_scored < 1000
    assert store.cursors() == {}
    progress = store.unfinished_backfill()
    assert progress is not None and progress.contacts_done == summary.contacts_scored

    hub.update_contacts = original  # type: ignore[method-assign]
    resumed = sync(settings, hub, store, mode="backfill", resume=True)
    assert resumed.outcome == "success"
    assert resumed.contacts_scored == 1000 - summary.contacts_scored
    assert all(c["lifecyclestage"] == "marketingqualifiedlead" for c in hub.contacts.values())
    assert store.unfinished_backfill() is None
    cursors = store.cursors()
    # The backfill leaves the contacts cursor at its own start, the activity cursors at "now".
    assert cursors[CONTACTS_CURSOR] == store.runs()[-1].started_at_ms
    assert cursors[EMAIL_EVENTS_CURSOR] == summary_now(store)


def test_stop_that_cuts_the_listing_short_after_the_last_batch_moves_no_cursor(
    settings: Settings, store: StateStore
) -> None:
    hub = FakeHubSpot(now_ms=T0)
    for i in range(1, 301):
        hub.add_contact(str(i), points="40")
    stop = threading.Event()
    first_write = threading.Event()
    list_all = hub.iter_contacts
    update = hub.update_contacts

    def update_and_signal(updates: Sequence[ContactUpdate]) -> WriteReport:
        first_write.set()
        return update(updates)

    def list_then_stop(properties: Sequence[str]) -> Iterator[list[Contact]]:
        pages = list_all(properties)
        yield next(pages)
        # Ctrl-C lands once the first batch is being written: the listing ends here, and the
        # runner has already taken its last batch, so only this check can see the stop.
        first_write.wait(timeout=10)
        stop.set()

    hub.update_contacts = update_and_signal  # type: ignore[method-assign]
    hub.iter_contacts = list_then_stop  # type: ignore[method-assign]
    summary = sync(settings, hub, store, mode="backfill", stop=stop)
    assert (summary.outcome, summary.contacts_scored) == ("interrupted", 100)
    assert store.cursors() == {}
    assert store.unfinished_backfill() is not None


def test_resume_without_an_interrupted_backfill_is_an_error(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    from leadscore.errors import InputError

    with pytest.raises(InputError, match="no interrupted backfill"):
        sync(settings, hub, store, mode="backfill", resume=True)
    assert hub.writes == []


def test_a_crash_after_the_task_was_created_does_not_duplicate_it(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    created = hub.create_tasks

    def create_then_crash(tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        created(tasks)
        raise RuntimeError("process killed after HubSpot created the task")

    hub.create_tasks = create_then_crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        sync(settings, hub, store)
    assert len(hub.tasks) == 1 and store.ledger("3")[0].state == "planned"
    assert store.runs()[0].outcome == "failed"

    hub.create_tasks = created  # type: ignore[method-assign]
    sync(settings, hub, store)
    assert len(hub.tasks) == 1
    assert store.ledger("3")[0].state == "created"


def test_gateway_errors_end_the_run_as_failed_with_one_line(
    settings: Settings, hub: FakeHubSpot, store: StateStore
) -> None:
    from leadscore.errors import LeadscoreError

    def denied(updates: Sequence[ContactUpdate]) -> WriteReport:
        raise LeadscoreError("HubSpot refused the token (401): check HUBSPOT_ACCESS_TOKEN")

    hub.update_contacts = denied  # type: ignore[method-assign]
    summary = sync(settings, hub, store)
    assert summary.outcome == "failed"
    assert summary.error == "HubSpot refused the token (401): check HUBSPOT_ACCESS_TOKEN"
    assert store.runs()[0].outcome == "failed"
    assert store.cursors() == {}


def test_the_same_runs_work_on_postgresql(postgres_url: str, hub: FakeHubSpot) -> None:
    settings = Settings(database_url=postgres_url, sync_lookback_seconds=0, max_concurrency=4)
    with open_store(postgres_url) as pg:
        first = sync(settings, hub, pg)
        assert first.outcome == "success" and first.actions_by_kind["stage_backward"] == 1
        writes = len(hub.writes)
        assert sync(settings, hub, pg).actions_by_kind == {}
        assert len(hub.writes) == writes
        assert [e.state for e in pg.ledger("3")] == ["created"]
        assert len(pg.audit_log(run_id=first.run_id)) == 14
        assert pg.contact_states(["5"])["5"].stage == "lead"
