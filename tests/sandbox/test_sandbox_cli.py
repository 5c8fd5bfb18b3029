"""`leadscore sandbox` as a user runs it: prints where it listens, serves, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from leadscore.sandbox import DEFAULT_TOKEN


def _banner(proc: subprocess.Popen[str]) -> list[str]:
    """The lines printed at start-up (up to the admin line)."""
    assert proc.stdout is not None
    lines = []
    while not lines or not lines[-1].startswith("admin:"):
        line = proc.stdout.readline()
        assert line, "sandbox exited early"
        lines.append(line.rstrip("\n"))
    return lines


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "leadscore", "sandbox", "--port", "0", "--contacts", "50", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_cli_serves_with_given_token_and_stops_on_sigterm() -> None:
    proc = _run("--token", "cli-token", "--tier", "starter")
    try:
        banner = _banner(proc)
        assert banner[0].startswith("sandbox listening on http://127.0.0.1:")
        assert "token: the one given by --token" in banner
        base_url = banner[0].split()[3]
        ok = httpx.get(f"{base_url}/crm/v3/owners", headers={"Authorization": "Bearer cli-token"})
        assert ok.status_code == 200 and ok.headers["X-HubSpot-RateLimit-Max"] == "100"
        assert (
            httpx.get(
                f"{base_url}/crm/v3/owners", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
            ).status_code
            == 401
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert not any("cli-token" in line for line in [*banner, out])  # a given token is never echoed
    assert out.strip() == "sandbox stopped"


def test_cli_uses_hubspot_access_token_and_rejects_bad_faults() -> None:
    proc = _run(env={"HUBSPOT_ACCESS_TOKEN": "env-token"})
    try:
        banner = _banner(proc)
        base_url = banner[0].split()[3]
        ok = httpx.get(f"{base_url}/crm/v3/owners", headers={"Authorization": "Bearer env-token"})
        assert ok.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert "token: the one given by HUBSPOT_ACCESS_TOKEN" in banner
    assert not any("env-token" in line for line in [*banner, out])
    bad = subprocess.run(
        [sys.executable, "-m", "leadscore", "sandbox", "--faults", "503=7"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --faults: fault 503: rate 7.0 must be between 0 and 1"
