"""The root Typer application; command modules attach their commands to it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="leadscore",
    help="Lead scoring for HubSpot portals as code.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
