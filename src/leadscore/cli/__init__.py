"""Command-line shell: wires settings, logging and the commands; turns errors into one line."""

from __future__ import annotations

import sys

import typer

from leadscore.cli._app import app
from leadscore.errors import LeadscoreError
from leadscore.logs import redact_text

# Command modules register themselves on `app` when imported.
from leadscore.cli import commands_version  # noqa: F401  isort: skip
from leadscore.cli import commands_sandbox  # noqa: F401  isort: skip
from leadscore.cli import commands_rules  # noqa: F401  isort: skip
from leadscore.cli import commands_service  # noqa: F401  isort: skip
from leadscore.cli import commands_sync  # noqa: F401  isort: skip


@app.callback()
def _root() -> None:
    """Lead scoring for HubSpot portals as code."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: expected errors become one line and an exit code."""
    try:
        app(args=argv, prog_name="leadscore")
    except LeadscoreError as exc:
        typer.echo(f"error: {redact_text(exc.message)}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
