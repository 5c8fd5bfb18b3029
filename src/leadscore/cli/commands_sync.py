"""`leadscore sync`, `leadscore backfill` and `leadscore demo`."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType

import typer

from leadscore.cli._app import app
from leadscore.errors import LeadscoreError
from leadscore.logs import configure_logging
from leadscore.settings import Settings, load_settings
from leadscore.sync.runner import Mode, RunSummary, run_sync

# Exit codes beyond the error taxonomy: some writes failed (queued for retry), or stopped.
EXIT_PARTIAL = 3
EXIT_INTERRUPTED = 130


class OutputChoice(StrEnum):
    """How planned actions (dry-run) and the run summary are printed."""

    table = "table"
    json = "json"


DRY_RUN_OPTION = typer.Option(
    False, "--dry-run", help="Plan only: print the diff, write nothing to HubSpot or the state."
)
OUTPUT_OPTION = typer.Option(
    OutputChoice.table,
    "--output",
    "-o",
    help="table (readable diff) or json (one object per planned action; summary as JSON).",
)
RULES_OPTION = typer.Option(
    None, "--rules", help="Rules file (default: LEADSCORE_RULES, config/scoring.yaml)."
)
PROGRESS_OPTION = typer.Option(
    None,
    "--progress/--no-progress",
    help="Progress bar (default: on a terminal; structured log lines otherwise).",
)


@contextmanager
def _stop_on_interrupt() -> Iterator[threading.Event]:
    """First Ctrl-C / SIGTERM: finish the batches in flight, save state, stop. Second: abort."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        typer.echo("stopping after the current batch (again to abort)", err=True)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _run(
    mode: Mode,
    *,
    dry_run: bool,
    resume: bool,
    output: OutputChoice,
    rules: Path | None,
    progress: bool | None,
) -> None:
    overrides: dict[str, object] = {"rules": rules} if rules is not None else {}
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format.value)
    settings.require_hubspot_credentials(
        "`leadscore demo` runs against the bundled sandbox instead"
    )
    with _exclusive_run(settings, dry_run), _stop_on_interrupt() as stop:
        summary = run_sync(
            settings,
            mode=mode,
            dry_run=dry_run,
            resume=resume,
            output=output.value,
            stop=stop,
            progress=progress,
        )
    _report(summary, output)


@contextmanager
def _exclusive_run(settings: Settings, dry_run: bool) -> Iterator[None]:
    """Take the service's run lock so a manual sync never overlaps a scheduled one.

    A dry-run only reads, so it runs alongside anything.
    """
    if dry_run:
        yield
        return
    from leadscore.service.locks import run_lock_for

    lock = run_lock_for(settings.database_url)
    if not lock.try_acquire():
        raise LeadscoreError(
            f"another leadscore sync is running on this state store ({lock.description}); "
            "try again when it has finished"
        )
    try:
        yield
    finally:
        lock.release()


def _report(summary: RunSummary, output: OutputChoice) -> None:
    if output is OutputChoice.json and not summary.dry_run:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        typer.echo(summary.describe(), err=output is OutputChoice.json)
    if not summary.dry_run:
        # All of them, like the dry-run's listing: a task without an owner is never unreported.
        for warning in summary.warnings:
            typer.echo(f"warning: {warning}", err=True)
    if summary.outcome == "failed":
        raise LeadscoreError(summary.error or "the run failed")
    if summary.outcome == "partial":
        typer.echo(
            f"warning: {summary.failures} contact(s) not written; they are retried next run",
            err=True,
        )
        raise typer.Exit(EXIT_PARTIAL)
    if summary.outcome == "interrupted":
        hint = "; `leadscore backfill --resume` continues" if summary.mode == "backfill" else ""
        typer.echo(f"interrupted: state saved{hint}", err=True)
        raise typer.Exit(EXIT_INTERRUPTED)


@app.command("sync")
def sync(
    dry_run: bool = DRY_RUN_OPTION,
    output: OutputChoice = OUTPUT_OPTION,
    rules: Path | None = RULES_OPTION,
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """One incremental sync: score what changed (or came due) and write the differences."""
    _run(
        "incremental", dry_run=dry_run, resume=False, output=output, rules=rules, progress=progress
    )


@app.command("backfill")
def backfill(
    dry_run: bool = DRY_RUN_OPTION,
    resume: bool = typer.Option(
        False, "--resume", help="Continue an interrupted backfill instead of starting over."
    ),
    output: OutputChoice = OUTPUT_OPTION,
    rules: Path | None = RULES_OPTION,
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """Score every contact in the portal; resumable; leaves the incremental cursors consistent."""
    _run("backfill", dry_run=dry_run, resume=resume, output=output, rules=rules, progress=progress)


@app.command("demo")
def demo(
    contacts: int = typer.Option(
        300, "--contacts", min=10, max=20_000, help="Contacts in the seeded sandbox portal."
    ),
    rules: Path | None = RULES_OPTION,
    rows: int = typer.Option(25, "--rows", min=0, help="Dry-run rows to show (0 = all)."),
) -> None:
    """Try leadscore with no HubSpot account: sandbox, dry-run, apply, re-sync, explain."""
    from leadscore.sync.demo import run_demo

    overrides: dict[str, object] = {"rules": rules} if rules is not None else {}
    settings = load_settings(**overrides)
    # The demo prints its own summary and warnings; log lines would only repeat them.
    configure_logging("ERROR", settings.log_format.value)
    run_demo(settings, contacts=contacts, max_rows=rows or None)
