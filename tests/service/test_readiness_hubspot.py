"""The /readyz HubSpot check against the sandbox: accepted, rejected, throttled, unreachable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import pytest

from leadscore.gateway.errors import AuthError, TransientError
from leadscore.sandbox import SandboxHandle, start_sandbox
from leadscore.service.health_server import ReadinessProbe
from leadscore.service.readiness import HubSpotProbe
from leadscore.settings import Settings

LIFECYCLE_PATH = "/crm/v3/properties/contacts/lifecyclestage"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(contacts=5, seed=31) as handle:
        yield handle


def probe_for(sandbox: SandboxHandle, token: str, base_url: str | None = None) -> HubSpotProbe:
    return HubSpotProbe(
        Settings(
            hubspot_access_token=token,
            hubspot_base_url=base_url or sandbox.base_url,
            hubspot_tier="unlimited",
        )  # type: ignore[arg-type]
    )


def test_accepted_credentials_make_one_read_per_check(sandbox: SandboxHandle) -> None:
    before = len(sandbox.admin.requests(path_prefix=LIFECYCLE_PATH))
    with closing(probe_for(sandbox, sandbox.token)) as probe:
        probe()
        probe()
    calls = sandbox.admin.requests(path_prefix=LIFECYCLE_PATH)[before:]
    assert [(c["method"], c["status"]) for c in calls] == [("GET", 200), ("GET", 200)]


def test_rejected_token_is_not_ready_with_the_reason(sandbox: SandboxHandle) -> None:
    with closing(probe_for(sandbox, "pat-na1-00000000-wrong")) as probe:
        with pytest.raises(AuthError, match=r"\(401"):
            probe()
        result = ReadinessProbe({"hubspot": probe}).results()
    assert not result["hubspot"].ok
    assert "401" in result["hubspot"].detail
    assert "pat-na1-00000000-wrong" not in result["hubspot"].detail


def test_throttled_hubspot_still_counts_as_reachable(sandbox: SandboxHandle) -> None:
    sandbox.admin.set_faults("429burst=1.0x3")
    try:
        before = len(sandbox.admin.requests(path_prefix=LIFECYCLE_PATH))
        with closing(probe_for(sandbox, sandbox.token)) as probe:
            probe()  # no exception: answered, just throttled
        calls = sandbox.admin.requests(path_prefix=LIFECYCLE_PATH)[before:]
        assert [c["status"] for c in calls] == [429]  # and no retry from a probe
    finally:
        sandbox.admin.set_faults(None)


def test_unreachable_hubspot_is_not_ready(sandbox: SandboxHandle) -> None:
    with (
        closing(probe_for(sandbox, sandbox.token, base_url="http://127.0.0.1:1")) as probe,
        pytest.raises(TransientError, match="network failure"),
    ):
        probe()
