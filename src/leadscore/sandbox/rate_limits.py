"""HubSpot's API limits per tier: a 10-second rolling window and a daily quota per token,
and the separate 5-requests-per-second search limit."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

# per 10 s, per day, search per second (HubSpot's published private-app limits)
TIER_LIMITS: dict[str, tuple[int, int, int]] = {
    "free": (100, 250_000, 5),
    "starter": (100, 250_000, 5),
    "professional": (190, 625_000, 5),
    "enterprise": (190, 1_000_000, 5),
}
WINDOW_MS = 10_000


@dataclass(frozen=True)
class LimitPolicy:
    """The limits in force; None turns a limit off."""

    tier: str
    per_ten_seconds: int | None
    daily: int | None
    search_per_second: int | None

    @classmethod
    def for_tier(cls, tier: str) -> LimitPolicy:
        if tier == "unlimited":
            return cls(tier, None, None, None)
        if tier not in TIER_LIMITS:
            raise ValueError(f"unknown tier {tier!r}: use {', '.join([*TIER_LIMITS, 'unlimited'])}")
        window, daily, search = TIER_LIMITS[tier]
        return cls(tier, window, daily, search)

    def with_overrides(
        self,
        per_ten_seconds: int | str | None = "keep",
        daily: int | str | None = "keep",
        search_per_second: int | str | None = "keep",
    ) -> LimitPolicy:
        out = self
        if per_ten_seconds != "keep":
            out = replace(out, per_ten_seconds=per_ten_seconds)  # type: ignore[arg-type]
        if daily != "keep":
            out = replace(out, daily=daily)  # type: ignore[arg-type]
        if search_per_second != "keep":
            out = replace(out, search_per_second=search_per_second)  # type: ignore[arg-type]
        return out


@dataclass
class LimitDecision:
    """Outcome for one request: allowed or the policy that refused it, and the headers to send."""

    refused_by: str | None
    headers: dict[str, str]


class RateLimiter:
    """Counts requests per token; decisions follow the current LimitPolicy."""

    def __init__(self, policy: LimitPolicy) -> None:
        self.policy = policy
        self.reset()

    def reset(self) -> None:
        self._window: dict[str, deque[int]] = {}
        self._search: dict[str, deque[int]] = {}
        self._daily: dict[str, tuple[int, int]] = {}  # token -> (day number, count)

    def check(self, token: str, now_ms: int, *, search: bool) -> LimitDecision:
        """Count the request if allowed; refused requests do not use up quota."""
        p = self.policy
        day = now_ms // 86_400_000
        day_no, day_count = self._daily.get(token, (day, 0))
        if day_no != day:
            day_count = 0
        if p.daily is not None and day_count >= p.daily:
            return LimitDecision("DAILY", {} if search else self._headers(token, now_ms, day_count))
        if search:
            if p.search_per_second is not None:
                q = self._search.setdefault(token, deque())
                while q and q[0] <= now_ms - 1000:
                    q.popleft()
                if len(q) >= p.search_per_second:
                    return LimitDecision("SECONDLY", {})
                q.append(now_ms)
            self._daily[token] = (day, day_count + 1)
            return LimitDecision(None, {})
        if p.per_ten_seconds is not None:
            q = self._window.setdefault(token, deque())
            while q and q[0] <= now_ms - WINDOW_MS:
                q.popleft()
            if len(q) >= p.per_ten_seconds:
                return LimitDecision(
                    "TEN_SECONDLY_ROLLING", self._headers(token, now_ms, day_count)
                )
            q.append(now_ms)
        self._daily[token] = (day, day_count + 1)
        return LimitDecision(None, self._headers(token, now_ms, day_count + 1))

    def _headers(self, token: str, now_ms: int, day_count: int) -> dict[str, str]:
        p = self.policy
        headers: dict[str, str] = {}
        if p.per_ten_seconds is not None:
            used = len(self._window.get(token, ()))
            headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(WINDOW_MS)
            headers["X-HubSpot-RateLimit-Max"] = str(p.per_ten_seconds)
            headers["X-HubSpot-RateLimit-Remaining"] = str(max(0, p.per_ten_seconds - used))
        if p.daily is not None:
            headers["X-HubSpot-RateLimit-Daily"] = str(p.daily)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(0, p.daily - day_count))
        return headers
