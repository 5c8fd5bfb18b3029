"""Fixtures for the gateway's contract tests: a sandbox over real HTTP and gateways pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from leadscore.gateway import HttpGateway, build_gateway
from leadscore.gateway.auth import Credential
from leadscore.gateway.ratelimit import RateLimits
from leadscore.gateway.retry import Backoff, RetryPolicy
from leadscore.sandbox import SandboxHandle, start_sandbox
from leadscore.settings import Settings, Tier

# HubSpot's waits scaled down ~100x so fault-heavy tests stay fast; the shape is the same.
FAST_BACKOFF = Backoff(
    ten_secondly=0.03,
    secondly=0.03,
    server_error=0.01,
    network=0.01,
    locked_min=0.05,
    jitter=0.2,
    max_wait=2.0,
)

GatewayFactory = Callable[..., HttpGateway]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(contacts=1500, seed=3) as handle:
        yield handle


@pytest.fixture()
def fresh(sandbox: SandboxHandle) -> SandboxHandle:
    """The module's sandbox, back to its seeded state with limits and faults off."""
    sandbox.admin.reset()
    sandbox.admin.set_faults(None)
    sandbox.admin.set_limits("unlimited")
    sandbox.admin.set_latency(0)
    return sandbox


def settings_for(base_url: str, token: str | None, tier: Tier, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "hubspot_base_url": base_url,
        "hubspot_tier": tier,
        "request_timeout_seconds": 5.0,
        "max_concurrency": 8,
    }
    if token is not None:
        values["hubspot_access_token"] = token
    values.update(overrides)
    return Settings(**values)


@pytest.fixture()
def make_gateway(fresh: SandboxHandle) -> Iterator[GatewayFactory]:
    """Build gateways against the sandbox (or `base_url`); all are closed after the test."""
    made: list[HttpGateway] = []

    def factory(
        *,
        base_url: str | None = None,
        token: str | None = None,
        tier: Tier = Tier.unlimited,
        limits: RateLimits | None = None,
        credential: Credential | None = None,
        max_retries: int = 8,
        **overrides: Any,
    ) -> HttpGateway:
        settings = settings_for(
            base_url or fresh.base_url,
            None if credential is not None else (token or fresh.token),
            tier,
            **overrides,
        )
        gateway = build_gateway(
            settings,
            credential=credential,
            limits=limits or RateLimits.for_tier(tier),
            retry=RetryPolicy(max_retries=max_retries, backoff=FAST_BACKOFF),
        )
        made.append(gateway)
        return gateway

    yield factory
    for gateway in made:
        gateway.close()
