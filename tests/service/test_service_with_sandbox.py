"""`leadscore run` against the sandbox: ticking, two replicas on one PostgreSQL, SIGTERM mid-run."""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from leadscore.sandbox import SandboxHandle, start_sandbox
from leadscore.service.locks import run_lock_for
from leadscore.service.metrics import ServiceMetrics
from leadscore.service.runtime import incremental_sync_job
from leadscore.service.schedule import Schedule
from leadscore.service.scheduler import ScheduledSync
from leadscore.settings import Settings
from leadscore.state import CONTACTS_CURSOR, RunRecord, open_store
from leadscore.sync import run_sync

from .running_service import (
    RULES,
    VENV_BIN,
    clean_environment,
    parse_metrics,
    run_service,
    wait_until,
)

BATCH_UPDATE_PATH = "/crm/v3/objects/contacts/batch/update"


@pytest.fixture()
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(contacts=200, seed=11) as handle:
        yield handle


def service_env(sandbox: SandboxHandle, database_url: str) -> dict[str, str]:
    return {
        "HUBSPOT_ACCESS_TOKEN": sandbox.token,
        "HUBSPOT_BASE_URL": sandbox.base_url,
        "LEADSCORE_HUBSPOT_TIER": "unlimited",
        "LEADSCORE_RULES": str(RULES),
        "LEADSCORE_DATABASE_URL": database_url,
    }


def settings_for(sandbox: SandboxHandle, database_url: str) -> Settings:
    return Settings(
        hubspot_access_token=sandbox.token,
        hubspot_base_url=sandbox.base_url,
        hubspot_tier="unlimited",
        rules=RULES,
        database_url=database_url,
    )  # type: ignore[arg-type]


def finished_runs(database_url: str) -> list[RunRecord]:
    store = open_store(database_url)
    try:
        return sorted(store.runs(), key=lambda r: r.id)
    finally:
        store.close()


def metric_value(metrics: ServiceMetrics, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return parse_metrics(metrics.render().decode()).get(key, 0.0)


def assert_never_overlapping(runs: list[RunRecord]) -> None:
    spans = sorted((r.started_at_ms, r.finished_at_ms) for r in runs)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end is not None and end <= start, f"runs overlap: {spans}"


def test_scheduler_ticks_incremental_syncs_against_the_sandbox(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path}/state.db"
    settings = settings_for(sandbox, database_url)
    metrics = ServiceMetrics()
    scheduled = ScheduledSync(
        job=incremental_sync_job(settings),
        schedule=Schedule(IntervalTrigger(seconds=0.5), "every 0.5 s", run_at_start=True),
        lock=run_lock_for(database_url),
        metrics=metrics,
    )
    scheduled.start()
    try:
        wait_until(
            lambda: metric_value(metrics, "leadscore_runs_total", outcome="success") >= 3,
            60,
            "three successful scheduled runs",
        )
    finally:
        assert scheduled.shutdown(grace_seconds=30)
    runs = finished_runs(database_url)
    assert len(runs) == scheduled.runs_started
    assert [r.mode for r in runs] == ["incremental"] * len(runs)
    # A tick that was still running at shutdown was interrupted; all before it succeeded.
    outcomes = [r.outcome for r in runs]
    assert outcomes[:3] == ["success"] * 3
    assert set(outcomes[3:]) <= {"success", "interrupted"}
    assert_never_overlapping(runs)
    # The first tick writes the portal's scores; later ticks find nothing to change.
    assert runs[0].actions.get("set_property", 0) > 0
    assert all(dict(r.actions) == {} for r in runs[1:])
    # The metrics add up to what the runs table recorded.
    got = parse_metrics(metrics.render().decode())
    for outcome in set(outcomes):
        assert got[("leadscore_runs_total", (("outcome", outcome),))] == outcomes.count(outcome)
    for kind, count in runs[0].actions.items():
        assert got[("leadscore_actions_total", (("kind", kind),))] == count
    assert got[("leadscore_hubspot_api_calls_total", ())] == sum(r.api_calls for r in runs)
    last_success = [r for r in runs if r.outcome == "success"][-1]
    assert last_success.finished_at_ms is not None
    assert got[("leadscore_last_success_timestamp_seconds", ())] == pytest.approx(
        last_success.finished_at_ms / 1000, abs=1.0
    )


@pytest.mark.postgres
def test_two_run_processes_on_one_postgres_never_sync_at_once(
    tmp_path: Path, postgres_url: str
) -> None:
    # Slow HubSpot keeps replica A's first run going while replica B starts and ticks.
    with start_sandbox(contacts=300, seed=12, latency_ms=2000) as sandbox:
        env = service_env(sandbox, postgres_url)
        with run_service(tmp_path, env, name="replica-a") as first:
            first.wait_healthy()
            wait_until(lambda: first.metric("leadscore_run_in_progress") == 1, 60, "A's run")
            with run_service(tmp_path, env, name="replica-b") as second:
                second.wait_healthy()
                wait_until(
                    lambda: second.metric("leadscore_runs_skipped_total") == 1, 60, "B's tick"
                )
                assert first.metric("leadscore_run_in_progress") == 1  # still A's run
                assert second.metric("leadscore_run_in_progress") == 0
                # A manual sync takes the same lock, so it is refused too.
                manual = subprocess.run(
                    [str(VENV_BIN / "leadscore"), "sync"],
                    env=clean_environment(env),
                    cwd=tmp_path,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert manual.returncode == 1
                assert "another leadscore sync is running on this state store" in manual.stderr
                sandbox.admin.set_latency(0)  # let A finish
                wait_until(
                    lambda: first.metric("leadscore_runs_total", outcome="success") == 1,
                    60,
                    "A's run to finish",
                )
                assert second.metric("leadscore_runs_total", outcome="success") == 0
                assert second.stop() == 0
            assert first.stop() == 0
            logs = {"a": first.log(), "b": second.log()}
    [run] = finished_runs(postgres_url)
    assert run.outcome == "success"
    assert '"event": "run skipped"' not in logs["a"]
    assert logs["b"].count('"event": "run skipped"') == 1
    assert '"reason": "another run holds the lock"' in logs["b"]
    assert '"event": "scheduled run started"' not in logs["b"]


def test_sigterm_mid_run_exits_0_and_leaves_consistent_state(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/state.db"
    with start_sandbox(contacts=1000, seed=13, latency_ms=50) as sandbox:
        env = {**service_env(sandbox, database_url), "LEADSCORE_SHUTDOWN_GRACE_SECONDS": "20"}
        with run_service(tmp_path, env) as service:
            service.wait_healthy()
            wait_until(
                lambda: len(sandbox.admin.requests(path_prefix=BATCH_UPDATE_PATH)) >= 1,
                60,
                "the first writes to reach HubSpot",
            )
            # From here on HubSpot is slow, so most of the portal is still unwritten when
            # the signal arrives: the run must stop between batches, not finish.
            sandbox.admin.set_latency(700)
            signalled = time.monotonic()
            assert service.stop(signal.SIGTERM, timeout=25) == 0
            elapsed = time.monotonic() - signalled
            log = service.log()
        assert elapsed < 20
        assert '"event": "shutdown requested"' in log and '"signal": "SIGTERM"' in log
        assert '"event": "shutdown complete"' in log

        store = open_store(database_url)
        try:
            [run] = store.runs()
            assert run.outcome == "interrupted" and run.finished_at_ms is not None
            # The cursor only moves once everything it covers is written: not yet.
            assert CONTACTS_CURSOR not in store.cursors()
            audit = store.audit_log()
            assert audit, "the run was stopped before it wrote anything"
            # Every write the audit log records really is in HubSpot.
            latest = {(e.contact_id, e.property): e.after for e in audit if e.property}
            for (contact_id, prop), after in latest.items():
                assert (sandbox.admin.contact(contact_id).get(prop) or "") == (after or "")
            # Property-less entries are tasks, each recorded as created in the ledger.
            tasks = {e.contact_id for e in audit if not e.property}
            created = {t.contact_id for t in store.ledger() if t.state == "created" and t.task_id}
            assert tasks <= created
        finally:
            store.close()

        # The next runs pick up where it stopped and converge: then nothing is left to write.
        sandbox.admin.set_latency(0)
        settings = settings_for(sandbox, database_url)
        resumed = run_sync(settings, mode="incremental", progress=False)
        assert resumed.outcome == "success"
        again = run_sync(settings, mode="incremental", progress=False)
        assert again.outcome == "success" and again.actions_by_kind == {}


def test_a_run_that_outlives_the_grace_period_is_abandoned_with_exit_1(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/state.db"
    # Every HubSpot call takes 2.5 s: the run cannot reach a batch boundary within 1 s.
    with start_sandbox(contacts=20, seed=14, latency_ms=2500) as sandbox:
        env = {**service_env(sandbox, database_url), "LEADSCORE_SHUTDOWN_GRACE_SECONDS": "1"}
        with run_service(tmp_path, env) as service:
            service.wait_healthy()
            wait_until(
                lambda: service.metric("leadscore_run_in_progress") == 1, 30, "a run to start"
            )
            signalled = time.monotonic()
            assert service.stop(signal.SIGTERM, timeout=15) == 1
            elapsed = time.monotonic() - signalled
            log = service.log()
    assert elapsed < 4
    assert '"event": "shutdown grace period expired: abandoning the run in progress"' in log


def test_cron_schedule_waits_for_its_slot_and_ctrl_c_stops_an_idle_service(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path}/state.db"
    env = {**service_env(sandbox, database_url), "LEADSCORE_SCHEDULE_CRON": "0 3 1 1 *"}
    with run_service(tmp_path, env) as service:
        service.wait_healthy()
        ready = service.get("/readyz")
        assert ready.status_code == 200, ready.text
        time.sleep(1.0)  # an interval schedule would have started its first run by now
        assert service.metric("leadscore_runs_total", outcome="success") == 0
        assert service.metric("leadscore_run_in_progress") == 0
        assert service.stop(signal.SIGINT, timeout=15) == 0
        log = service.log()
    assert '"schedule": "cron \'0 3 1 1 *\' (UTC)"' in log
    assert '"signal": "SIGINT"' in log and '"event": "shutdown complete"' in log
    assert '"event": "scheduled run started"' not in log
    assert not (tmp_path / "state.db.run-lock").exists()  # no run ever took the lock
