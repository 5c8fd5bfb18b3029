"""The single path every HubSpot request takes: budget, pacing, auth, classification, retry."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import urllib3

from leadscore.gateway.auth import Credential
from leadscore.gateway.errors import (
    POLICY_DAILY,
    POLICY_SECONDLY,
    AuthError,
    GatewayError,
    RateLimitError,
    ScopeError,
    classify,
)
from leadscore.gateway.port import GatewayStats
from leadscore.gateway.ratelimit import RateLimits
from leadscore.gateway.retry import RetryPolicy
from leadscore.logs import get_logger

log = get_logger("leadscore.gateway")

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    httpx.TransportError,
    urllib3.exceptions.HTTPError,
    ConnectionError,
    TimeoutError,
)
"""Failures below HTTP from either client library: classified as transient."""


@dataclass(slots=True)
class Reply:
    """One HTTP answer, success or not; `data` is the decoded body of a success."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    data: Any = None
    body: bytes | str | None = None


Send = Callable[[str], Reply]
"""Performs one attempt with the given bearer token and returns the answer (any status)."""


class CallStats:
    """Thread-safe counters behind `HubSpotPort.stats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls = 0
        self._by_operation: dict[str, int] = {}
        self._rate_limited = 0
        self._retries = 0

    def count_call(self, operation: str) -> None:
        with self._lock:
            self._calls += 1
            self._by_operation[operation] = self._by_operation.get(operation, 0) + 1

    def count_rate_limited(self) -> None:
        with self._lock:
            self._rate_limited += 1

    def count_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def snapshot(self, daily_remaining: int | None) -> GatewayStats:
        with self._lock:
            return GatewayStats(
                calls=self._calls,
                calls_by_operation=dict(self._by_operation),
                rate_limited=self._rate_limited,
                retries=self._retries,
                daily_remaining=daily_remaining,
            )


class CallRunner:
    """Runs one logical call: daily budget, limiter slot, bearer, send, classify, retry."""

    def __init__(
        self,
        *,
        credential: Credential,
        limits: RateLimits,
        retry: RetryPolicy,
        stats: CallStats | None = None,
    ) -> None:
        self.credential = credential
        self.limits = limits
        self.retry = retry
        self.stats = stats or CallStats()

    def run(
        self,
        operation: str,
        send: Send,
        *,
        search: bool = False,
        idempotent: bool = True,
        accept: Callable[[int], bool] | None = None,
    ) -> Reply:
        """Return the successful reply or raise a classified GatewayError.

        `accept(status)` lets a caller take a non-2xx answer as a result (e.g. 404 on a
        lookup by id) instead of an error.
        """

        def on_retry(error: GatewayError, attempt: int, wait: float) -> None:
            self.stats.count_retry()
            log.info(
                "hubspot_retry",
                operation=operation,
                attempt=attempt,
                wait_seconds=round(wait, 3),
                error=str(error),
            )

        return self.retry.run(
            lambda: self._attempt(operation, send, search=search, accept=accept),
            idempotent=idempotent,
            on_retry=on_retry,
        )

    def _attempt(
        self,
        operation: str,
        send: Send,
        *,
        search: bool,
        accept: Callable[[int], bool] | None,
    ) -> Reply:
        bearer = self.credential.bearer()
        reply = self._send_once(operation, send, bearer, search=search)
        if reply.status == 401 and self.credential.renew_after_rejection(bearer):
            # An expired or revoked OAuth access token: renew once and resend now.
            reply = self._send_once(operation, send, self.credential.bearer(), search=search)
        if 200 <= reply.status < 300 or (accept is not None and accept(reply.status)):
            return reply
        error = classify(
            operation=operation,
            credential=self.credential.kind,
            status=reply.status,
            body=reply.body,
            headers=reply.headers,
        )
        if isinstance(error, RateLimitError):
            self.stats.count_rate_limited()
            limiter = self.limits.search if error.policy == POLICY_SECONDLY else self.limits.general
            if limiter is not None and error.policy != POLICY_DAILY:
                limiter.saturate()
        if isinstance(error, AuthError | ScopeError):
            log.error("hubspot_auth_failed", operation=operation, error=str(error))
        raise error

    def _send_once(self, operation: str, send: Send, bearer: str, *, search: bool) -> Reply:
        self.limits.daily.spend(operation)
        limiter = self.limits.search if search else self.limits.general
        if limiter is not None:
            limiter.acquire()
        self.stats.count_call(operation)
        try:
            reply = send(bearer)
        except TRANSPORT_ERRORS as exc:
            raise classify(operation=operation, credential=self.credential.kind, exc=exc) from None
        if reply.headers:
            self.limits.observe_headers(reply.headers, rejected=reply.status == 429)
        return reply
