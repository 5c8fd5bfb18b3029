"""`leadscore sync` / `backfill` as a user runs them: output, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadscore.sandbox import SandboxHandle, start_sandbox

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(contacts=150, seed=3) as handle:
        yield handle


def leadscore(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LEADSCORE_", "HUBSPOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "leadscore", *args],
        cwd=REPO,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def sandbox_env(sandbox: SandboxHandle, db: Path) -> dict[str, str]:
    return {
        "HUBSPOT_ACCESS_TOKEN": sandbox.token,
        "HUBSPOT_BASE_URL": sandbox.base_url,
        "LEADSCORE_HUBSPOT_TIER": "unlimited",
        "LEADSCORE_DATABASE_URL": f"sqlite:///{db}",
    }


def test_sync_without_credentials_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = leadscore("sync", env={"LEADSCORE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: no HubSpot credentials: set HUBSPOT_ACCESS_TOKEN (or HUBSPOT_CLIENT_ID, "
        "HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN); "
        "`leadscore demo` runs against the bundled sandbox instead"
    ]
    assert not (tmp_path / "x.db").exists()


def test_a_broken_rules_file_stops_before_anything_runs(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    rules = tmp_path / "bad.yaml"
    rules.write_text("version: 1\nscores: {fit: {property: leadscore_fit, rules: [{name: x}]}}\n")
    before = len(sandbox.admin.requests())
    proc = leadscore("sync", "--rules", str(rules), env=sandbox_env(sandbox, tmp_path / "s.db"))
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: ") and "bad.yaml" in line
    assert len(sandbox.admin.requests()) == before


def test_dry_run_json_prints_one_object_per_action_and_writes_nothing(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    db = tmp_path / "s.db"
    before = len(sandbox.admin.requests())
    proc = leadscore("sync", "--dry-run", "--output", "json", env=sandbox_env(sandbox, db))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert records, "a fresh portal has scores to write"
    for r in records:
        assert {"contact_id", "email", "action", "property", "before", "after", "reasons"} <= set(r)
    assert "nothing was written" in proc.stderr
    methods = {(r["method"], r["path"]) for r in sandbox.admin.requests(before)}
    assert not [
        m for m in methods if m[0] != "GET" and not m[1].endswith(("/search", "/batch/read"))
    ]
    assert not db.exists()


def test_sync_then_backfill_report_their_summary_and_exit_0(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    env = sandbox_env(sandbox, tmp_path / "s.db")
    first = leadscore("sync", "--no-progress", "--output", "json", env=env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["outcome"] == "success" and summary["contacts_scored"] == 150
    assert summary["actions_by_kind"]["set_property"] > 0
    # Every warning of the run (tasks without an owner) is printed, none cut off.
    printed = [line[9:] for line in first.stderr.splitlines() if line.startswith("warning: ")]
    assert printed == summary["warnings"]
    again = leadscore("backfill", "--no-progress", env=env)
    assert again.returncode == 0, again.stderr
    assert "backfill success: 150 contacts scored; actions applied: none" in again.stdout
    resume = leadscore("backfill", "--resume", env=env)
    assert resume.returncode == 2
    assert resume.stderr.strip() == (
        "error: no interrupted backfill to resume; run `leadscore backfill`"
    )


def test_ctrl_c_stops_a_backfill_cleanly_and_resume_finishes_it(tmp_path: Path) -> None:
    with start_sandbox(contacts=1500, seed=5, latency_ms=30) as sb:
        env = sandbox_env(sb, tmp_path / "s.db")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("LEADSCORE_", "HUBSPOT_"))}
        proc = subprocess.Popen(
            [sys.executable, "-m", "leadscore", "backfill", "--no-progress"],
            cwd=REPO,
            env={**base, **env, "LEADSCORE_MAX_CONCURRENCY": "2"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(r["path"].endswith("batch/update") for r in sb.admin.requests()):
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "interrupted: state saved; `leadscore backfill --resume` continues" in err
        assert "backfill interrupted:" in out
        done_first = int(out.split("backfill interrupted: ")[1].split(" contacts")[0])
        assert 0 < done_first < 1500

        resumed = leadscore("backfill", "--resume", "--no-progress", env=env)
        assert resumed.returncode == 0, resumed.stderr
        assert f"backfill success: {1500 - done_first} contacts scored" in resumed.stdout
        again = leadscore("sync", "--no-progress", env=env)
        assert "actions applied: none" in again.stdout


def test_a_sync_refuses_to_overlap_a_running_one(tmp_path: Path, sandbox: SandboxHandle) -> None:
    from leadscore.service.locks import run_lock_for

    env = sandbox_env(sandbox, tmp_path / "s.db")
    held = run_lock_for(env["LEADSCORE_DATABASE_URL"])
    assert held.try_acquire()
    try:
        before = len(sandbox.admin.requests())
        proc = leadscore("sync", "--no-progress", env=env)
        assert proc.returncode == 1
        (line,) = proc.stderr.strip().splitlines()
        assert line.startswith("error: another leadscore sync is running on this state store")
        assert len(sandbox.admin.requests()) == before
        # A dry-run only reads: it runs alongside.
        dry = leadscore("sync", "--dry-run", "--no-progress", env=env)
        assert dry.returncode == 0, dry.stderr
    finally:
        held.release()


def test_explain_by_id_or_email_after_a_sync(tmp_path: Path, sandbox: SandboxHandle) -> None:
    env = sandbox_env(sandbox, tmp_path / "s.db")
    assert leadscore("sync", "--no-progress", env=env).returncode == 0
    contact = sandbox.admin.contact("1003")
    by_email = leadscore("explain", str(contact["email"]).upper(), "--json", env=env)
    assert by_email.returncode == 0, by_email.stderr
    data = json.loads(by_email.stdout)
    assert data["contact_id"] == "1003"
    assert by_email.stderr.startswith("activity: ")
    assert "from the state store" in by_email.stderr
    by_id = leadscore("explain", "1003", env=env)
    assert by_id.returncode == 0, by_id.stderr
    assert "contact 1003" in by_id.stdout

    missing = leadscore("explain", "nobody@nowhere.example", env=env)
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "error: explain: no HubSpot contact with id or email 'nobody@nowhere.example'"
    )
    both = leadscore("explain", "1003", "--contact-file", "x.json", env=env)
    assert both.returncode == 2
    assert "not both" in both.stderr
    no_token = leadscore("explain", "1003")
    assert no_token.returncode == 2
    assert no_token.stderr.startswith("error: no HubSpot credentials")
