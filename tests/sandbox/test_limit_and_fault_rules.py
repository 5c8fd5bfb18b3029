"""The rate-limit and fault rules on their own, with explicit clocks (no sleeping)."""

from __future__ import annotations

import pytest

from leadscore.sandbox.activity_paging import decode_cursor, encode_cursor
from leadscore.sandbox.faults import FaultInjector, FaultSpec
from leadscore.sandbox.rate_limits import LimitPolicy, RateLimiter

DAY = 86_400_000


def test_ten_second_window_rolls() -> None:
    limiter = RateLimiter(LimitPolicy.for_tier("starter").with_overrides(per_ten_seconds=3))
    t0 = 5 * DAY
    assert [limiter.check("t", t0 + i, search=False).refused_by for i in range(4)] == [
        None,
        None,
        None,
        "TEN_SECONDLY_ROLLING",
    ]
    # the first request leaves the window exactly 10 s after it was made
    assert limiter.check("t", t0 + 9_999, search=False).refused_by == "TEN_SECONDLY_ROLLING"
    assert limiter.check("t", t0 + 10_000, search=False).refused_by is None
    # another token has its own window
    assert limiter.check("other", t0 + 10_000, search=False).refused_by is None


def test_daily_limit_resets_at_utc_midnight_and_counts_search() -> None:
    limiter = RateLimiter(LimitPolicy.for_tier("free").with_overrides(daily=2))
    t0 = 7 * DAY + 1_000
    assert limiter.check("t", t0, search=True).refused_by is None
    ok = limiter.check("t", t0 + 1, search=False)
    assert ok.refused_by is None and ok.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert limiter.check("t", t0 + 2, search=False).refused_by == "DAILY"
    assert limiter.check("t", 8 * DAY, search=False).refused_by is None


def test_search_limit_per_second_and_no_headers() -> None:
    limiter = RateLimiter(LimitPolicy.for_tier("enterprise"))
    t0 = DAY
    verdicts = [limiter.check("t", t0 + i * 10, search=True) for i in range(6)]
    assert [v.refused_by for v in verdicts] == [None] * 5 + ["SECONDLY"]
    assert all(v.headers == {} for v in verdicts)
    assert limiter.check("t", t0 + 1_000, search=True).refused_by is None


def test_tiers() -> None:
    assert LimitPolicy.for_tier("professional").per_ten_seconds == 190
    assert LimitPolicy.for_tier("enterprise").daily == 1_000_000
    assert LimitPolicy.for_tier("unlimited").per_ten_seconds is None
    with pytest.raises(ValueError, match="unknown tier"):
        LimitPolicy.for_tier("gold")


def test_fault_spec_parsing() -> None:
    spec = FaultSpec.parse(
        "500=0.02, 503=0.01,429burst=0.05x4,drop=0.01,latency=20,jitter=5,searchlag=1500"
    )
    assert spec.error_rates == {500: 0.02, 503: 0.01}
    assert (spec.burst_429_rate, spec.burst_429_length) == (0.05, 4)
    assert (spec.drop_rate, spec.latency_ms, spec.jitter_ms, spec.search_lag_ms) == (
        0.01,
        20,
        5,
        1500,
    )
    assert FaultSpec.parse({"502": 0.5, "searchlag": 10}).error_rates == {502: 0.5}
    assert FaultSpec.parse(spec.to_json()) == spec
    for bad in ("500", "600=0.1", "500=x", "drop=1.5"):
        with pytest.raises(ValueError):
            FaultSpec.parse(bad)


def test_fault_sequence_depends_only_on_seed() -> None:
    spec = FaultSpec.parse("500=0.2,429burst=0.05x3,drop=0.1,jitter=30")

    def run(seed: int) -> list[tuple[int | None, bool, int]]:
        injector = FaultInjector(spec, seed)
        return [(d.status, d.drop, d.delay_ms) for d in (injector.decide() for _ in range(300))]

    assert run(1) == run(1)
    assert run(1) != run(2)
    statuses = [s for s, _, _ in run(1)]
    # a burst answers 429 to consecutive requests
    first = statuses.index(429)
    assert statuses[first : first + 3] == [429, 429, 429]


def test_cursor_round_trip() -> None:
    key = (1_790_000_000_123, 0, -42)
    assert decode_cursor(encode_cursor(key)) == key
    assert decode_cursor("###") is None
