"""Sandbox benchmark: memory for N seeded contacts and requests/s on loopback with limits off.

Run: .venv/bin/python bench/bench_sandbox.py [--contacts 1000000] [--seconds 10] [--threads 4]
The load comes from a separate client process (threads with keep-alive httpx clients), so the
server's event loop has its own interpreter.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import random
import threading
import time
import urllib.parse
from typing import Any

import httpx

from leadscore.sandbox import start_sandbox


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _request(client: Any, kind: str, rng: random.Random, n: int) -> int:
    cid = str(1001 + rng.randrange(n))
    if kind == "get":
        return client.get(
            f"/crm/v3/objects/contacts/{cid}",
            params={"properties": "email,lifecyclestage,hs_email_open"},
        ).status_code
    if kind == "list":
        return client.get(
            "/crm/v3/objects/contacts", params={"limit": 100, "after": cid}
        ).status_code
    if kind == "batch_read":
        ids = {str(1001 + rng.randrange(n)) for _ in range(100)}
        body = {
            "inputs": [{"id": i} for i in ids],
            "properties": ["email", "lifecyclestage", "jobtitle", "numemployees"],
        }
        return client.post("/crm/v3/objects/contacts/batch/read", json=body).status_code
    if kind == "update":
        body = {"properties": {"hs_lead_status": rng.choice(["NEW", "OPEN", "IN_PROGRESS"])}}
        return client.patch(f"/crm/v3/objects/contacts/{cid}", json=body).status_code
    raise ValueError(kind)


class _LeanClient:
    """Keep-alive HTTP/1.1 over http.client: far cheaper per request than httpx, so the client
    process does not hide the server's capacity on a small machine."""

    def __init__(self, base_url: str, token: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self._conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def _send(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> _Status:
        if params:
            path = f"{path}?{urllib.parse.urlencode(params)}"
        payload = json.dumps(body).encode() if body is not None else None
        self._conn.request(method, path, body=payload, headers=self._headers)
        response = self._conn.getresponse()
        response.read()
        return _Status(response.status)

    def get(self, path: str, params: dict[str, Any] | None = None) -> _Status:
        return self._send("GET", path, params=params)

    def post(self, path: str, json: Any) -> _Status:
        return self._send("POST", path, body=json)

    def patch(self, path: str, json: Any) -> _Status:
        return self._send("PATCH", path, body=json)

    def close(self) -> None:
        self._conn.close()


class _Status:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def _client_worker(
    base_url: str, token: str, kind: str, seconds: float, threads: int, n: int, lean: bool, out: Any
) -> None:
    counts = [0] * threads
    errors = [0] * threads
    deadline = time.perf_counter() + seconds

    def run(k: int) -> None:
        rng = random.Random(k)
        client: Any
        if lean:
            client = _LeanClient(base_url, token)
        else:
            client = httpx.Client(
                base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
        try:
            while time.perf_counter() < deadline:
                status = _request(client, kind, rng, n)
                counts[k] += 1
                if status >= 400:
                    errors[k] += 1
        finally:
            client.close()

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((sum(counts), sum(errors), time.perf_counter() - started))


def measure(
    base_url: str,
    token: str,
    kind: str,
    seconds: float,
    threads: int,
    n: int,
    processes: int,
    lean: bool,
) -> tuple[float, int]:
    """Requests/s summed over `processes` client processes with `threads` connections each."""
    queue: Any = mp.Queue()
    procs = [
        mp.Process(
            target=_client_worker, args=(base_url, token, kind, seconds, threads, n, lean, queue)
        )
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    rate, errors = 0.0, 0
    for _ in procs:
        total, errs, elapsed = queue.get()
        rate += total / elapsed
        errors += errs
    for p in procs:
        p.join()
    return rate, errors


def search_latency(base_url: str, token: str, body: dict[str, Any]) -> float:
    """Seconds for one search over the whole portal."""
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as c:
        started = time.perf_counter()
        r = c.post("/crm/v3/objects/contacts/search", json=body)
        r.raise_for_status()
        return time.perf_counter() - started


WATERMARK_SEARCH = {
    # incremental-sync style: modified in the last 7 days, oldest first
    "filterGroups": [
        {
            "filters": [
                {
                    "propertyName": "lastmodifieddate",
                    "operator": "GTE",
                    "value": str(int(time.time() * 1000) - 7 * 86_400_000),
                }
            ]
        }
    ],
    "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
    "properties": ["email", "lifecyclestage"],
    "limit": 200,
}
STAGE_SEARCH = {
    "filterGroups": [
        {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}]}
    ],
    "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}],
    "limit": 200,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=2, help="connections per client process")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    args = parser.parse_args()

    base = rss_mib()
    started = time.perf_counter()
    with start_sandbox(contacts=args.contacts, seed=1) as sandbox:
        generated = time.perf_counter() - started
        info = sandbox.admin.info()
        print(
            f"contacts: {args.contacts:,}  submissions: {info['seededSubmissions']:,}  email events: {info['seededEmailEvents']:,}"
        )
        print(f"generation: {generated:.1f} s")
        print(
            f"RSS after start: {rss_mib():.0f} MiB (interpreter before: {base:.0f} MiB, peak: {peak_rss_mib():.0f} MiB)"
        )
        conns = args.threads * args.processes
        for lean in (True, False):
            label = "http.client" if lean else "httpx"
            for kind in ("get", "update", "list", "batch_read"):
                rate, errors = measure(
                    sandbox.base_url,
                    sandbox.token,
                    kind,
                    args.seconds,
                    args.threads,
                    args.contacts,
                    args.processes,
                    lean,
                )
                print(
                    f"{label:>11} {kind:>10}: {rate:8.0f} requests/s  ({conns} keep-alive connections, {errors} errors)"
                )
        searches = (
            ("lastmodifieddate GTE 7d, first: builds the index", WATERMARK_SEARCH),
            ("lastmodifieddate GTE 7d, again", WATERMARK_SEARCH),
            ("lifecyclestage EQ, full scan", STAGE_SEARCH),
        )
        for label, body in searches:
            seconds = search_latency(sandbox.base_url, sandbox.token, body)
            print(f"search over the portal ({label}; sorted, 200 rows): {seconds:.2f} s")
        print(f"RSS after load: {rss_mib():.0f} MiB, peak {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
