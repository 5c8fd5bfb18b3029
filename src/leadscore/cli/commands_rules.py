"""`leadscore validate` and `leadscore explain`: check a rules file, explain one contact."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console

from leadscore.cli._app import app
from leadscore.errors import InputError
from leadscore.rules import Evaluation, ScoringModel, load_model
from leadscore.rules.contact_dump import load_contact_file
from leadscore.rules.explain import explanation_dict, model_summary_lines, render_explanation
from leadscore.rules.values import read_timestamp_ms
from leadscore.settings import load_settings

RULES_OPTION = typer.Option(
    None, "--rules", help="Rules file (default: LEADSCORE_RULES, config/scoring.yaml)."
)


def resolve_model(rules: Path | None) -> ScoringModel:
    """Load the rules file given on the command line, or the configured one."""
    return load_model(rules if rules is not None else load_settings().rules)


def parse_now(at: str | None) -> int:
    """`--at` as epoch ms (ISO 8601 or epoch ms); the current time when not given."""
    if at is None:
        return int(time.time() * 1000)
    ms = read_timestamp_ms(at)
    if ms is None:
        raise InputError(f"--at: expected an ISO 8601 time or epoch milliseconds, got {at!r}")
    return ms


@app.command("validate")
def validate(rules: Path | None = RULES_OPTION) -> None:
    """Check a rules file and print its scores, rules, thresholds and output properties."""
    model = resolve_model(rules)
    for line in model_summary_lines(model):
        typer.echo(line)


def print_explanation(evaluation: Evaluation, model: ScoringModel, *, as_json: bool) -> None:
    """Print one evaluation rule by rule, or as JSON (shared by every form of `explain`)."""
    if as_json:
        typer.echo(json.dumps(explanation_dict(evaluation, model), indent=2, ensure_ascii=False))
        return
    render_explanation(evaluation, model, Console(highlight=False, soft_wrap=True))


@app.command("explain")
def explain(
    contact: str | None = typer.Argument(
        None,
        metavar="[CONTACT_ID_OR_EMAIL]",
        help="Look the contact up in HubSpot by id or email (activity from the last sync).",
    ),
    contact_file: Path | None = typer.Option(
        None,
        "--contact-file",
        help="JSON dump of one contact: {id, properties, form_submissions, email_events}.",
    ),
    rules: Path | None = RULES_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
    at: str | None = typer.Option(
        None, "--at", help="Score as of this time (ISO 8601 or epoch ms); default now."
    ),
) -> None:
    """Score one contact and print, rule by rule, what it met and the points it got."""
    if contact is None and contact_file is None:
        raise InputError(
            "explain: give a contact id or email (CONTACT_ID_OR_EMAIL) or --contact-file FILE.json"
        )
    if contact is not None and contact_file is not None:
        raise InputError("explain: give a contact id or email, or --contact-file, not both")
    model = resolve_model(rules)
    if contact is not None:
        from leadscore.sync.explain import explain_online

        online = explain_online(contact, load_settings(), model, parse_now(at))
        print_explanation(online.evaluation, model, as_json=as_json)
        typer.echo(f"activity: {online.activity_source}", err=True)
        return
    assert contact_file is not None
    print_explanation(
        model.evaluate(load_contact_file(contact_file), parse_now(at)), model, as_json=as_json
    )
