"""The HubSpot readiness check: one cheap authenticated call with a short timeout."""

from __future__ import annotations

from leadscore.gateway import build_gateway
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

    def __call__(self) -> None:
        # Its own limiter: a probe must not queue behind a sync that is using the whole
        # budget (one call per cache period is negligible next to the real limits).
        limits = RateLimits.for_tier(self._settings.hubspot_tier)
        try:
            with build_gateway(self._settings, limits=limits) as gateway:
                gateway.lifecycle_stages()
        except RateLimitError:
            # HubSpot answered and accepted the credential; being throttled is not "down".
            return
