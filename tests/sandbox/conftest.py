"""Fixtures: one small sandbox per test module, reset before every test; SDK and httpx clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hubspot import Client

from leadscore.sandbox import SandboxHandle, start_sandbox


@pytest.fixture(scope="module")
def sandbox_module() -> Iterator[SandboxHandle]:
    with start_sandbox(contacts=400, seed=7) as sandbox:
        yield sandbox


@pytest.fixture()
def sandbox(sandbox_module: SandboxHandle) -> SandboxHandle:
    sandbox_module.admin.reset()
    sandbox_module.admin.set_faults(None)
    sandbox_module.admin.set_latency(0)
    sandbox_module.admin.set_limits("unlimited")
    sandbox_module.admin.set_batch_create_multi_status(True)
    return sandbox_module


@pytest.fixture()
def sdk(sandbox: SandboxHandle) -> Client:
    """hubspot-api-client 12 pointed at the sandbox (host= for generated APIs, base_url= for api_request)."""
    return Client.create(
        access_token=sandbox.token, host=sandbox.base_url, base_url=sandbox.base_url
    )


@pytest.fixture()
def http(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.base_url,
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=30,
    ) as client:
        yield client
