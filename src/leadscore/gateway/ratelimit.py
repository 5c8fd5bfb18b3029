"""Client-side rate limiting: rolling windows per token, a search limiter, the daily budget.

HubSpot counts requests per app and account in a rolling 10-second window (100 or 190
by tier), search separately at 5 per second, and a daily total. The gateway paces itself
to stay just under those limits instead of provoking 429s: one `RateLimits` bundle per
token, shared by every thread and every gateway in the process. Response headers can
only tighten the configured limits (another client may share the token).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from leadscore.gateway.errors import POLICY_DAILY, RateLimitError
from leadscore.settings import Tier


class Clock(Protocol):
    """Time source for limiters (injected so tests run without sleeping)."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True, slots=True)
class TierLimits:
    """What a HubSpot tier allows: requests per rolling window, search per second, per day."""

    per_window: int | None
    window_seconds: float
    search_per_second: int | None
    per_day: int | None


TIER_LIMITS: Mapping[Tier, TierLimits] = {
    Tier.free: TierLimits(100, 10.0, 5, 250_000),
    Tier.starter: TierLimits(100, 10.0, 5, 250_000),
    Tier.professional: TierLimits(190, 10.0, 5, 625_000),
    Tier.enterprise: TierLimits(190, 10.0, 5, 1_000_000),
    Tier.unlimited: TierLimits(None, 10.0, None, None),
}


class WindowLimiter:
    """At most `limit` request starts in any rolling `interval` seconds, across threads.

    A small margin is added to the interval because HubSpot counts arrivals, and a
    request stamped here can reach the server a few milliseconds later than the one
    that frees its slot.
    """

    def __init__(
        self,
        name: str,
        limit: int,
        interval: float,
        *,
        clock: Clock | None = None,
        margin: float | None = None,
    ) -> None:
        if limit < 1 or interval <= 0:
            raise ValueError("a window limiter needs limit >= 1 and interval > 0")
        self.name = name
        self._limit = limit
        self._interval = interval
        self._margin = max(0.05, 0.02 * interval) if margin is None else margin
        self._clock = clock or SystemClock()
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def interval(self) -> float:
        return self._interval

    @property
    def margin(self) -> float:
        return self._margin

    def _span(self) -> float:
        return self._interval + self._margin

    def _expire(self, now: float) -> None:
        horizon = now - self._span()
        while self._starts and self._starts[0] <= horizon:
            self._starts.popleft()

    def delay(self) -> float:
        """Seconds until a request could start now (0 when it could); takes no slot."""
        with self._lock:
            now = self._clock.monotonic()
            return self._delay_locked(now)

    def _delay_locked(self, now: float) -> float:
        self._expire(now)
        if len(self._starts) < self._limit:
            return 0.0
        # The slot frees when the oldest start of the last `limit` ages out.
        return self._starts[len(self._starts) - self._limit] + self._span() - now

    def acquire(self) -> float:
        """Block until a request may start, take the slot, and return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock.monotonic()
                wait = self._delay_locked(now)
                if wait <= 0:
                    self._starts.append(now)
                    self.waited_seconds += waited
                    return waited
            self._clock.sleep(wait)
            waited += wait

    def saturate(self) -> None:
        """HubSpot answered 429 although we thought a slot was free: our clock runs ahead.

        Count the window as full from its oldest start (so the next slot opens when that one
        ages out, not a whole window later) and widen the margin a little, so the skew
        between our send times and HubSpot's arrival times is absorbed from now on.
        """
        with self._lock:
            now = self._clock.monotonic()
            self._expire(now)
            missing = self._limit - len(self._starts)
            if missing > 0:
                oldest = self._starts[0] if self._starts else now
                self._starts.extendleft([oldest] * missing)
            self._margin = min(self._margin + 0.01 * self._interval, 0.1 * self._interval)

    def observe(self, limit: int | None, remaining: int | None, interval: float | None) -> None:
        """Tighten to what HubSpot reports: a lower max, or fewer requests remaining."""
        with self._lock:
            now = self._clock.monotonic()
            if limit is not None and limit >= 1:
                reported_interval = interval if interval and interval > 0 else self._interval
                if limit / reported_interval < self._limit / self._interval:
                    self._limit, self._interval = limit, reported_interval
            if remaining is None:
                return
            self._expire(now)
            mine_left = self._limit - len(self._starts)
            if remaining < mine_left:
                # Someone else spends this token's budget: count their requests as ours.
                self._starts.extend([now] * (mine_left - remaining))


class DailyBudget:
    """The daily request budget: counted locally, corrected by HubSpot's daily headers.

    When it runs out, calls fail fast with a daily RateLimitError instead of being sent;
    after `recheck_seconds` one call is let through to learn whether the day has reset.
    """

    def __init__(
        self,
        per_day: int | None,
        *,
        clock: Clock | None = None,
        reserve: int = 0,
        recheck_seconds: float = 600.0,
    ) -> None:
        self.per_day = per_day
        self._remaining: int | None = per_day
        self._reserve = reserve
        self._recheck = recheck_seconds
        self._clock = clock or SystemClock()
        self._exhausted_at: float | None = None
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int | None:
        """Requests left today as far as we know (None: no limit known)."""
        return self._remaining

    def spend(self, operation: str) -> None:
        """Count one request, or raise a daily RateLimitError when the budget is gone."""
        with self._lock:
            if self._remaining is None:
                return
            if self._remaining <= self._reserve:
                now = self._clock.monotonic()
                if self._exhausted_at is None:
                    self._exhausted_at = now
                elif now - self._exhausted_at >= self._recheck:
                    self._exhausted_at = now
                    return
                raise RateLimitError(
                    f"{operation}: daily API budget used up ({self.per_day or 'reported'} "
                    "requests); it resets at midnight in the portal's time zone",
                    policy=POLICY_DAILY,
                    status=None,
                    operation=operation,
                )
            self._remaining -= 1

    def observe(self, per_day: int | None, remaining: int | None) -> None:
        """Adopt HubSpot's own count of what is left today."""
        with self._lock:
            if per_day is not None and (self.per_day is None or per_day < self.per_day):
                self.per_day = per_day
            if remaining is not None:
                self._remaining = remaining
                if remaining > self._reserve:
                    self._exhausted_at = None


@dataclass(slots=True)
class RateLimits:
    """The limiters of one token: general window, search window (or None) and daily budget."""

    general: WindowLimiter | None
    search: WindowLimiter | None
    daily: DailyBudget

    @classmethod
    def for_tier(cls, tier: Tier, *, clock: Clock | None = None) -> RateLimits:
        limits = TIER_LIMITS[tier]
        general = (
            WindowLimiter("general", limits.per_window, limits.window_seconds, clock=clock)
            if limits.per_window
            else None
        )
        search = (
            WindowLimiter("search", limits.search_per_second, 1.0, clock=clock)
            if limits.search_per_second
            else None
        )
        return cls(general, search, DailyBudget(limits.per_day, clock=clock))

    def observe_headers(self, headers: Mapping[str, str], *, rejected: bool = False) -> None:
        """Tighten the limiters from X-HubSpot-RateLimit-* response headers.

        On a 429 (`rejected`) the window headers only say "full"; `WindowLimiter.saturate`
        handles that, so only the daily figures are taken.
        """
        lowered = {k.lower(): v for k, v in headers.items()}

        def number(name: str) -> int | None:
            raw = lowered.get(name)
            if raw is None:
                return None
            try:
                return int(float(raw))
            except ValueError:
                return None

        if self.general is not None and not rejected:
            interval_ms = number("x-hubspot-ratelimit-interval-milliseconds")
            self.general.observe(
                number("x-hubspot-ratelimit-max"),
                number("x-hubspot-ratelimit-remaining"),
                interval_ms / 1000.0 if interval_ms else None,
            )
        self.daily.observe(
            number("x-hubspot-ratelimit-daily"), number("x-hubspot-ratelimit-daily-remaining")
        )


_shared: dict[str, RateLimits] = {}
_shared_lock = threading.Lock()


def shared_limits(identity: str, tier: Tier) -> RateLimits:
    """The process-wide limiters for one credential (`identity` is hashed, never kept)."""
    key = hashlib.sha256(f"{tier.value}\0{identity}".encode()).hexdigest()
    with _shared_lock:
        limits = _shared.get(key)
        if limits is None:
            limits = RateLimits.for_tier(tier)
            _shared[key] = limits
        return limits
