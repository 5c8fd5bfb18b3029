"""Reading the sandbox's state and request log directly, to check what the gateway really did."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from leadscore.sandbox import SandboxHandle

KEY_PROPERTY = "leadscore_task_key"


def all_tasks(sandbox: SandboxHandle) -> list[dict[str, Any]]:
    """Every task in the sandbox with its key and associations, read straight from the API."""
    tasks: list[dict[str, Any]] = []
    after: str | None = None
    with httpx.Client(base_url=sandbox.base_url, timeout=30) as http:
        while True:
            params: dict[str, Any] = {"limit": 100, "properties": f"{KEY_PROPERTY},hs_task_subject"}
            if after:
                params["after"] = after
            response = http.get(
                "/crm/v3/objects/tasks",
                params=params,
                headers={"Authorization": f"Bearer {sandbox.token}"},
            )
            response.raise_for_status()
            data = response.json()
            tasks.extend(data["results"])
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return tasks


def task_key_counts(sandbox: SandboxHandle) -> Counter[str]:
    return Counter(str(t["properties"].get(KEY_PROPERTY)) for t in all_tasks(sandbox))


def applied_ids(sandbox: SandboxHandle, endpoint_suffix: str) -> Counter[str]:
    """How often each id appears in requests to an endpoint that HubSpot accepted (2xx)."""
    counts: Counter[str] = Counter()
    for entry in sandbox.admin.requests(limit=20_000, method="POST"):
        if not entry["path"].endswith(endpoint_suffix) or not 200 <= entry["status"] < 300:
            continue
        counts.update((entry.get("body") or {}).get("ids") or [])
    return counts


def requests_to(sandbox: SandboxHandle, endpoint_suffix: str) -> list[dict[str, Any]]:
    return [e for e in sandbox.admin.requests(limit=20_000) if e["path"].endswith(endpoint_suffix)]
