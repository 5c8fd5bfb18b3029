"""The one classifier: HubSpot answers and transport failures -> the gateway's error taxonomy."""

from __future__ import annotations

import json

import httpx
import pytest
import urllib3

from leadscore.errors import LeadscoreError
from leadscore.gateway.errors import (
    POLICY_DAILY,
    POLICY_SECONDLY,
    POLICY_TEN_SECONDLY,
    AuthError,
    ConflictError,
    GatewayError,
    NotFoundError,
    RateLimitError,
    ScopeError,
    TransientError,
    ValidationError,
    classify,
)
from leadscore.logs import register_secret

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_401_names_the_credential_kind_in_one_line_and_never_the_token() -> None:
    register_secret(TOKEN)
    err = classify(
        operation="update contacts",
        credential="private app token (HUBSPOT_ACCESS_TOKEN)",
        status=401,
        body=body(status="error", message=f"bad token {TOKEN}", category="INVALID_AUTHENTICATION"),
    )
    assert type(err) is AuthError
    assert isinstance(err, LeadscoreError) and err.exit_code == 3
    text = str(err)
    assert "\n" not in text
    assert TOKEN not in text
    assert "private app token (HUBSPOT_ACCESS_TOKEN)" in text
    assert "update contacts" in text and "401" in text
    assert not err.retriable


def test_403_names_the_missing_scope() -> None:
    err = classify(
        operation="update contacts",
        credential="OAuth access token",
        status=403,
        body=body(
            status="error",
            message="This app hasn't been granted all required scopes to make this call.",
            category="MISSING_SCOPES",
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": ["crm.objects.contacts.write"]},
                }
            ],
        ),
    )
    assert isinstance(err, ScopeError) and isinstance(err, AuthError)
    assert str(err) == (
        "the OAuth access token lacks scope crm.objects.contacts.write needed for update "
        "contacts (403 MISSING_SCOPES): grant it to the app and retry"
    )


def test_403_without_scope_details_still_says_which_credential() -> None:
    err = classify(operation="list owners", credential="service key", status=403, body=b"")
    assert isinstance(err, ScopeError)
    assert "service key" in str(err) and "list owners" in str(err)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, ValidationError), (422, ValidationError), (404, NotFoundError), (409, ConflictError)],
)
def test_client_errors_are_fatal(status: int, kind: type[GatewayError]) -> None:
    err = classify(
        operation="op", status=status, body=body(message="nope", category="VALIDATION_ERROR")
    )
    assert type(err) is kind
    assert not err.retriable
    assert err.status == status and err.category == "VALIDATION_ERROR"
    assert "nope" in str(err)


@pytest.mark.parametrize(
    ("payload", "policy", "retriable"),
    [
        (
            {
                "message": "You have reached your ten_secondly_rolling limit.",
                "policyName": "TEN_SECONDLY_ROLLING",
            },
            POLICY_TEN_SECONDLY,
            True,
        ),
        (
            {"message": "You have reached your daily limit.", "policyName": "DAILY"},
            POLICY_DAILY,
            False,
        ),
        (
            {"message": "You have reached your secondly limit.", "policyName": "SECONDLY"},
            POLICY_SECONDLY,
            True,
        ),
        ({"message": "You have reached your secondly limit."}, POLICY_SECONDLY, True),
        ({}, POLICY_TEN_SECONDLY, True),
    ],
)
def test_429_policies(payload: dict[str, str], policy: str, retriable: bool) -> None:
    err = classify(operation="search contacts", status=429, body=body(**payload))
    assert isinstance(err, RateLimitError)
    assert err.policy == policy
    assert err.retriable is retriable
    assert err.retry_after is None


def test_429_reads_retry_after() -> None:
    err = classify(operation="op", status=429, body=b"{}", headers={"retry-after": "3"})
    assert isinstance(err, RateLimitError) and err.retry_after == 3.0


@pytest.mark.parametrize("status", [500, 502, 503, 504, 423])
def test_server_errors_are_transient_and_may_have_applied(status: int) -> None:
    err = classify(operation="op", status=status, body=b"<html>oops</html>")
    assert isinstance(err, TransientError)
    assert err.retriable and err.maybe_applied
    assert err.status == status


def test_refused_connection_never_applied_but_timeout_and_drop_may_have() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:1/x")
    refused = classify(operation="op", exc=httpx.ConnectError("refused", request=request))
    timeout = classify(operation="op", exc=httpx.ReadTimeout("slow", request=request))
    dropped = classify(operation="op", exc=httpx.RemoteProtocolError("closed", request=request))
    urllib_drop = classify(
        operation="op", exc=urllib3.exceptions.ProtocolError("Connection aborted.")
    )
    urllib_refused = classify(
        operation="op",
        exc=urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection"),  # type: ignore[arg-type]
    )
    for err in (refused, timeout, dropped, urllib_drop, urllib_refused):
        assert isinstance(err, TransientError) and err.retriable and err.status is None
    assert not refused.maybe_applied and not urllib_refused.maybe_applied
    assert timeout.maybe_applied and dropped.maybe_applied and urllib_drop.maybe_applied


def test_messages_are_one_line_and_bounded() -> None:
    err = classify(operation="op", status=400, body=body(message="line one\nline two " + "x" * 500))
    assert "\n" not in str(err)
    assert len(str(err)) < 300
