"""Startup checks for `leadscore run`: fail fast, with one clear line, before serving anything."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa

from leadscore.errors import ConfigError, LeadscoreError
from leadscore.rules import load_model
from leadscore.service.locks import (
    database_error_line,
    display_database_url,
    parse_database_url,
)
from leadscore.service.schedule import Schedule, schedule_from_settings
from leadscore.settings import Settings

# Long enough for a database across a network, short enough that a probe still answers.
DATABASE_CONNECT_TIMEOUT_SECONDS = 5


class StateStoreUnreachable(LeadscoreError):
    """The state store's database cannot be reached."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class StartupReport:
    """What the checks established, for the "service started" log line."""

    schedule: Schedule
    rules_version: str


def check_startup(settings: Settings) -> StartupReport:
    """Every check `run` needs before it may start; the first failure raises one line."""
    require_credentials(settings)
    schedule = schedule_from_settings(settings)
    rules_version = check_rules(settings)
    # Only reachability: the schema is migrated by each run's open_store, which happens
    # under the run lock, so replicas starting together never migrate concurrently.
    probe = StateStoreProbe(settings.database_url)
    try:
        probe()  # bounded connect timeout: an unreachable server fails in seconds
    finally:
        probe.close()
    return StartupReport(schedule=schedule, rules_version=rules_version)


def require_credentials(settings: Settings) -> None:
    """`run` talks to HubSpot on every tick: a token or a full OAuth configuration is required."""
    settings.require_hubspot_credentials()


def check_rules(settings: Settings) -> str:
    """Load the rules file the way every run will; returns the model version."""
    return load_model(settings.rules).version


class StateStoreProbe:
    """Connects to the state store's database and runs SELECT 1; reused by /readyz."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._display = display_database_url(database_url)
        self._engine: sa.Engine | None = None
        self._guard = threading.Lock()

    def _get_engine(self) -> sa.Engine:
        with self._guard:
            if self._engine is None:
                if parse_database_url(self._url).get_backend_name() == "postgresql":
                    self._engine = sa.create_engine(
                        self._url,
                        pool_pre_ping=True,
                        pool_size=1,
                        connect_args={"connect_timeout": DATABASE_CONNECT_TIMEOUT_SECONDS},
                    )
                else:
                    self._engine = sa.create_engine(self._url)
            return self._engine

    def __call__(self) -> None:
        try:
            with self._get_engine().connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"invalid setting database_url: {exc}") from None
        except sa.exc.SQLAlchemyError as exc:
            raise StateStoreUnreachable(
                f"cannot reach the state store at {self._display}: {database_error_line(exc)}"
            ) from None

    def close(self) -> None:
        with self._guard:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
