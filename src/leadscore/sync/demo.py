"""`leadscore demo`: the whole job against the bundled sandbox, no HubSpot account needed."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console

from leadscore.errors import ConfigError
from leadscore.settings import Settings, Tier
from leadscore.state.store import StateStore, open_store
from leadscore.sync.explain import explain_contact
from leadscore.sync.runner import RunSummary, run_sync


@dataclass(frozen=True, slots=True)
class DemoResult:
    """The three runs the demo made and the contacts it explained."""

    dry_run: RunSummary
    applied: RunSummary
    again: RunSummary
    explained: tuple[str, ...]


def run_demo(
    settings: Settings,
    *,
    contacts: int = 300,
    max_rows: int | None = 25,
    console: Console | None = None,
) -> DemoResult:
    """Start the sandbox in-process, dry-run, apply, sync again (zero writes), explain two."""
    from leadscore.gateway import build_gateway
    from leadscore.rules import load_model
    from leadscore.rules.explain import render_explanation
    from leadscore.sandbox import start_sandbox

    out = console or Console(highlight=False)
    if not Path(settings.rules).exists():
        raise ConfigError(
            f"{settings.rules}: rules file not found; run the demo from the repository root "
            "or pass --rules PATH"
        )
    model = load_model(settings.rules)
    started = time.monotonic()
    out.print(
        f"[bold]leadscore demo[/bold]: a local HubSpot sandbox with {contacts} seeded contacts, "
        f"scored with {settings.rules} (rules version {model.version})."
    )
    if settings.has_hubspot_credentials():
        out.print("A HubSpot token is configured; the demo ignores it and only uses the sandbox.")
    with (
        tempfile.TemporaryDirectory(prefix="leadscore-demo-") as tmp,
        start_sandbox(contacts=contacts, seed=1, tier="unlimited") as sandbox,
    ):
        demo_settings = settings.model_copy(
            update={
                "hubspot_access_token": SecretStr(sandbox.token),
                "hubspot_client_id": None,
                "hubspot_client_secret": None,
                "hubspot_refresh_token": None,
                "hubspot_base_url": sandbox.base_url,
                "hubspot_tier": Tier.unlimited,
                "database_url": f"sqlite:///{Path(tmp) / 'demo.db'}",
            }
        )
        out.print(f"Sandbox at {sandbox.base_url}; state in a temporary SQLite file.\n")
        with build_gateway(demo_settings) as gateway:
            common = {"gateway": gateway, "model": model, "progress": False}
            out.rule("1. leadscore sync --dry-run: what would change (nothing is written)")
            dry = run_sync(
                demo_settings,
                dry_run=True,
                output="table",
                stream=out.file,
                max_rows=max_rows,
                **common,  # type: ignore[arg-type]
            )
            out.print()
            out.rule("2. leadscore sync: apply it")
            applied = run_sync(demo_settings, **common)  # type: ignore[arg-type]
            out.print(applied.describe(), markup=False)
            # Every warning, as the dry-run listed them: a task without an owner is never
            # left unreported.
            for warning in applied.warnings:
                out.print(f"warning: {warning}", markup=False)
            out.print()
            out.rule("3. leadscore sync again: nothing left to change")
            again = run_sync(demo_settings, **common)  # type: ignore[arg-type]
            out.print(again.describe(), markup=False)
            out.print()
            store = open_store(demo_settings.database_url)
            try:
                picks = _pick_contacts(store)
                out.rule(f"4. leadscore explain: {len(picks)} contacts, rule by rule")
                for cid in picks:
                    result = explain_contact(
                        cid,
                        lookup=gateway,
                        model=model,
                        store=store,
                        now_ms=int(time.time() * 1000),
                    )
                    out.print()  # render_explanation prints the contact header itself
                    render_explanation(result.evaluation, model, out)
            finally:
                store.close()
    out.print(
        f"\nDone in {time.monotonic() - started:.1f}s. Point HUBSPOT_ACCESS_TOKEN at your portal "
        "and run `leadscore sync --dry-run` to see the same diff for real contacts."
    )
    return DemoResult(dry, applied, again, tuple(picks))


def _pick_contacts(store: StateStore) -> list[str]:
    """One contact that became sales-qualified (with its task) and one that moved otherwise."""
    picks: list[str] = []
    tasked = [e.contact_id for e in store.ledger() if e.state == "created"]
    if tasked:
        picks.append(tasked[0])
    audit = store.audit_log()  # read once: the demo portal has up to 20,000 contacts
    for entry in audit:
        moved = entry.action in ("stage_forward", "stage_backward")
        if moved and entry.contact_id not in picks and entry.after != "salesqualifiedlead":
            picks.append(entry.contact_id)
            break
    for entry in audit:
        if len(picks) >= 2:
            break
        if entry.contact_id not in picks:
            picks.append(entry.contact_id)
    return picks[:2]
