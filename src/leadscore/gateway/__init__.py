"""The HubSpot gateway: all HTTP to HubSpot behind `HubSpotPort` (see docs/gateway.md)."""

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
from leadscore.gateway.http_gateway import HttpGateway, build_credential, build_gateway

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
