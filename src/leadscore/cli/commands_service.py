"""`leadscore run`: the long-running service (scheduled incremental syncs, health and metrics)."""

from __future__ import annotations

import os
import sys

import typer

from leadscore.cli._app import app
from leadscore.logs import configure_logging
from leadscore.settings import load_settings


@app.command("run")
def run() -> None:
    """Sync on a schedule and serve /healthz, /readyz and /metrics until SIGTERM or Ctrl-C."""
    from leadscore.service.runtime import serve

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format.value)
    outcome = serve(settings)
    if outcome.abandoned_run:
        # The run's worker thread would keep the interpreter alive past the grace period:
        # leave now. Its committed state is consistent; the rest is redone next run.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(outcome.code)
    raise typer.Exit(outcome.code)
