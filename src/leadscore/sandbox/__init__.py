"""A local HubSpot sandbox: HubSpot's endpoints, shapes, limits and quirks over a seeded portal."""

from __future__ import annotations

from leadscore.sandbox.faults import FaultSpec
from leadscore.sandbox.sandbox_handle import (
    DEFAULT_TOKEN,
    SandboxAdmin,
    SandboxHandle,
    start_sandbox,
)

__all__ = ["DEFAULT_TOKEN", "FaultSpec", "SandboxAdmin", "SandboxHandle", "start_sandbox"]
