"""Settings parsing and log redaction."""

from __future__ import annotations

import io
import json

import pytest

from leadscore.errors import ConfigError
from leadscore.logs import REDACTED, configure_logging, get_logger, redact_text, register_secret
from leadscore.settings import Settings, Tier, load_settings


def test_defaults() -> None:
    s = load_settings()
    assert s.hubspot_base_url == "https://api.hubapi.com"
    assert str(s.rules) == "config/scoring.yaml"
    assert s.database_url.startswith("sqlite:///")
    assert s.hubspot_access_token is None
    assert not s.has_hubspot_credentials()


def test_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-11111111-2222")
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:8099")
    monkeypatch.setenv("LEADSCORE_HUBSPOT_TIER", "professional")
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", "sqlite:///x.db")
    s = load_settings()
    assert s.hubspot_access_token is not None
    assert s.hubspot_access_token.get_secret_value() == "pat-na1-11111111-2222"
    assert "pat-na1" not in repr(s)
    assert s.hubspot_base_url == "http://127.0.0.1:8099"
    assert s.hubspot_tier is Tier.professional
    assert s.database_url == "sqlite:///x.db"
    assert s.has_hubspot_credentials()


def test_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADSCORE_HUBSPOT_TIER", "gold")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "hubspot_tier" in str(info.value)
    assert "\n" not in str(info.value)


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_json_logs_redact_tokens() -> None:
    register_secret("s3cr3t-value-123")
    buf = io.StringIO()
    configure_logging("INFO", "json", stream=buf)
    log = get_logger("t")
    log.info(
        "calling",
        url="http://x/?token=1",
        authorization="Bearer abc.def",
        detail="header was Bearer zzz and s3cr3t-value-123",
        access_token="pat-na1-aaaa-bbbb-cccc-dddd",
    )
    line = json.loads(buf.getvalue().strip().splitlines()[-1])
    assert line["authorization"] == REDACTED
    assert line["access_token"] == REDACTED
    assert "zzz" not in line["detail"] and "s3cr3t-value-123" not in line["detail"]
    assert line["event"] == "calling"


def test_redact_text_private_app_token() -> None:
    assert "pat-na1" not in redact_text("token pat-na1-0123abcd-4567-89ef failed")
