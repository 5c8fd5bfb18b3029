"""Rate limiters: rolling windows with an injected clock, header tightening, the daily budget."""

from __future__ import annotations

import threading
import time

import pytest

from leadscore.gateway.errors import POLICY_DAILY, RateLimitError
from leadscore.gateway.ratelimit import DailyBudget, RateLimits, WindowLimiter, shared_limits
from leadscore.settings import Tier


class FakeClock:
    """Monotonic time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_window_allows_the_limit_then_waits_for_the_oldest_to_age_out() -> None:
    clock = FakeClock()
    limiter = WindowLimiter("general", 3, 10.0, clock=clock, margin=0.5)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 4.0
    assert limiter.delay() == pytest.approx(6.5)  # first start + 10 s + 0.5 s margin
    assert limiter.acquire() == pytest.approx(6.5)
    assert clock.now == pytest.approx(1010.5)
    # the first three aged out together: two more fit, then a full span to wait
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == 0.0
    assert limiter.delay() == pytest.approx(10.5)


def test_no_window_ever_holds_more_than_the_limit() -> None:
    clock = FakeClock()
    limiter = WindowLimiter("general", 19, 1.0, clock=clock, margin=0.02)
    starts: list[float] = []
    for _ in range(200):
        limiter.acquire()
        starts.append(clock.now)
        clock.now += 0.001  # each request takes a moment to issue
    for i, t in enumerate(starts):
        in_window = [s for s in starts[i:] if s < t + 1.0]
        assert len(in_window) <= 19
    # and it runs close to the limit: 200 starts at 19/s need about 200/19 s
    elapsed = starts[-1] - starts[0]
    assert 181 / 19 * 1.02 * 0.95 <= elapsed <= 200 / 19 * 1.02 + 0.5


def test_default_margin_keeps_at_least_97_percent_of_the_rate() -> None:
    limiter = WindowLimiter("general", 190, 10.0, clock=FakeClock())
    assert limiter.limit / (limiter.interval + 0.2) >= 0.97 * 19


def test_headers_only_tighten() -> None:
    clock = FakeClock()
    limiter = WindowLimiter("general", 190, 10.0, clock=clock)
    limiter.observe(250, None, 10.0)  # more generous than the tier: ignored
    assert (limiter.limit, limiter.interval) == (190, 10.0)
    limiter.observe(100, None, 10.0)
    assert (limiter.limit, limiter.interval) == (100, 10.0)


def test_remaining_lower_than_ours_counts_someone_elses_requests() -> None:
    clock = FakeClock()
    limiter = WindowLimiter("general", 10, 10.0, clock=clock, margin=0.0)
    limiter.acquire()
    limiter.acquire()
    limiter.observe(10, 3, 10.0)  # HubSpot saw 7 used, we sent 2: 5 are another client's
    for _ in range(3):
        assert limiter.acquire() == 0.0
    assert limiter.delay() > 0


def test_an_unexpected_429_fills_the_window_from_its_oldest_start_and_widens_the_margin() -> None:
    clock = FakeClock()
    limiter = WindowLimiter("general", 10, 10.0, clock=clock, margin=0.2)
    for _ in range(4):
        limiter.acquire()
        clock.now += 1.0
    limiter.saturate()  # HubSpot said 429 with 6 slots free by our count
    assert limiter.margin == pytest.approx(0.3)
    # The next slot opens when the oldest start (t=1000) ages out: 10.3 s after it.
    assert limiter.delay() == pytest.approx(1010.3 - 1004.0)
    for _ in range(20):
        limiter.saturate()
    assert limiter.margin == pytest.approx(1.0)  # bounded at 10% of the window


def test_limiter_is_shared_safely_by_threads() -> None:
    limiter = WindowLimiter("general", 15, 0.3, margin=0.02)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(8):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    assert len(starts) == 64
    for i, t0 in enumerate(starts):
        assert len([s for s in starts[i:] if s < t0 + 0.3]) <= 15


def test_daily_budget_counts_corrects_from_headers_and_fails_fast() -> None:
    clock = FakeClock()
    budget = DailyBudget(5, clock=clock, recheck_seconds=600)
    for _ in range(3):
        budget.spend("op")
    assert budget.remaining == 2
    budget.observe(5, 1)  # HubSpot knows better: another client used some
    budget.spend("op")
    with pytest.raises(RateLimitError) as info:
        budget.spend("update contacts")
    assert info.value.policy == POLICY_DAILY and not info.value.retriable
    assert "update contacts" in str(info.value)
    clock.now += 601  # after a while one call may probe whether the day reset
    budget.spend("op")
    with pytest.raises(RateLimitError):
        budget.spend("op")
    budget.observe(5, 5)
    budget.spend("op")
    assert budget.remaining == 4


def test_tier_limits_and_header_parsing() -> None:
    limits = RateLimits.for_tier(Tier.professional, clock=FakeClock())
    assert limits.general is not None and limits.general.limit == 190
    assert limits.search is not None and limits.search.limit == 5 and limits.search.interval == 1
    assert limits.daily.remaining == 625_000
    limits.observe_headers(
        {
            "X-HubSpot-RateLimit-Max": "100",
            "X-HubSpot-RateLimit-Remaining": "99",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Daily": "250000",
            "X-HubSpot-RateLimit-Daily-Remaining": "1234",
        }
    )
    assert limits.general.limit == 100
    assert limits.daily.remaining == 1234 and limits.daily.per_day == 250_000
    unlimited = RateLimits.for_tier(Tier.unlimited)
    assert (
        unlimited.general is None and unlimited.search is None and unlimited.daily.remaining is None
    )


def test_one_bundle_per_credential() -> None:
    a = shared_limits("token-a", Tier.starter)
    assert shared_limits("token-a", Tier.starter) is a
    assert shared_limits("token-b", Tier.starter) is not a
