"""docs/settings.md is generated from the Settings class and must match it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from leadscore.service import settings_doc
from leadscore.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTINGS_DOC = REPO_ROOT / "docs" / "settings.md"


def test_docs_settings_md_is_in_sync_with_the_settings_class() -> None:
    assert SETTINGS_DOC.read_text(encoding="utf-8") == settings_doc.render(), (
        "docs/settings.md is stale: run "
        "python -m leadscore.service.settings_doc --write docs/settings.md"
    )


def test_every_field_has_a_row_under_each_of_its_variables() -> None:
    text = settings_doc.render()
    for name, field in Settings.model_fields.items():
        for variable in settings_doc.env_names(name, field):
            assert f"`{variable}`" in text
    assert "`LEADSCORE_SCHEDULE_CRON` | string, optional | unset |" in text
    assert "`LEADSCORE_HTTP_PORT` | integer (>= 0, <= 65535) | `8080` |" in text
    assert "| one of: free, starter, professional, enterprise, unlimited | `starter` |" in text


def sample_value(type_text: str) -> str:
    """A valid value for a documented type, different from every field's default."""
    if type_text.startswith("one of: "):
        return type_text.removeprefix("one of: ").split(", ")[-1].split(" ")[0]
    if type_text.startswith(("integer", "number")):
        return "17"
    return "sample-value"


def test_each_documented_variable_really_sets_its_field(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    for name, field in Settings.model_fields.items():
        for variable in settings_doc.env_names(name, field):
            monkeypatch.setenv(variable, sample_value(settings_doc.type_text(field.annotation)))
            assert getattr(Settings(), name) != getattr(defaults, name), variable
            monkeypatch.delenv(variable)


def test_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "settings.md"
    stale.write_text("# old\n", encoding="utf-8")
    command = [sys.executable, "-m", "leadscore.service.settings_doc"]
    result = subprocess.run([*command, "--check", str(stale)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "is out of date" in result.stderr
    assert subprocess.run([*command, "--write", str(stale)], check=False).returncode == 0
    assert subprocess.run([*command, "--check", str(stale)], check=False).returncode == 0
    assert stale.read_text(encoding="utf-8") == settings_doc.render()
