"""Typed, documented settings for every part of the service, read from the environment."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadscore.errors import ConfigError


class Tier(StrEnum):
    """HubSpot subscription tier: decides the API rate limits the gateway allows itself."""

    free = "free"
    starter = "starter"
    professional = "professional"
    enterprise = "enterprise"
    unlimited = "unlimited"  # sandbox only: limits off


class LogFormat(StrEnum):
    """How log lines are rendered."""

    auto = "auto"
    json = "json"
    console = "console"


class Settings(BaseSettings):
    """All settings. Environment variables carry the LEADSCORE_ prefix unless noted."""

    model_config = SettingsConfigDict(
        env_prefix="LEADSCORE_",
        env_file=None,
        extra="ignore",
        populate_by_name=True,
    )

    # --- HubSpot -----------------------------------------------------------
    hubspot_access_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("HUBSPOT_ACCESS_TOKEN", "LEADSCORE_HUBSPOT_ACCESS_TOKEN"),
        description=(
            "HUBSPOT_ACCESS_TOKEN: private-app token or service key, sent as a bearer token. "
            "When neither it nor OAuth is configured, `demo` uses the bundled sandbox."
        ),
    )
    hubspot_base_url: str = Field(
        default="https://api.hubapi.com",
        validation_alias=AliasChoices("HUBSPOT_BASE_URL", "LEADSCORE_HUBSPOT_BASE_URL"),
        description="HUBSPOT_BASE_URL: root URL of the HubSpot API (point it at a sandbox to test).",
    )
    hubspot_client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HUBSPOT_CLIENT_ID", "LEADSCORE_HUBSPOT_CLIENT_ID"),
        description="HUBSPOT_CLIENT_ID: OAuth app client id (OAuth instead of a static token).",
    )
    hubspot_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("HUBSPOT_CLIENT_SECRET", "LEADSCORE_HUBSPOT_CLIENT_SECRET"),
        description="HUBSPOT_CLIENT_SECRET: OAuth app client secret.",
    )
    hubspot_refresh_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("HUBSPOT_REFRESH_TOKEN", "LEADSCORE_HUBSPOT_REFRESH_TOKEN"),
        description="HUBSPOT_REFRESH_TOKEN: OAuth refresh token, exchanged for access tokens.",
    )
    hubspot_tier: Tier = Field(
        default=Tier.starter,
        description=(
            "Subscription tier of the portal (free, starter, professional, enterprise): sets the "
            "request rate the gateway allows itself. Response headers can only tighten it."
        ),
    )
    hubspot_api_version: str = Field(
        default="v3",
        description="CRM API version segment used in every CRM path (v3, or a dated version).",
    )
    request_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Timeout for every HTTP call to HubSpot, in seconds."
    )
    max_concurrency: int = Field(
        default=8, ge=1, le=64, description="Concurrent HubSpot requests during read/write phases."
    )
    max_retries: int = Field(
        default=8,
        ge=0,
        le=50,
        description="Retries for one retriable HubSpot call (429, 5xx, network).",
    )

    # --- Rules and state ---------------------------------------------------
    rules: Path = Field(
        default=Path("config/scoring.yaml"), description="Path of the scoring rules file."
    )
    database_url: str = Field(
        default="sqlite:///leadscore.db",
        description=(
            "SQLAlchemy URL of the state store: a SQLite file by default, "
            "postgresql+psycopg://user@host/db in production."
        ),
    )

    # --- Sync ----------------------------------------------------------------
    sync_lookback_seconds: int = Field(
        default=300,
        ge=0,
        description="Incremental sync re-reads contacts modified this long before the cursor.",
    )
    default_owner_id: str | None = Field(
        default=None,
        description="Owner id that gets the follow-up task when an SQL contact has no owner.",
    )
    task_due_hours: float = Field(
        default=24.0, gt=0, description="Follow-up tasks are due this many hours after creation."
    )

    # --- Service -------------------------------------------------------------
    schedule_interval_seconds: int | None = Field(
        default=900, ge=10, description="`run`: seconds between incremental syncs."
    )
    schedule_cron: str | None = Field(
        default=None,
        description="`run`: crontab expression (5 fields, UTC); overrides the interval when set.",
    )
    http_port: int = Field(
        default=8080, ge=0, le=65535, description="`run`: port of /healthz, /readyz and /metrics."
    )
    shutdown_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        description="`run`: time allowed to finish the current batch on SIGTERM.",
    )

    # --- Logging ---------------------------------------------------------------
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    log_format: LogFormat = Field(
        default=LogFormat.auto,
        description="Log format: json, console, or auto (console on a terminal, JSON otherwise).",
    )

    def has_hubspot_credentials(self) -> bool:
        """True when a token or a complete OAuth configuration is present."""
        if self.hubspot_access_token is not None and self.hubspot_access_token.get_secret_value():
            return True
        return bool(
            self.hubspot_client_id and self.hubspot_client_secret and self.hubspot_refresh_token
        )

    def require_hubspot_credentials(self, hint: str | None = None) -> None:
        """Raise one ConfigError line, with an optional hint, when no credentials are set."""
        if not self.has_hubspot_credentials():
            message = (
                "no HubSpot credentials: set HUBSPOT_ACCESS_TOKEN (or HUBSPOT_CLIENT_ID, "
                "HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN)"
            )
            raise ConfigError(f"{message}; {hint}" if hint else message)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a bad value becomes one ConfigError line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        raise ConfigError(f"invalid setting {field}: {err.get('msg', 'invalid value')}") from None
