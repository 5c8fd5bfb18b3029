"""The HubSpot gateway: all HTTP to HubSpot behind `HubSpotPort` (see docs/gateway.md).

`build_gateway` and `HttpGateway` load lazily: importing `leadscore.gateway.port` (as the
rule engine does) must not pull in hubspot-api-client, urllib3 and httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leadscore.gateway.errors import (
    AuthError,
    ConflictError,
    GatewayError,
    NotFoundError,
    PaginationError,
    RateLimitError,
    ScopeError,
    TransientError,
    ValidationError,
)

if TYPE_CHECKING:
    from leadscore.gateway.http_gateway import HttpGateway, build_credential, build_gateway

_LAZY = {"HttpGateway", "build_credential", "build_gateway"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from leadscore.gateway import http_gateway

        return getattr(http_gateway, name)
    raise AttributeError(f"module 'leadscore.gateway' has no attribute {name!r}")


__all__ = [
    "AuthError",
    "ConflictError",
    "GatewayError",
    "HttpGateway",
    "NotFoundError",
    "PaginationError",
    "RateLimitError",
    "ScopeError",
    "TransientError",
    "ValidationError",
    "build_credential",
    "build_gateway",
]
