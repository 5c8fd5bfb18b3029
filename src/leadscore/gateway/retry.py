"""The one retry policy for HubSpot calls: which failures to retry, how long to wait, how often.

It is built once and injected into the gateway; nothing else retries (the SDK's own
urllib3 retry is switched off). Waits follow HubSpot's guidance: Retry-After when the
response carries it, otherwise a policy-aware linear back-off like HubSpot's own SDK
(10 s x attempt for the 10-second limit, 1 s x attempt for search's per-second limit,
200 ms x attempt for 5xx and network failures), plus jitter, capped.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from leadscore.gateway.errors import (
    POLICY_SECONDLY,
    GatewayError,
    RateLimitError,
    TransientError,
)

T = TypeVar("T")

RetryHook = Callable[[GatewayError, int, float], None]
"""Called before each retry sleep with (error, attempt number that failed, wait seconds)."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Base waits (seconds, multiplied by the attempt number) and bounds."""

    ten_secondly: float = 10.0
    secondly: float = 1.0
    server_error: float = 0.2
    network: float = 0.2
    locked_min: float = 2.0
    jitter: float = 0.2
    max_wait: float = 60.0


class RetryPolicy:
    """Decides and performs retries for one call; `wait_seconds` is pure for tests."""

    def __init__(
        self,
        *,
        max_retries: int = 8,
        backoff: Backoff | None = None,
        rng: Callable[[], float] = random.random,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()
        self._rng = rng
        self._sleep = sleep

    def is_retriable(self, error: BaseException, *, idempotent: bool = True) -> bool:
        """Whether `error` may be retried. 400/401/403/404/409 and the daily limit never are.

        A non-idempotent call (task creation) is retried only when HubSpot certainly did
        not act on it: a 429 (rejected before processing) or a connection that was never
        made. Timeouts, 5xx and dropped connections go back to the caller, which must
        reconcile (look the write up) before trying again.
        """
        if not isinstance(error, GatewayError) or not error.retriable:
            return False
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > self.backoff.max_wait:
            return False
        if idempotent:
            return True
        if isinstance(error, RateLimitError):
            return True
        return isinstance(error, TransientError) and not error.maybe_applied

    def wait_seconds(self, error: GatewayError, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        b = self.backoff
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            # HubSpot said how long: honour it exactly, only spread retries a little later.
            return min(b.max_wait, retry_after + retry_after * b.jitter * self._rng())
        if isinstance(error, RateLimitError):
            base = b.secondly if error.policy == POLICY_SECONDLY else b.ten_secondly
        elif isinstance(error, TransientError) and error.status is None:
            base = b.network
        else:
            base = b.server_error
        wait = base * attempt
        if error.status == 423:
            wait = max(wait, b.locked_min)
        return min(b.max_wait, wait + wait * b.jitter * self._rng())

    def run(
        self,
        fn: Callable[[], T],
        *,
        idempotent: bool = True,
        on_retry: RetryHook | None = None,
    ) -> T:
        """Call `fn` until it succeeds, fails for good, or runs out of attempts."""

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if not isinstance(exc, GatewayError):
                return 0.0
            return self.wait_seconds(exc, state.attempt_number)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            # Runs only when a retry will really happen (not after the last attempt).
            exc = state.outcome.exception() if state.outcome else None
            if on_retry is not None and isinstance(exc, GatewayError):
                seconds = state.next_action.sleep if state.next_action else 0.0
                on_retry(exc, state.attempt_number, float(seconds))

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            retry=tenacity.retry_if_exception(
                lambda exc: self.is_retriable(exc, idempotent=idempotent)
            ),
            wait=wait,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)
