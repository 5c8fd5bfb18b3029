"""HubSpot's error bodies, built in one place so every endpoint answers with the same shapes."""

from __future__ import annotations

import json
import uuid
from typing import Any

from leadscore.sandbox.http_server import Response

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
NOT_FOUND_BATCH = (
    "Could not get some {kind} objects, they may be deleted or not exist. Check that ids are valid."
)


def correlation_id() -> str:
    return str(uuid.uuid4())


def error_body(
    message: str,
    category: str,
    *,
    context: dict[str, list[str]] | None = None,
    errors: list[dict[str, Any]] | None = None,
    sub_category: str | None = None,
) -> dict[str, Any]:
    """The standard CRM error object: {status, message, correlationId, category, ...}."""
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": correlation_id(),
        "category": category,
    }
    if sub_category:
        body["subCategory"] = sub_category
    if context:
        body["context"] = context
    if errors:
        body["errors"] = errors
    return body


def error(status: int, message: str, category: str, **kwargs: Any) -> Response:
    return Response(status, error_body(message, category, **kwargs))


def unauthorized() -> Response:
    return error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")


def missing_scopes(scopes: list[str]) -> Response:
    """403 for a token without a required scope, naming the scope as HubSpot does."""
    body = error_body(
        "This app hasn't been granted all required scopes to make this call. Read more about "
        "required scopes here: https://developers.hubspot.com/scopes.",
        "MISSING_SCOPES",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": scopes},
            }
        ],
    )
    body["links"] = {"scopes": "https://developers.hubspot.com/scopes"}
    return Response(403, body)


def not_found(message: str = "resource not found") -> Response:
    return error(404, message, "OBJECT_NOT_FOUND")


def bad_request(message: str, **kwargs: Any) -> Response:
    return error(400, message, "VALIDATION_ERROR", **kwargs)


def invalid_properties_message(results: list[dict[str, Any]]) -> str:
    """HubSpot embeds the per-property validation results as JSON in the message."""
    return "Property values were not valid: " + json.dumps(results, separators=(",", ":"))


def batch_error(
    message: str, category: str, context: dict[str, list[str]], sub_category: str | None = None
) -> dict[str, Any]:
    """One entry of a 207 `errors` list (the SDK requires context, links and errors)."""
    entry: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "links": {},
        "errors": [],
    }
    if sub_category:
        entry["subCategory"] = sub_category
    return entry


def rate_limit_body(policy: str, group: str) -> dict[str, Any]:
    """The 429 body for the ten-secondly, secondly (search) and daily policies."""
    message = {
        "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
        "SECONDLY": "You have reached your secondly limit.",
        "DAILY": "You have reached your daily limit.",
    }[policy]
    return {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
        "groupName": group,
    }
