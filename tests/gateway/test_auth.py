"""Credentials: static tokens, OAuth refresh before expiry and after a 401 (token endpoint stubbed
through an injected httpx transport, CRM calls against the sandbox)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest
from tests.gateway.conftest import GatewayFactory

from leadscore.errors import ConfigError
from leadscore.gateway import AuthError, build_credential
from leadscore.gateway.auth import OAuthCredential, StaticToken
from leadscore.logs import REDACTED, redact_text
from leadscore.sandbox import SandboxHandle
from leadscore.settings import Settings

SECRET = "client-secret-0123456789"
REFRESH = "refresh-token-abcdef0123"


class TokenEndpoint:
    """Stands in for POST /oauth/v1/token: hands out the queued access tokens in order."""

    def __init__(self, tokens: list[str], *, expires_in: int = 1800, status: int = 200) -> None:
        self.tokens = list(tokens)
        self.expires_in = expires_in
        self.status = status
        self.forms: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/oauth/v1/token"
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.forms.append(form)
        if self.status != 200:
            return httpx.Response(
                self.status,
                json={
                    "status": "BAD_REFRESH_TOKEN",
                    "message": f"missing or unknown refresh token {REFRESH}",
                },
            )
        return httpx.Response(
            200,
            json={
                "access_token": self.tokens.pop(0),
                "refresh_token": REFRESH,
                "expires_in": self.expires_in,
                "token_type": "bearer",
            },
        )


def oauth(
    endpoint: TokenEndpoint, base_url: str, now: Callable[[], float] | None = None
) -> OAuthCredential:
    kwargs = {"now": now} if now is not None else {}
    return OAuthCredential(
        client_id="client-id",
        client_secret=SECRET,
        refresh_token=REFRESH,
        base_url=base_url,
        http=httpx.Client(transport=httpx.MockTransport(endpoint), base_url=base_url),
        **kwargs,  # type: ignore[arg-type]
    )


def test_access_token_is_refreshed_before_it_expires() -> None:
    clock = [1_000.0]
    endpoint = TokenEndpoint(["access-one-123456", "access-two-123456"], expires_in=1800)
    cred = oauth(endpoint, "http://hubspot.test", now=lambda: clock[0])
    assert cred.bearer() == "access-one-123456"
    clock[0] += 1400  # 400 s left: still outside the 300 s margin
    assert cred.bearer() == "access-one-123456"
    clock[0] += 150  # 250 s left: renew now rather than risk a 401 mid-batch
    assert cred.bearer() == "access-two-123456"
    assert len(endpoint.forms) == 2
    assert endpoint.forms[0] == {
        "grant_type": "refresh_token",
        "client_id": "client-id",
        "client_secret": SECRET,
        "refresh_token": REFRESH,
    }
    assert redact_text("Bearer-less access-two-123456") == f"Bearer-less {REDACTED}"


def test_a_401_renews_the_token_once_and_the_call_succeeds(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    endpoint = TokenEndpoint(["revoked-token-999", fresh.token])
    gw = make_gateway(credential=oauth(endpoint, fresh.base_url))
    got = gw.read_contacts(["1001", "1002"], ["email"])
    assert sorted(c.id for c in got) == ["1001", "1002"]
    assert len(endpoint.forms) == 2
    statuses = [e["status"] for e in fresh.admin.requests() if e["path"].endswith("/batch/read")]
    assert statuses == [401, 200]
    gw.read_contacts(["1003"], ["email"])
    assert len(endpoint.forms) == 2  # the renewed token is reused


def test_a_rejected_refresh_is_a_one_line_auth_error_without_secrets(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    endpoint = TokenEndpoint([], status=400)
    gw = make_gateway(credential=oauth(endpoint, fresh.base_url))
    with pytest.raises(AuthError) as info:
        gw.get_contact("1001", ["email"])
    message = str(info.value)
    assert "refresh token" in message and "re-authorize" in message
    assert SECRET not in message and REFRESH not in message and "\n" not in message
    assert fresh.admin.stats()["totalRequests"] == 0  # nothing reached the CRM


def test_settings_choose_the_credential() -> None:
    oauth_settings = Settings(
        hubspot_client_id="id", hubspot_client_secret=SECRET, hubspot_refresh_token=REFRESH
    )
    assert isinstance(build_credential(oauth_settings), OAuthCredential)
    token_settings = Settings(hubspot_access_token="pat-na1-aaaaaaaa-bbbb")
    cred = build_credential(token_settings)
    assert isinstance(cred, StaticToken) and cred.bearer() == "pat-na1-aaaaaaaa-bbbb"
    assert "pat-na1" not in cred.identity
    with pytest.raises(ConfigError, match="HUBSPOT_ACCESS_TOKEN"):
        build_credential(Settings())
