"""`leadscore sandbox`: serve the local HubSpot sandbox until interrupted."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import typer

from leadscore.cli._app import app
from leadscore.errors import InputError, LeadscoreError
from leadscore.settings import load_settings


@app.command("sandbox")
def sandbox(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (loopback by default)."),
    port: int = typer.Option(8099, min=0, max=65535, help="Port to listen on (0 = any free port)."),
    contacts: int = typer.Option(1000, min=0, help="Number of seeded contacts."),
    seed: int = typer.Option(1, help="Seed of the generated portal and of injected faults."),
    tier: str = typer.Option(
        "unlimited",
        help="Rate limits to apply: free, starter, professional, enterprise, unlimited.",
    ),
    latency_ms: int = typer.Option(0, min=0, help="Latency added to every API request (ms)."),
    faults: str = typer.Option(
        "",
        help="Faults, e.g. '500=0.02,503=0.01,429burst=0.01x5,drop=0.005,latency=20,searchlag=2000'.",
    ),
    token: str | None = typer.Option(
        None, help="Bearer token to accept (default: HUBSPOT_ACCESS_TOKEN, else a printed default)."
    ),
) -> None:
    """Serve a seeded HubSpot sandbox (CRM, forms, email events) until Ctrl-C."""
    from leadscore.sandbox import DEFAULT_TOKEN, FaultSpec, start_sandbox

    token_source = "--token"
    if token is None:
        configured = load_settings().hubspot_access_token
        if configured is not None and configured.get_secret_value():
            token, token_source = configured.get_secret_value(), "HUBSPOT_ACCESS_TOKEN"
        else:
            token, token_source = DEFAULT_TOKEN, "default"
    try:
        spec = FaultSpec.parse(faults or None)
    except ValueError as exc:
        raise InputError(f"--faults: {exc}") from None
    if tier not in {"free", "starter", "professional", "enterprise", "unlimited"}:
        raise InputError(f"--tier: unknown tier {tier!r}")
    started = time.perf_counter()
    try:
        handle = start_sandbox(
            contacts=contacts,
            seed=seed,
            tier=tier,
            token=token,
            latency_ms=latency_ms,
            faults=spec,
            host=host,
            port=port,
        )
    except OSError as exc:
        raise LeadscoreError(str(exc)) from None
    typer.echo(
        f"sandbox listening on {handle.base_url} ({contacts} contacts, seed {seed}, tier {tier})"
    )
    typer.echo(f"generated in {time.perf_counter() - started:.1f}s; portal id {handle.portal_id}")
    if token_source == "default":
        typer.echo(f"token: {DEFAULT_TOKEN}")
    else:
        typer.echo(f"token: the one given by {token_source}")
    typer.echo(f"admin: {handle.base_url}/_sandbox/stats, /_sandbox/requests, /_sandbox/reset")
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        handle.stop()
        typer.echo("sandbox stopped")
