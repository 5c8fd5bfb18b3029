"""ScheduledSync with an injected job: ticks, never overlaps, stops between batches, survives failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client.parser import text_string_to_metric_families

from leadscore.errors import LeadscoreError
from leadscore.service.locks import LockError, run_lock_for
from leadscore.service.metrics import RunFigures, ServiceMetrics
from leadscore.service.schedule import Schedule
from leadscore.service.scheduler import ScheduledSync, SyncJob


def fast_schedule(seconds: float = 0.1) -> Schedule:
    return Schedule(IntervalTrigger(seconds=seconds), f"every {seconds} s", run_at_start=True)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def metric(metrics: ServiceMetrics, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


class RecordingJob:
    """A sync stand-in: records each run's interval, works in batches, honours `stop`."""

    def __init__(self, batches: int = 1, batch_seconds: float = 0.0) -> None:
        self.batches = batches
        self.batch_seconds = batch_seconds
        self.intervals: list[tuple[float, float]] = []
        self.running = 0
        self.max_running = 0
        self._guard = threading.Lock()

    def __call__(self, stop: threading.Event) -> RunFigures:
        with self._guard:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        started = time.monotonic()
        outcome = "success"
        try:
            for _ in range(self.batches):
                if stop.is_set():
                    outcome = "interrupted"
                    break
                time.sleep(self.batch_seconds)
        finally:
            with self._guard:
                self.running -= 1
                self.intervals.append((started, time.monotonic()))
        return RunFigures(
            outcome=outcome,
            duration_seconds=time.monotonic() - started,
            finished_at=time.time(),
            actions_by_kind={"set_score": 2},
            api_calls=3,
        )


MakeSync = Callable[..., tuple[ScheduledSync, ServiceMetrics]]


@pytest.fixture()
def make_sync(tmp_path: Path) -> Iterator[MakeSync]:
    created: list[ScheduledSync] = []

    def make(
        job: SyncJob, schedule: Schedule | None = None
    ) -> tuple[ScheduledSync, ServiceMetrics]:
        metrics = ServiceMetrics()
        sync = ScheduledSync(
            job=job,
            schedule=schedule or fast_schedule(),
            lock=run_lock_for(f"sqlite:///{tmp_path}/state.db"),
            metrics=metrics,
        )
        created.append(sync)
        return sync, metrics

    yield make
    for sync in created:
        sync.shutdown(grace_seconds=5)


def test_ticks_on_schedule_and_records_every_run(
    make_sync: MakeSync,
) -> None:
    job = RecordingJob()
    sync, metrics = make_sync(job)
    sync.start()
    assert sync.is_alive()
    wait_until(lambda: len(job.intervals) >= 3)
    assert sync.shutdown(grace_seconds=5)
    assert not sync.is_alive()
    runs = len(job.intervals)
    assert metric(metrics, "leadscore_runs_total", outcome="success") == runs
    assert metric(metrics, "leadscore_actions_total", kind="set_score") == 2 * runs
    assert metric(metrics, "leadscore_hubspot_api_calls_total") == 3 * runs
    assert metric(metrics, "leadscore_last_success_timestamp_seconds") > 0
    time.sleep(0.3)
    assert len(job.intervals) == runs  # no tick after shutdown


def test_a_slow_run_is_never_overlapped_by_the_next_tick(
    make_sync: MakeSync,
) -> None:
    job = RecordingJob(batches=3, batch_seconds=0.1)  # 0.3 s runs, ticks every 0.05 s
    sync, _ = make_sync(job, fast_schedule(0.05))
    sync.start()
    wait_until(lambda: len(job.intervals) >= 3)
    sync.shutdown(grace_seconds=5)
    assert job.max_running == 1


def test_two_services_on_one_state_store_take_turns(
    make_sync: MakeSync,
) -> None:
    # Two replicas in one process share a job record, so overlap would show up at once.
    job = RecordingJob(batches=2, batch_seconds=0.1)
    first, first_metrics = make_sync(job, fast_schedule(0.05))
    second, second_metrics = make_sync(job, fast_schedule(0.05))
    first.start()
    second.start()
    wait_until(lambda: len(job.intervals) >= 6 and first.runs_started * second.runs_started > 0)
    first.shutdown(grace_seconds=5)
    second.shutdown(grace_seconds=5)
    assert job.max_running == 1
    skipped = metric(first_metrics, "leadscore_runs_skipped_total") + metric(
        second_metrics, "leadscore_runs_skipped_total"
    )
    assert skipped > 0


def test_stop_interrupts_between_batches_within_the_grace_period(
    make_sync: MakeSync, tmp_path: Path
) -> None:
    job = RecordingJob(batches=1000, batch_seconds=0.05)  # would take 50 s
    sync, metrics = make_sync(job)
    sync.start()
    wait_until(lambda: job.running == 1)
    started = time.monotonic()
    assert sync.shutdown(grace_seconds=5)
    assert time.monotonic() - started < 3.0  # one 0.05 s batch, with room for a busy machine
    assert metric(metrics, "leadscore_runs_total", outcome="interrupted") == 1
    assert metric(metrics, "leadscore_run_in_progress") == 0
    # The lock went with the run: another holder can take it at once.
    other = run_lock_for(f"sqlite:///{tmp_path}/state.db")
    assert other.try_acquire()
    other.release()


def test_grace_expiry_is_reported(
    make_sync: MakeSync,
) -> None:
    release = threading.Event()

    def stubborn(stop: threading.Event) -> RunFigures:
        release.wait(10)  # ignores `stop`
        return RunFigures(outcome="success", duration_seconds=0, finished_at=time.time())

    sync, _ = make_sync(stubborn)
    sync.start()
    wait_until(lambda: sync.runs_started == 1)
    assert not sync.shutdown(grace_seconds=0.2)
    release.set()
    assert sync.shutdown(grace_seconds=5)


def test_failed_runs_are_counted_and_the_service_keeps_ticking(
    make_sync: MakeSync,
) -> None:
    calls: list[int] = []

    def flaky(stop: threading.Event) -> RunFigures:
        calls.append(1)
        if len(calls) == 1:
            raise LeadscoreError("HubSpot rejected the access token (401)")
        if len(calls) == 2:
            raise KeyError("a bug")
        return RunFigures(outcome="success", duration_seconds=0.01, finished_at=time.time())

    sync, metrics = make_sync(flaky)
    sync.start()
    wait_until(lambda: len(calls) >= 3)
    sync.shutdown(grace_seconds=5)
    assert metric(metrics, "leadscore_runs_total", outcome="failed") == 2
    assert metric(metrics, "leadscore_runs_total", outcome="success") >= 1


def test_an_unusable_lock_skips_the_tick(
    make_sync: MakeSync,
) -> None:
    class BrokenLock:
        description = "broken"

        def try_acquire(self) -> bool:
            raise LockError("cannot take the run lock on postgresql://x: connection refused")

        def release(self) -> None:
            raise AssertionError("never acquired, never released")

    job = RecordingJob()
    metrics = ServiceMetrics()
    sync = ScheduledSync(job=job, schedule=fast_schedule(), lock=BrokenLock(), metrics=metrics)
    sync.start()
    wait_until(lambda: metric(metrics, "leadscore_runs_skipped_total") >= 2)
    sync.shutdown(grace_seconds=5)
    assert job.intervals == []
