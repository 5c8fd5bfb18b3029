"""`leadscore run` refuses to start, with one clear line and a non-zero exit, when it cannot work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leadscore.errors import ConfigError
from leadscore.rules import load_model
from leadscore.service.startup import StateStoreUnreachable, check_startup
from leadscore.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES = REPO_ROOT / "config" / "scoring.yaml"
UNREACHABLE_PG = "postgresql+psycopg://leadscore:hunter2-secret@127.0.0.1:1/leadscore"


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "hubspot_access_token": "pat-na1-startup-test-token",
        "rules": RULES,
        "database_url": f"sqlite:///{tmp_path}/state.db",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def run_cli(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LEADSCORE_", "HUBSPOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "leadscore", "run"],
        env={**base, "LEADSCORE_HTTP_PORT": "0", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_good_configuration_passes(tmp_path: Path) -> None:
    report = check_startup(settings_for(tmp_path))
    assert report.rules_version == load_model(RULES).version
    assert report.schedule.description == "every 900 s"


def test_missing_credentials(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^no HubSpot credentials: set HUBSPOT_ACCESS_TOKEN"):
        check_startup(settings_for(tmp_path, hubspot_access_token=None))


def test_oauth_configuration_counts_as_credentials(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        hubspot_access_token=None,
        hubspot_client_id="client",
        hubspot_client_secret="secret",
        hubspot_refresh_token="refresh",
    )
    assert check_startup(settings).rules_version


def test_invalid_rules_file_names_file_line_and_field(tmp_path: Path) -> None:
    rules = tmp_path / "scoring.yaml"
    rules.write_text("version: 1\nscores:\n  fit:\n    rules: [{when: {bogus: 1}, points: 3}]\n")
    with pytest.raises(ConfigError) as info:
        check_startup(settings_for(tmp_path, rules=rules))
    assert str(info.value).startswith(f"{rules}:4: scores.fit.rules[0]")
    assert not (tmp_path / "state.db").exists()  # nothing touched before the rules were valid


@pytest.mark.postgres
def test_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(StateStoreUnreachable) as info:
        check_startup(settings_for(tmp_path, database_url=UNREACHABLE_PG))
    message = str(info.value)
    assert message.startswith(
        "cannot reach the state store at postgresql+psycopg://leadscore:***@127.0.0.1:1/leadscore: "
    )
    assert "hunter2" not in message and "\n" not in message


def test_cli_missing_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, {"LEADSCORE_RULES": str(RULES)})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: no HubSpot credentials: set HUBSPOT_ACCESS_TOKEN (or HUBSPOT_CLIENT_ID, "
        "HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN)"
    ]


def test_cli_bad_cron_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        {
            "HUBSPOT_ACCESS_TOKEN": "pat-na1-startup-test-token",
            "LEADSCORE_RULES": str(RULES),
            "LEADSCORE_SCHEDULE_CRON": "0 25 * * *",
        },
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: invalid setting schedule_cron '0 25 * * *': ")


def test_cli_missing_rules_file_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        {"HUBSPOT_ACCESS_TOKEN": "pat-na1-startup-test-token", "LEADSCORE_RULES": "absent.yaml"},
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: absent.yaml: rules file not found"]


@pytest.mark.postgres
def test_cli_unreachable_database_exits_1_with_one_line(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        {
            "HUBSPOT_ACCESS_TOKEN": "pat-na1-startup-test-token",
            "LEADSCORE_RULES": str(RULES),
            "LEADSCORE_DATABASE_URL": UNREACHABLE_PG,
        },
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "error: cannot reach the state store at postgresql+psycopg://leadscore:***@"
    )
    assert "hunter2" not in result.stderr
