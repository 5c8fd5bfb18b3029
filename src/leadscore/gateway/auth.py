"""Credentials for HubSpot: a static bearer token, or OAuth with a refreshed access token."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Protocol

import httpx

from leadscore.gateway.errors import AuthError, GatewayError, classify
from leadscore.logs import register_secret

OAUTH_TOKEN_PATH = "/oauth/v1/token"


class Credential(Protocol):
    """Supplies the bearer token for each request; OAuth ones can renew it."""

    @property
    def kind(self) -> str:
        """What the token is, for one-line 401/403 messages (never the token itself)."""
        ...

    @property
    def identity(self) -> str:
        """A stable, non-secret key for the shared rate limiters of this credential."""
        ...

    def bearer(self) -> str:
        """The token to send now."""
        ...

    def renew_after_rejection(self, rejected: str) -> bool:
        """HubSpot answered 401 to `rejected`: get a new token; True when retrying may help."""
        ...

    def close(self) -> None: ...


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


class StaticToken:
    """A private-app token or service key: sent as is, never renewed."""

    def __init__(self, token: str, kind: str = "private app token (HUBSPOT_ACCESS_TOKEN)") -> None:
        if not token:
            raise AuthError("no HubSpot access token configured (HUBSPOT_ACCESS_TOKEN is empty)")
        register_secret(token)
        self._token = token
        self._kind = kind

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def identity(self) -> str:
        return "token:" + _fingerprint(self._token)

    def bearer(self) -> str:
        return self._token

    def renew_after_rejection(self, rejected: str) -> bool:
        return False

    def close(self) -> None:
        return None


class OAuthCredential:
    """OAuth: exchanges the refresh token for access tokens at POST /oauth/v1/token.

    The access token is renewed `refresh_margin` seconds before it expires, and again
    when HubSpot rejects it with 401 (once per rejected token, however many threads saw it).
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        base_url: str,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        refresh_margin: float = 300.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        for secret in (client_secret, refresh_token):
            register_secret(secret)
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._url = base_url.rstrip("/") + OAUTH_TOKEN_PATH
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=timeout)
        self._timeout = timeout
        self._margin = refresh_margin
        self._now = now
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.refreshes = 0

    @property
    def kind(self) -> str:
        return "OAuth access token (from HUBSPOT_REFRESH_TOKEN)"

    @property
    def identity(self) -> str:
        return "oauth:" + _fingerprint(self._client_id, self._refresh_token)

    def bearer(self) -> str:
        with self._lock:
            if self._token is None or self._now() >= self._expires_at - self._margin:
                self._refresh_locked()
            assert self._token is not None
            return self._token

    def renew_after_rejection(self, rejected: str) -> bool:
        with self._lock:
            if self._token == rejected:
                self._refresh_locked()
            return True

    def _refresh_locked(self) -> None:
        operation = "OAuth token refresh"
        credential = (
            "OAuth refresh token or client secret (HUBSPOT_REFRESH_TOKEN, HUBSPOT_CLIENT_SECRET)"
        )
        try:
            response = self._http.post(
                self._url,
                data={
                    "grant_type": "refresh_token",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                    "refresh_token": self._refresh_token,
                },
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:
            raise classify(operation=operation, credential=credential, exc=exc) from None
        if response.status_code >= 400:
            error = classify(
                operation=operation,
                credential=credential,
                status=response.status_code,
                body=response.content,
                headers=response.headers,
            )
            if response.status_code in (400, 401, 403):
                # A refresh rejected for its content means the grant itself is bad.
                raise AuthError(
                    f"HubSpot rejected the {credential} ({response.status_code}"
                    f"{' ' + error.category if error.category else ''}): re-authorize the app",
                    status=response.status_code,
                    operation=operation,
                    category=error.category,
                ) from None
            raise error from None
        try:
            payload = response.json()
            token = str(payload["access_token"])
            expires_in = float(payload.get("expires_in", 1800))
        except (ValueError, KeyError, TypeError):
            raise GatewayError(
                f"{operation}: HubSpot answered without an access_token", operation=operation
            ) from None
        register_secret(token)
        new_refresh = payload.get("refresh_token")
        if isinstance(new_refresh, str) and new_refresh:
            register_secret(new_refresh)
            self._refresh_token = new_refresh
        self._token = token
        self._expires_at = self._now() + expires_in
        self.refreshes += 1

    def close(self) -> None:
        if self._own_http:
            self._http.close()
