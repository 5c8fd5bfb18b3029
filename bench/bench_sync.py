"""Sync benchmark: backfill time vs the rate-limit floor, peak memory by portal size, and the
cost of an incremental run with 1% of contacts changed.

Run: .venv/bin/python bench/bench_sync.py [--contacts 20000 100000] [--latency-ms 150]
     [--tier professional] [--no-incremental]

The sandbox runs in its own process (so its memory and CPU are not the sync's), each sync run
in a fresh child process whose peak RSS is reported. The floor is the fewest calls HubSpot's
batch sizes allow for the work done (list and update 100 contacts per call, clears and tasks
100 per call, email events 1,000 per page, form submissions 50 per page, plus the fixed
reads), divided by the tier's rate.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "config" / "scoring.yaml"
TOKEN = "pat-bench-0000-local-only"
RATE_PER_SECOND = {"starter": 10.0, "free": 10.0, "professional": 19.0, "enterprise": 19.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sandbox(contacts: int, tier: str, latency_ms: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadscore",
            "sandbox",
            "--contacts",
            str(contacts),
            "--tier",
            tier,
            "--latency-ms",
            str(latency_ms),
            "--port",
            str(port),
            "--token",
            TOKEN,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/_sandbox/info", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the sandbox exited during start-up")
        time.sleep(0.5)
    raise SystemExit("the sandbox did not start in 10 minutes")


def child_env(base: str, db: str, tier: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADSCORE_", "HUBSPOT_"))}
    env.update(
        HUBSPOT_ACCESS_TOKEN=TOKEN,
        HUBSPOT_BASE_URL=base,
        LEADSCORE_HUBSPOT_TIER=tier,
        LEADSCORE_DATABASE_URL=db,
        LEADSCORE_RULES=str(RULES),
        LEADSCORE_LOG_LEVEL="WARNING",
        # The default 300 s lookback would re-read every contact the backfill wrote minutes
        # earlier; a scheduled sync runs long after the previous one, so keep it short here.
        LEADSCORE_SYNC_LOOKBACK_SECONDS="10",
    )
    return env


def run_child(mode: str, base: str, db: str, tier: str) -> dict[str, Any]:
    """One sync run in a fresh process; returns its summary, peak RSS and activity counts."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode],
        env=child_env(base, db, tier),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"child {mode} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def child(mode: str) -> None:
    """Inside the child: run the sync and print one JSON line."""
    import sqlalchemy as sa

    from leadscore.settings import load_settings
    from leadscore.state import open_store
    from leadscore.sync import run_sync

    settings = load_settings()
    if mode == "touch":
        touch_one_percent(settings)
        return
    sync_mode = "backfill" if mode == "backfill" else "incremental"
    summary = run_sync(settings, mode=sync_mode, progress=False)  # type: ignore[arg-type]
    with open_store(settings.database_url) as store, store.engine.connect() as conn:
        events = conn.execute(sa.text("SELECT count(*) FROM activity WHERE kind='email'")).scalar()
        per_form = dict(
            conn.execute(
                sa.text("SELECT form_id, count(*) FROM activity WHERE kind='form' GROUP BY form_id")
            ).all()
        )
        backward = conn.execute(
            sa.text("SELECT count(*) FROM audit_log WHERE action='stage_backward' AND run_id=:r"),
            {"r": summary.run_id},
        ).scalar()
    print(
        json.dumps(
            {
                "summary": summary.as_dict(),
                "calls_by_operation": summary.calls_by_operation,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "email_events": events,
                "submissions_per_form": per_form,
                "backward": backward,
            }
        )
    )


def touch_one_percent(settings: Any) -> None:
    """Change a scored property on 1% of contacts, as users editing HubSpot would."""
    from leadscore.gateway import build_gateway
    from leadscore.gateway.port import ContactUpdate

    with build_gateway(settings) as gw:
        ids: list[str] = []
        for page in gw.iter_contacts(["hs_object_id"]):
            ids.extend(c.id for c in page)
        chosen = ids[::100]
        updates = [ContactUpdate(cid, {"jobtitle": "VP of Revenue"}) for cid in chosen]
        for start in range(0, len(updates), 100):
            gw.update_contacts(updates[start : start + 100])
        print(json.dumps({"touched": len(chosen), "calls": gw.stats.calls}))


def floor_calls(n: int, result: dict[str, Any], forms: int) -> int:
    """The fewest calls HubSpot's batch sizes allow for what this backfill did."""
    s = result["summary"]
    actions = s["actions_by_kind"]
    tasks = actions.get("create_task", 0)
    per_form = result["submissions_per_form"]
    submissions_pages = sum(max(1, math.ceil(per_form.get(f, 0) / 50)) for f in per_form)
    submissions_pages += max(0, forms - len(per_form))  # forms with no submission: one page
    return (
        math.ceil(n / 100)  # list contacts
        + math.ceil(n / 100)  # one update per 100 contacts: scores and stage sets together
        + math.ceil(result["backward"] / 100)  # clears before backward sets
        + math.ceil(tasks / 100)
        + max(1, math.ceil(result["email_events"] / 1000))
        + submissions_pages
        + 4  # forms, owners, lifecycle stages, properties
    )


def bench(n: int, tier: str, latency_ms: int, incremental: bool) -> dict[str, Any]:
    rate = RATE_PER_SECOND[tier]
    proc, base = start_sandbox(n, tier, latency_ms)
    try:
        forms = len(httpx.get(f"{base}/_sandbox/info", timeout=30).json().get("forms", []))
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite:///{Path(tmp) / 'bench.db'}"
            back = run_child("backfill", base, db, tier)
            s = back["summary"]
            floor = floor_calls(n, back, forms)
            figures: dict[str, Any] = {
                "contacts": n,
                "backfill_seconds": s["duration_seconds"],
                "backfill_calls": s["api_calls"],
                "backfill_429s": s["rate_limited"],
                "floor_calls": floor,
                "floor_seconds": round(floor / rate, 1),
                "time_vs_floor": round(s["duration_seconds"] / (floor / rate), 3),
                "calls_vs_floor": round(s["api_calls"] / floor, 3),
                "achieved_req_per_s": round(s["api_calls"] / s["duration_seconds"], 2),
                "backfill_peak_rss_mib": round(back["peak_rss_mib"], 1),
                "actions": s["actions_by_kind"],
                "calls_by_operation": back["calls_by_operation"],
            }
            print(json.dumps(figures), flush=True)
            if incremental:
                time.sleep(11)  # let the 10-second window drain between phases
                settle = run_child("incremental", base, db, tier)
                figures["settle_incremental"] = {
                    "contacts_scored": settle["summary"]["contacts_scored"],
                    "calls": settle["summary"]["api_calls"],
                    "seconds": settle["summary"]["duration_seconds"],
                    "writes": settle["summary"]["actions_by_kind"],
                }
                touched = subprocess.run(
                    [sys.executable, __file__, "--child", "touch"],
                    env=child_env(base, db, tier),
                    capture_output=True,
                    text=True,
                    check=True,
                )
                figures["touched"] = json.loads(touched.stdout.strip().splitlines()[-1])["touched"]
                time.sleep(11)
                inc = run_child("incremental", base, db, tier)
                si = inc["summary"]
                figures["incremental_1pct"] = {
                    "contacts_scored": si["contacts_scored"],
                    "calls": si["api_calls"],
                    "seconds": si["duration_seconds"],
                    "calls_vs_backfill": round(si["api_calls"] / s["api_calls"], 4),
                    "actions": si["actions_by_kind"],
                    "calls_by_operation": inc["calls_by_operation"],
                    "peak_rss_mib": round(inc["peak_rss_mib"], 1),
                }
            return figures
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--tier", default="professional", choices=sorted(RATE_PER_SECOND))
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--no-incremental", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    results = []
    for n in args.contacts:
        figures = bench(n, args.tier, args.latency_ms, not args.no_incremental)
        results.append(figures)
        print(json.dumps(figures, indent=2), flush=True)
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(
            f"peak RSS: {a['contacts']} contacts {a['backfill_peak_rss_mib']} MiB, "
            f"{b['contacts']} contacts {b['backfill_peak_rss_mib']} MiB "
            f"(x{b['backfill_peak_rss_mib'] / a['backfill_peak_rss_mib']:.2f} for "
            f"x{b['contacts'] / a['contacts']:.0f} contacts)"
        )


if __name__ == "__main__":
    main()
