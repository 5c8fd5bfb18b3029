"""`leadscore run` wired together: startup checks, scheduler, lock, endpoints, signal handling."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from leadscore.logs import get_logger, register_secret
from leadscore.service.health_server import HealthServer, ReadinessCheck, ReadinessProbe
from leadscore.service.locks import display_database_url, run_lock_for
from leadscore.service.metrics import RunFigures, ServiceMetrics
from leadscore.service.readiness import HubSpotProbe
from leadscore.service.scheduler import ScheduledSync, SyncJob
from leadscore.service.startup import StateStoreProbe, check_startup
from leadscore.settings import Settings
from leadscore.sync import RunSummary, run_sync

log = get_logger(__name__)

# Exit code when the grace period ran out with a run still executing (it was abandoned).
EXIT_GRACE_EXPIRED = 1


@dataclass(frozen=True, slots=True)
class ServiceExit:
    """How `serve` ended: the exit code, and whether a run was left executing."""

    code: int
    abandoned_run: bool


def incremental_sync_job(settings: Settings) -> SyncJob:
    """The production job: one incremental sync per tick, stoppable through `stop`."""

    def job(stop: threading.Event) -> RunFigures:
        summary = run_sync(settings, mode="incremental", stop=stop, progress=False)
        return figures_from_summary(summary)

    return job


def figures_from_summary(summary: RunSummary) -> RunFigures:
    """The metrics' view of a sync RunSummary."""
    return RunFigures(
        outcome=summary.outcome,
        duration_seconds=summary.duration_seconds,
        finished_at=summary.finished_at.timestamp(),
        contacts_scored=summary.contacts_scored,
        actions_by_kind=dict(summary.actions_by_kind),
        api_calls=summary.api_calls,
        rate_limited=summary.rate_limited,
    )


def default_readiness_checks(settings: Settings) -> dict[str, ReadinessCheck]:
    """/readyz: the state store answers, and HubSpot accepts our credentials."""
    return {
        "state_store": StateStoreProbe(settings.database_url),
        "hubspot": HubSpotProbe(settings),
    }


def serve(
    settings: Settings,
    *,
    job: SyncJob | None = None,
) -> ServiceExit:
    """Run the service until SIGTERM/SIGINT, then shut down within the grace period.

    `job` replaces the incremental sync (for tests). Startup problems raise a one-line
    LeadscoreError before anything is served.
    """
    for secret in (
        settings.hubspot_access_token,
        settings.hubspot_client_secret,
        settings.hubspot_refresh_token,
    ):
        if secret is not None:
            register_secret(secret.get_secret_value())
    report = check_startup(settings)

    stop_event = threading.Event()
    metrics = ServiceMetrics()
    run_lock = run_lock_for(settings.database_url)
    scheduled = ScheduledSync(
        job=job if job is not None else incremental_sync_job(settings),
        schedule=report.schedule,
        lock=run_lock,
        metrics=metrics,
        stop=stop_event,
    )
    checks = default_readiness_checks(settings)
    server = HealthServer(
        port=settings.http_port,
        metrics=metrics,
        readiness=ReadinessProbe(checks),
        liveness=scheduled.is_alive,
    )
    received: list[str] = []
    restore = _install_signal_handlers(stop_event, received)
    try:
        server.start()
        scheduled.start()
        log.info(
            "service started",
            schedule=report.schedule.description,
            http_port=server.port,
            rules_version=report.rules_version,
            state_store=display_database_url(settings.database_url),
            lock=run_lock.description,
        )
        while not stop_event.wait(timeout=1.0):
            pass
        log.info(
            "shutdown requested",
            signal=received[0] if received else None,
            grace_seconds=settings.shutdown_grace_seconds,
        )
        finished = scheduled.shutdown(settings.shutdown_grace_seconds)
    finally:
        restore()
        server.stop()
        for check in checks.values():
            close = getattr(check, "close", None)
            if callable(close):
                close()
    if finished:
        log.info("shutdown complete", runs=scheduled.runs_started)
        return ServiceExit(code=0, abandoned_run=False)
    log.error(
        "shutdown grace period expired: abandoning the run in progress",
        grace_seconds=settings.shutdown_grace_seconds,
    )
    return ServiceExit(code=EXIT_GRACE_EXPIRED, abandoned_run=True)


def _install_signal_handlers(stop: threading.Event, received: list[str]) -> Callable[[], None]:
    """SIGTERM/SIGINT ask for a graceful stop; a second one exits at once."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            # The operator insists: committed state is consistent, so leaving now is safe.
            os._exit(EXIT_GRACE_EXPIRED)
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
