"""`leadscore validate` and `leadscore explain`: exact output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from leadscore.cli import main
from leadscore.rules import load_model

REPO = Path(__file__).resolve().parents[2]
RULES = textwrap.dedent(
    """\
    forms:
      - {id: f-demo, name: Request a demo, tier: BOFU}
    scores:
      fit:
        rules:
          - {name: Decision maker, when: {property: jobtitle, matches: '\\bceo\\b'}, points: 30}
          - {name: Free email, when: {free_email_domain: true}, points: -10}
      engagement:
        max: 50
        rules:
          - {name: Demo, when: {form_submitted: {form: Request a demo, within_days: 30}}, points: 40}
          - {name: Opens, each: {email_opened: {within_days: 7}}, points: 1, max: 3}
      total:
        includes: [fit, engagement]
        rules: []
    stages:
      score: total
      thresholds: {marketingqualifiedlead: 35, salesqualifiedlead: 65}
    reasons: {count: 2}
    """
)
CONTACT = {
    "id": "42",
    "properties": {
        "email": "ceo@acme.example",
        "jobtitle": "CEO",
        "lifecyclestage": "marketingqualifiedlead",
        "numemployees": 250,
        "hs_email_optout": False,
    },
    "form_submissions": [{"formId": "f-demo", "submittedAt": "2026-11-20T10:00:00Z"}],
    "email_events": [
        {"type": "open", "created": 1795435200000 - 86400000, "emailCampaignId": 7},
        {"type": "CLICK", "created": "2026-11-22T09:00:00Z"},
    ],
}
AT = "2026-11-23T12:00:00Z"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    contact = tmp_path / "contact.json"
    contact.write_text(json.dumps(CONTACT))
    return rules, contact


def test_validate_prints_a_summary(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rules, _ = files
    version = load_model(rules).version
    code, out, err = run(["validate", "--rules", str(rules)], capsys)
    assert (code, err) == (0, "")
    assert out == textwrap.dedent(
        f"""\
        {rules}: valid (rules version {version})
        scores:
          fit -> leadscore_fit: 2 rules
            - Decision maker (when)
            - Free email (when)
          engagement -> leadscore_engagement: 2 rules; total max 50
            - Demo (when)
            - Opens (each)
          total -> leadscore_total: includes fit, engagement; 0 rules
        stages (by total): marketingqualifiedlead >= 35, salesqualifiedlead >= 65; hysteresis 0; floor lead; promote from nothing
        handoff stage: salesqualifiedlead
        exclusions: protected stages customer, evangelist, opportunity, other; opted-out contacts
        activity horizon: 30 days
        output properties: leadscore_fit (number), leadscore_engagement (number), leadscore_total (number), leadscore_reasons (string)
        """
    )


def test_validate_rejects_a_broken_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("thresholds: {", "thresholds: {opportunity: 90, "))
    code, out, err = run(["validate", "--rules", str(rules)], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {rules}:18: stages.thresholds.marketingqualifiedlead: thresholds must increase: "
        "marketingqualifiedlead 35 is not above 90\n"
    )


def test_validate_uses_the_configured_rules_path(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules, _ = files
    monkeypatch.setenv("LEADSCORE_RULES", str(rules))
    code, out, _ = run(["validate"], capsys)
    assert code == 0 and out.startswith(f"{rules}: valid")
    monkeypatch.setenv("LEADSCORE_RULES", str(rules.parent / "missing.yaml"))
    code, out, err = run(["validate"], capsys)
    assert (code, out, err) == (
        2,
        "",
        f"error: {rules.parent / 'missing.yaml'}: rules file not found\n",
    )


def test_shipped_rules_validate_from_the_repository_root(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = run(["validate"], capsys)
    assert (code, err) == (0, "")
    assert (
        out.splitlines()[0]
        == f"config/scoring.yaml: valid (rules version {load_model(REPO / 'config/scoring.yaml').version})"
    )
    assert (
        "stages (by total): marketingqualifiedlead >= 35, salesqualifiedlead >= 65; hysteresis 5"
        in out
    )


def test_explain_prints_every_rule(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rules, contact = files
    version = load_model(rules).version
    code, out, err = run(
        ["explain", "--contact-file", str(contact), "--rules", str(rules), "--at", AT], capsys
    )
    assert (code, err) == (0, "")
    assert out == textwrap.dedent(
        f"""\
        contact 42 (rules {version})

        fit = 30  -> leadscore_fit
          [met]      +30  Decision maker: jobtitle = 'CEO' matches /\\bceo\\b/
          [   ]        0  Free email: not met: acme.example is not a free email provider

        engagement = 41  -> leadscore_engagement
          [met]      +40  Demo: submitted 'Request a demo' (BOFU) 3 days ago
          [met]       +1  Opens: 1 x 1: email open (campaign 7) 1 day ago

        total = 71  -> leadscore_total
          [met]      +30  score: fit: fit score 30
          [met]      +41  score: engagement: engagement score 41

        target stage: salesqualifiedlead: total 71 ≥ 65 (salesqualifiedlead threshold)
        re-score due: 2026-11-29T00:00:00Z
        writes:
          leadscore_fit = '30'
          leadscore_engagement = '41'
          leadscore_total = '71'
          leadscore_reasons = 'Demo +40; Decision maker +30'
        """
    )


def test_explain_json(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    rules, contact = files
    code, out, _ = run(
        ["explain", "--contact-file", str(contact), "--rules", str(rules), "--at", AT, "--json"],
        capsys,
    )
    assert code == 0
    data = json.loads(out)
    assert data["contact_id"] == "42"
    assert data["stage"] == {
        "target": "salesqualifiedlead",
        "reason": "total 71 ≥ 65 (salesqualifiedlead threshold)",
    }
    assert data["scores"]["engagement"]["contributions"][1] == {
        "rule": "Opens",
        "met": True,
        "points": 1.0,
        "reason": "1 x 1: email open (campaign 7) 1 day ago",
        "group": None,
    }
    assert data["properties"]["leadscore_total"] == "71"
    assert data["next_due_ms"] == 1795910400000  # 2026-11-29T00:00Z: the 7-day open window closes
    assert data["exclusion"] is None and data["grid"] is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"id": "1", "properties": {',
            "{path}:1:28: invalid JSON: Expecting property name enclosed in double quotes",
        ),
        ("[1, 2]", "{path}: (top level): expected a JSON object with id and properties"),
        ('{"properties": {}}', "{path}: id: missing contact id (or properties.hs_object_id)"),
        (
            '{"id": 1, "properties": []}',
            "{path}: properties: expected an object of property name to value",
        ),
        (
            '{"id": 1, "properties": {"a": {"b": 1}}}',
            "{path}: properties.a: expected text, a number, true/false or null",
        ),
        (
            '{"id": 1, "form_submissions": [{"submitted_at": 5}]}',
            "{path}: form_submissions[0].form_id: missing",
        ),
        (
            '{"id": 1, "form_submissions": [{"form_id": "x", "submitted_at": "last week"}]}',
            '{path}: form_submissions[0].submitted_at: expected epoch milliseconds or an ISO 8601 time, got "last week"',
        ),
        ('{"id": 1, "email_events": {"type": "OPEN"}}', "{path}: email_events: expected a list"),
        (
            '{"id": 1, "email_events": [{"created": 5}]}',
            "{path}: email_events[0].type: missing (OPEN, CLICK, ...)",
        ),
    ],
)
def test_explain_rejects_a_bad_contact_file(
    files: tuple[Path, Path], content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rules, contact = files
    contact.write_text(content)
    code, out, err = run(["explain", "--contact-file", str(contact), "--rules", str(rules)], capsys)
    assert (code, out) == (2, "")
    assert err == "error: " + message.format(path=contact) + "\n"


def test_explain_bad_at_and_missing_file(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rules, contact = files
    code, _, err = run(["explain", "--rules", str(rules)], capsys)
    assert (code, err) == (
        2,
        "error: explain: give a contact id or email (CONTACT_ID_OR_EMAIL) "
        "or --contact-file FILE.json\n",
    )
    code, _, err = run(
        ["explain", "--contact-file", str(contact), "--rules", str(rules), "--at", "soon"], capsys
    )
    assert (code, err) == (
        2,
        "error: --at: expected an ISO 8601 time or epoch milliseconds, got 'soon'\n",
    )
    missing = contact.parent / "nope.json"
    code, _, err = run(["explain", "--contact-file", str(missing), "--rules", str(rules)], capsys)
    assert (code, err) == (2, f"error: {missing}: contact file not found\n")


def test_shipped_example_contact_through_the_console_script() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadscore",
            "explain",
            "--contact-file",
            "config/examples/contact.json",
            "--rules",
            "config/scoring.yaml",
            "--at",
            AT,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("contact 1001 (rules ")
    assert (
        "target stage: salesqualifiedlead: total 128.78 ≥ 65 (salesqualifiedlead threshold)"
        in lines
    )
    assert "  leadscore_grid = 'A1'" in lines
