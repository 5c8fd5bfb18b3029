"""The scheduled sync: one run per tick, never two at once, stoppable between batches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from leadscore.errors import LeadscoreError
from leadscore.logs import get_logger, redact_text
from leadscore.service.locks import LockError, RunLock
from leadscore.service.metrics import RunFigures, ServiceMetrics
from leadscore.service.schedule import Schedule

log = get_logger(__name__)

# One sync run. It must watch `stop` and return soon after it is set, with its state saved.
SyncJob = Callable[[threading.Event], RunFigures]

JOB_ID = "leadscore-sync"


class ScheduledSync:
    """Runs `job` on `schedule` under `lock`, recording every run in `metrics`."""

    def __init__(
        self,
        *,
        job: SyncJob,
        schedule: Schedule,
        lock: RunLock,
        metrics: ServiceMetrics,
        stop: threading.Event | None = None,
    ) -> None:
        self._job = job
        self._schedule = schedule
        self._lock = lock
        self._metrics = metrics
        self.stop_event = stop if stop is not None else threading.Event()
        self._state_guard = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self.runs_started = 0

    # --- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        """Start ticking; interval schedules run once right away."""
        first = datetime.now(UTC) if self._schedule.run_at_start else None
        self._scheduler.add_job(
            self.tick,
            self._schedule.trigger,
            id=JOB_ID,
            name="incremental sync",
            max_instances=1,  # a slow run makes the next tick skip, never overlap
            coalesce=True,  # ticks missed while busy collapse into one
            misfire_grace_time=None,
            **({"next_run_time": first} if first is not None else {}),
        )
        self._scheduler.start()

    def is_alive(self) -> bool:
        """Liveness: the scheduler thread is running."""
        return bool(self._scheduler.running) and not self.stop_event.is_set()

    def shutdown(self, grace_seconds: float) -> bool:
        """Stop ticking and give the current run `grace_seconds` to finish.

        Returns True when no run is left executing.
        """
        self.stop_event.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        return self._idle.wait(timeout=grace_seconds)

    # --- one tick --------------------------------------------------------------
    def tick(self) -> None:
        """One scheduled run: take the lock or skip, run the job, record the outcome."""
        with self._state_guard:
            if self.stop_event.is_set():
                return
            self._idle.clear()
        try:
            self._tick_locked()
        finally:
            self._idle.set()

    def _tick_locked(self) -> None:
        try:
            acquired = self._lock.try_acquire()
        except LockError as exc:
            self._metrics.runs_skipped.inc()
            log.error("run skipped", reason=exc.message)
            return
        if not acquired:
            self._metrics.runs_skipped.inc()
            log.info(
                "run skipped", reason="another run holds the lock", lock=self._lock.description
            )
            return
        try:
            self._run_job()
        finally:
            self._lock.release()

    def _run_job(self) -> None:
        self.runs_started += 1
        self._metrics.run_in_progress.set(1)
        started = time.monotonic()
        log.info("scheduled run started", lock=self._lock.description)
        try:
            figures = self._job(self.stop_event)
        except LeadscoreError as exc:
            figures = _failed(started)
            log.error(
                "scheduled run failed",
                error=redact_text(exc.message),
                error_type=type(exc).__name__,
            )
        except Exception:
            # A bug in one run must not kill the service; the traceback is for the developer.
            figures = _failed(started)
            log.exception("scheduled run crashed")
        finally:
            self._metrics.run_in_progress.set(0)
        self._metrics.record_run(figures)
        # The sync logs its own detailed summary; this line is the scheduler's view.
        log.info(
            "scheduled run finished",
            outcome=figures.outcome,
            duration_seconds=round(figures.duration_seconds, 3),
        )


def _failed(started: float) -> RunFigures:
    return RunFigures(
        outcome="failed", duration_seconds=time.monotonic() - started, finished_at=time.time()
    )
