"""The gateway's error taxonomy and the one function that maps HubSpot failures onto it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from leadscore.errors import LeadscoreError
from leadscore.logs import redact_text

# HubSpot's 429 policy names (the `policyName` field of the error body).
POLICY_TEN_SECONDLY = "TEN_SECONDLY_ROLLING"
POLICY_SECONDLY = "SECONDLY"
POLICY_DAILY = "DAILY"

_MAX_DETAIL = 200


class GatewayError(LeadscoreError):
    """A HubSpot call failed; `retriable` says whether the same call may succeed later."""

    exit_code = 1
    retriable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        operation: str | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(one_line(message))
        self.status = status
        self.operation = operation
        self.category = category
        self.correlation_id = correlation_id


class AuthError(GatewayError):
    """401: the credential is missing, wrong, expired or revoked (fatal)."""

    exit_code = 3


class ScopeError(AuthError):
    """403: the credential lacks a scope (named in the message) or access is forbidden (fatal)."""


class ValidationError(GatewayError):
    """400/422: HubSpot rejected the request's content (fatal for that input)."""


class NotFoundError(GatewayError):
    """404: the object or endpoint does not exist."""


class ConflictError(GatewayError):
    """409: the object already exists (e.g. a property created concurrently)."""


class PaginationError(GatewayError):
    """A cursor stopped advancing: HubSpot kept returning the same page."""


class RateLimitError(GatewayError):
    """429 (or the local daily budget): retriable unless it is the daily limit."""

    def __init__(
        self,
        message: str,
        *,
        policy: str,
        retry_after: float | None = None,
        status: int | None = 429,
        operation: str | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            operation=operation,
            category=category,
            correlation_id=correlation_id,
        )
        self.policy = policy
        self.retry_after = retry_after
        # The daily limit resets at midnight: retrying within a run cannot help.
        self.retriable = policy != POLICY_DAILY


class TransientError(GatewayError):
    """5xx, 423, a timeout or a dropped connection: worth retrying.

    `maybe_applied` is False only when the request certainly never reached HubSpot
    (connection refused, 502/503/504 from the edge is still treated as maybe-applied
    because a gateway may time out while the origin finishes the write).
    """

    retriable = True

    def __init__(
        self,
        message: str,
        *,
        maybe_applied: bool = True,
        retry_after: float | None = None,
        status: int | None = None,
        operation: str | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            operation=operation,
            category=category,
            correlation_id=correlation_id,
        )
        self.maybe_applied = maybe_applied
        self.retry_after = retry_after


def one_line(text: str) -> str:
    """Text from HubSpot or a library as one line, with every registered secret masked."""
    return redact_text(" ".join(text.split()))


def _parse_body(body: bytes | str | Mapping[str, Any] | None) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, Mapping):
        return dict(body)
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return {"message": text} if text.strip() else {}
    return parsed if isinstance(parsed, dict) else {}


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or unusable."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        # The HTTP-date form is not used by HubSpot; treat it as absent.
        return None
    return max(0.0, seconds)


def _missing_scopes(parsed: Mapping[str, Any]) -> list[str]:
    scopes: list[str] = []
    for err in parsed.get("errors") or []:
        if not isinstance(err, Mapping):
            continue
        context = err.get("context") or {}
        if not isinstance(context, Mapping):
            continue
        for key in ("requiredGranularScopes", "requiredScopes", "missingScopes"):
            for scope in context.get(key) or []:
                if isinstance(scope, str) and scope not in scopes:
                    scopes.append(scope)
    return scopes


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def classify(
    *,
    operation: str,
    credential: str = "access token",
    status: int | None = None,
    body: bytes | str | Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    exc: BaseException | None = None,
) -> GatewayError:
    """Map one failed HubSpot call onto the taxonomy: the only place status codes are read.

    `status` None with `exc` set means the request failed below HTTP (connect, timeout,
    dropped connection). `credential` names the token kind for 401/403 messages; the
    token itself never appears.
    """
    if status is None:
        return _classify_transport(operation, exc)
    parsed = _parse_body(body)
    message = _short(str(parsed.get("message") or "").strip()) or f"HTTP {status}"
    category = parsed.get("category") or parsed.get("errorType")
    category = str(category) if category else None
    correlation = parsed.get("correlationId")
    correlation = str(correlation) if correlation else None
    common: dict[str, Any] = {
        "status": status,
        "operation": operation,
        "category": category,
        "correlation_id": correlation,
    }
    if status == 401:
        return AuthError(
            f"HubSpot rejected the {credential} on {operation} (401"
            f"{' ' + category if category else ''}): it is missing, wrong, expired or revoked",
            **common,
        )
    if status == 403:
        scopes = _missing_scopes(parsed)
        if scopes:
            return ScopeError(
                f"the {credential} lacks scope {' or '.join(scopes)} needed for {operation} "
                f"(403 {category or 'MISSING_SCOPES'}): grant it to the app and retry",
                **common,
            )
        return ScopeError(
            f"HubSpot refused {operation} for the {credential} (403"
            f"{' ' + category if category else ''}): {message}",
            **common,
        )
    if status == 404:
        return NotFoundError(f"{operation}: not found (404): {message}", **common)
    if status == 409:
        return ConflictError(f"{operation}: conflict (409): {message}", **common)
    if status == 429:
        policy = str(parsed.get("policyName") or "").upper()
        if not policy:
            policy = POLICY_SECONDLY if "secondly limit" in message.lower() else POLICY_TEN_SECONDLY
        if "SECONDLY" in policy and policy != POLICY_TEN_SECONDLY:
            policy = POLICY_SECONDLY
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        what = {
            POLICY_DAILY: "daily API limit reached; it resets at midnight in the portal's time zone",
            POLICY_SECONDLY: "per-second search limit reached",
        }.get(policy, "10-second rate limit reached")
        return RateLimitError(
            f"{operation}: {what} (429 {policy})",
            policy=policy,
            retry_after=retry_after,
            **common,
        )
    if status == 423 or status >= 500:
        return TransientError(
            f"{operation}: HubSpot is temporarily failing ({status}): {message}",
            maybe_applied=True,
            retry_after=parse_retry_after(_header(headers, "Retry-After")),
            **common,
        )
    if 400 <= status < 500:
        return ValidationError(f"{operation}: rejected ({status}): {message}", **common)
    return GatewayError(f"{operation}: unexpected HTTP {status}: {message}", **common)


def _classify_transport(operation: str, exc: BaseException | None) -> GatewayError:
    name = type(exc).__name__ if exc is not None else "error"
    # Only a refused or unresolvable connection proves the request never left us;
    # timeouts and dropped connections may have been processed by HubSpot.
    never_sent = name in {
        "ConnectError",
        "NewConnectionError",
        "ConnectTimeout",
        "ConnectTimeoutError",
        "NameResolutionError",
        "ConnectionRefusedError",
    }
    if exc is not None and exc.__cause__ is not None and not never_sent:
        never_sent = type(exc.__cause__).__name__ in {"NewConnectionError", "ConnectTimeoutError"}
    reason = getattr(exc, "reason", None)
    if reason is not None and type(reason).__name__ in {
        "NewConnectionError",
        "ConnectTimeoutError",
    }:
        never_sent = True
    detail = _short(str(exc)) if exc is not None and str(exc) else name
    return TransientError(
        f"{operation}: network failure ({name}): {detail}",
        maybe_applied=not never_sent,
        operation=operation,
    )
