"""`leadscore version`."""

from __future__ import annotations

import typer

from leadscore import __version__
from leadscore.cli._app import app


@app.command("version")
def version() -> None:
    """Print the leadscore version."""
    typer.echo(__version__)
