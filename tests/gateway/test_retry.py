"""The retry policy: which failures are retried, and the computed waits (asserted, never slept)."""

from __future__ import annotations

import pytest

from leadscore.gateway.errors import (
    POLICY_DAILY,
    POLICY_SECONDLY,
    POLICY_TEN_SECONDLY,
    AuthError,
    GatewayError,
    NotFoundError,
    RateLimitError,
    ScopeError,
    TransientError,
    ValidationError,
)
from leadscore.gateway.retry import Backoff, RetryPolicy


def rate_limited(policy: str, retry_after: float | None = None) -> RateLimitError:
    return RateLimitError("429", policy=policy, retry_after=retry_after)


def server_error(status: int = 500) -> TransientError:
    return TransientError("5xx", status=status)


def network(maybe_applied: bool = True) -> TransientError:
    return TransientError("net", maybe_applied=maybe_applied)


def policy(jitter_draw: float = 0.0, **backoff: float) -> RetryPolicy:
    return RetryPolicy(max_retries=5, backoff=Backoff(**backoff), rng=lambda: jitter_draw)


@pytest.mark.parametrize(
    ("error", "attempt", "expected"),
    [
        (rate_limited(POLICY_TEN_SECONDLY), 1, 10.0),
        (rate_limited(POLICY_TEN_SECONDLY), 3, 30.0),
        (rate_limited(POLICY_SECONDLY), 1, 1.0),
        (rate_limited(POLICY_SECONDLY), 4, 4.0),
        (server_error(500), 1, 0.2),
        (server_error(503), 3, 0.6),
        (network(), 2, 0.4),
        (server_error(423), 1, 2.0),  # locked: at least 2 s
    ],
)
def test_policy_aware_linear_backoff(error: GatewayError, attempt: int, expected: float) -> None:
    assert policy().wait_seconds(error, attempt) == pytest.approx(expected)


def test_retry_after_wins_over_backoff() -> None:
    assert policy().wait_seconds(rate_limited(POLICY_TEN_SECONDLY, 2.5), 3) == pytest.approx(2.5)
    assert policy().wait_seconds(TransientError("503", status=503, retry_after=4), 1) == 4


def test_jitter_only_lengthens_and_is_bounded() -> None:
    # rng() = 0.5 with 20% jitter: +10%
    assert policy(0.5).wait_seconds(rate_limited(POLICY_TEN_SECONDLY), 2) == pytest.approx(22.0)
    assert policy(0.5).wait_seconds(server_error(), 1) == pytest.approx(0.22)
    assert policy(0.999).wait_seconds(rate_limited(POLICY_TEN_SECONDLY), 50) == 60.0


@pytest.mark.parametrize(
    "error",
    [
        ValidationError("400", status=400),
        AuthError("401", status=401),
        ScopeError("403", status=403),
        NotFoundError("404", status=404),
        rate_limited(POLICY_DAILY),
        rate_limited(POLICY_TEN_SECONDLY, retry_after=3600),  # longer than the cap
        ValueError("not a gateway error"),
    ],
)
def test_never_retried(error: BaseException) -> None:
    assert not policy().is_retriable(error, idempotent=True)


def test_non_idempotent_calls_retry_only_what_certainly_did_nothing() -> None:
    p = policy()
    assert p.is_retriable(rate_limited(POLICY_TEN_SECONDLY), idempotent=False)
    assert p.is_retriable(network(maybe_applied=False), idempotent=False)
    assert not p.is_retriable(network(maybe_applied=True), idempotent=False)
    assert not p.is_retriable(server_error(500), idempotent=False)
    assert p.is_retriable(server_error(500), idempotent=True)


def test_run_retries_with_the_computed_waits_and_reports_each_retry() -> None:
    slept: list[float] = []
    hooks: list[tuple[str, int, float]] = []
    failures: list[GatewayError] = [rate_limited(POLICY_TEN_SECONDLY), server_error(502)]

    def call() -> str:
        if failures:
            raise failures.pop(0)
        return "ok"

    p = RetryPolicy(max_retries=3, rng=lambda: 0.0, sleep=slept.append)
    result = p.run(call, on_retry=lambda e, n, w: hooks.append((type(e).__name__, n, w)))
    assert result == "ok"
    assert slept == [pytest.approx(10.0), pytest.approx(0.4)]
    assert hooks == [
        ("RateLimitError", 1, pytest.approx(10.0)),
        ("TransientError", 2, pytest.approx(0.4)),
    ]


def test_run_gives_up_after_max_retries_with_the_last_error() -> None:
    slept: list[float] = []
    calls = 0
    hooks: list[int] = []

    def call() -> None:
        nonlocal calls
        calls += 1
        raise server_error(500)

    p = RetryPolicy(max_retries=2, rng=lambda: 0.0, sleep=slept.append)
    with pytest.raises(TransientError):
        p.run(call, on_retry=lambda e, n, w: hooks.append(n))
    assert calls == 3
    assert slept == [pytest.approx(0.2), pytest.approx(0.4)]
    assert hooks == [1, 2]  # no hook after the final failure


def test_run_does_not_retry_ambiguous_failures_of_non_idempotent_calls() -> None:
    calls = 0

    def call() -> None:
        nonlocal calls
        calls += 1
        raise network(maybe_applied=True)

    with pytest.raises(TransientError):
        RetryPolicy(max_retries=5, sleep=lambda s: None).run(call, idempotent=False)
    assert calls == 1
