"""The HubSpot readiness check: one cheap authenticated call with a short timeout."""

from __future__ import annotations

from leadscore.gateway import HttpGateway, build_gateway
from leadscore.gateway.errors import RateLimitError
from leadscore.gateway.ratelimit import RateLimits
from leadscore.settings import Settings

# A probe must answer within the orchestrator's timeout, so it never waits out retries.
PROBE_TIMEOUT_SECONDS = 3.0


class HubSpotProbe:
    """Reads the lifecyclestage property definition: authenticated, tiny, and read-only."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings.model_copy(
            update={
                "request_timeout_seconds": min(
                    PROBE_TIMEOUT_SECONDS, settings.request_timeout_seconds
                ),
                "max_retries": 0,
            }
        )
        self._gateway: HttpGateway | None = None

    def __call__(self) -> None:
        if self._gateway is None:
            # Kept for the service's lifetime so an OAuth access token is refreshed only
            # when it expires, not on every probe. Its own limiter: a probe must not queue
            # behind a sync using the whole budget (one call per cache period is negligible).
            self._gateway = build_gateway(
                self._settings, limits=RateLimits.for_tier(self._settings.hubspot_tier)
            )
        try:
            self._gateway.lifecycle_stages()
        except RateLimitError:
            # HubSpot answered and accepted the credential; being throttled is not "down".
            return

    def close(self) -> None:
        """Close the probe's HTTP connections."""
        if self._gateway is not None:
            self._gateway.close()
            self._gateway = None
