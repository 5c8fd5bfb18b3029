"""Gateway throughput against the sandbox: requests/s achieved as a share of the allowed rate.

Runs batch-write and batch-read phases (the long phases of a sync) against a sandbox at the
professional tier (190 requests per rolling 10 s) with 150 ms latency per request, then
reads the sandbox's own request log to report the rate HubSpot would have seen, the busiest
10-second window, and any 429s. A short sequential list phase is reported separately: its
rate is bound by latency (one page at a time), not by the limiter.

    .venv/bin/python bench/bench_gateway.py --seconds 60
"""

from __future__ import annotations

import argparse
import time
from bisect import bisect_left

from leadscore.gateway import build_gateway
from leadscore.gateway.port import ContactUpdate, PropertySpec
from leadscore.gateway.ratelimit import TIER_LIMITS, RateLimits
from leadscore.sandbox import start_sandbox
from leadscore.settings import Settings, Tier


def busiest_window(arrivals_ms: list[int], window_ms: int) -> int:
    """Most requests that arrived within any `window_ms` span."""
    best = 0
    for i, start in enumerate(arrivals_ms):
        j = bisect_left(arrivals_ms, start + window_ms, lo=i)
        best = max(best, j - i)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the write+read run")
    parser.add_argument("--tier", default="professional", choices=[t.value for t in Tier])
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--contacts", type=int, default=5000)
    args = parser.parse_args()

    tier = Tier(args.tier)
    limits_of_tier = TIER_LIMITS[tier]
    allowed = (limits_of_tier.per_window or 0) / limits_of_tier.window_seconds
    with start_sandbox(contacts=args.contacts, tier=tier.value, latency_ms=args.latency_ms) as sb:
        settings = Settings(
            hubspot_access_token=sb.token,
            hubspot_base_url=sb.base_url,
            hubspot_tier=tier,
            max_concurrency=args.concurrency,
        )
        with build_gateway(settings, limits=RateLimits.for_tier(tier)) as gw:
            gw.ensure_properties([PropertySpec("leadscore_score", "Lead score")])
            ids = [str(1001 + i) for i in range(args.contacts)]
            before = sb.admin.requests(limit=20_000)
            since = before[-1]["seq"] if before else 0
            started = time.monotonic()
            rounds = 0
            while time.monotonic() - started < args.seconds:
                rounds += 1
                report = gw.update_contacts(
                    [ContactUpdate(cid, {"leadscore_score": str(rounds)}) for cid in ids]
                )
                assert not report.failed, report.failed[:3]
                if time.monotonic() - started >= args.seconds:
                    break
                got = gw.read_contacts(ids, ["email", "leadscore_score"])
                assert len(got) == len(ids)
            elapsed = time.monotonic() - started
            log = sb.admin.requests(since, limit=20_000)
            stats = gw.stats

            list_started = time.monotonic()
            pages = 0
            for _page in gw.iter_contacts(["email"]):
                pages += 1
                if pages >= 30:
                    break
            list_rate = pages / (time.monotonic() - list_started)

    arrivals = sorted(int(e["at"]) for e in log)
    served = len(arrivals)
    rate = served / elapsed
    window = busiest_window(arrivals, 10_000)
    # Steady state: leave out the first window, which starts with a full bucket.
    steady = [a for a in arrivals if a >= arrivals[0] + 10_000]
    steady_rate = (
        len(steady) / ((arrivals[-1] - arrivals[0] - 10_000) / 1000) if len(steady) > 1 else rate
    )
    limited = sum(1 for e in log if e["status"] == 429)
    print(
        f"tier {tier.value}: allowed {allowed:.1f} requests/s ({limits_of_tier.per_window} per 10 s)"
    )
    print(
        f"latency {args.latency_ms} ms, concurrency {args.concurrency}, run {elapsed:.1f} s, {rounds} write/read rounds of {args.contacts} contacts"
    )
    print(
        f"requests served: {served} ({stats.calls} sent), 429s: {limited}, retries: {stats.retries}"
    )
    if allowed:
        print(f"achieved {rate:.2f} requests/s = {rate / allowed:.1%} of the allowed rate")
        print(
            f"steady state (after the first 10 s): {steady_rate:.2f} requests/s = {steady_rate / allowed:.1%}"
        )
        print(
            f"busiest 10 s window in the sandbox log: {window} requests (limit {limits_of_tier.per_window})"
        )
    else:
        print(f"achieved {rate:.2f} requests/s (no limit)")
    print(f"sequential list paging: {list_rate:.2f} pages/s (latency-bound, one request at a time)")


if __name__ == "__main__":
    main()
