"""Start the sandbox in a background thread and talk to its /_sandbox/ admin endpoints."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from leadscore.sandbox.faults import FaultSpec
from leadscore.sandbox.http_server import HttpServer
from leadscore.sandbox.portal_state import SandboxPortal
from leadscore.sandbox.rate_limits import LimitPolicy
from leadscore.sandbox.sandbox_app import SandboxApp
from leadscore.sandbox.seeded_portal import PORTAL_ID, generate_portal

DEFAULT_TOKEN = "pat-sandbox-0000-local-only"
"""Token the sandbox accepts when none is given (it is printed by `leadscore sandbox`)."""


class SandboxAdmin:
    """Client for the sandbox's own endpoints (not HubSpot's)."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=60.0)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"/_sandbox/{path}", **kwargs)
        if response.status_code >= 400:
            raise ValueError(
                f"sandbox admin {method} {path}: {response.status_code} {response.text}"
            )
        return response.json()

    def info(self) -> dict[str, Any]:
        """Portal id, seed, counts, form ids and names, tier."""
        return dict(self._call("GET", "info"))

    def stats(self) -> dict[str, Any]:
        """Requests by endpoint and status, 429s served, rejected stage moves, injected faults."""
        return dict(self._call("GET", "stats"))

    def requests(
        self,
        since: int = 0,
        *,
        endpoint: str | None = None,
        path_prefix: str | None = None,
        method: str | None = None,
        limit: int = 20_000,
    ) -> list[dict[str, Any]]:
        """The request log (oldest first): method, path, query, endpoint, status, body summary,
        notes (e.g. rejected stage moves), injected fault."""
        params: dict[str, Any] = {"since": since, "limit": limit}
        if endpoint:
            params["endpoint"] = endpoint
        if path_prefix:
            params["pathPrefix"] = path_prefix
        if method:
            params["method"] = method
        return list(self._call("GET", "requests", params=params)["requests"])

    def reset(self) -> None:
        """Back to the seeded portal; clears writes, tasks, added activity, stats and the log."""
        self._call("POST", "reset")

    def add_email_events(self, events: list[Mapping[str, Any]]) -> int:
        """Add events: {type, recipient | contactId, created (ms, default now), emailCampaignId}."""
        return int(self._call("POST", "email-events", json={"events": list(events)})["added"])

    def add_owners(self, owners: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add owners: {email, firstName, lastName, archived}; returns their ids."""
        return list(self._call("POST", "owners", json={"owners": list(owners)})["owners"])

    def set_faults(self, spec: str | Mapping[str, Any] | None) -> dict[str, Any]:
        """Replace the fault spec (and restart its seeded sequence); None turns faults off."""
        if isinstance(spec, FaultSpec):
            spec = spec.to_json()
        return dict(self._call("PUT", "faults", json={"spec": spec})["faults"])

    def faults(self) -> dict[str, Any]:
        return dict(self._call("GET", "faults"))

    def set_latency(self, ms: int) -> None:
        self._call("PUT", "latency", json={"ms": ms})

    def set_limits(
        self,
        tier: str | None = None,
        *,
        per_ten_seconds: int | str | None = "keep",
        daily: int | str | None = "keep",
        search_per_second: int | str | None = "keep",
    ) -> dict[str, Any]:
        """Switch tier and/or override single limits (None turns one off); counters restart."""
        body: dict[str, Any] = {}
        if tier:
            body["tier"] = tier
        for key, value in (
            ("perTenSeconds", per_ten_seconds),
            ("daily", daily),
            ("searchPerSecond", search_per_second),
        ):
            if value != "keep":
                body[key] = value
        return dict(self._call("PUT", "limits", json=body))

    def set_batch_create_multi_status(self, enabled: bool) -> None:
        """True (default): a batch create with some bad inputs answers 207 and creates the rest.
        False: HubSpot's default without multi-status handling, the first bad input's error
        for the whole batch and nothing created."""
        self._call("PUT", "behaviour", json={"batchCreateMultiStatus": enabled})

    def set_scopes(self, scopes: list[str] | None) -> None:
        """Grant only these scopes to the token (None: all); others answer 403 MISSING_SCOPES.
        Scopes: crm.objects.contacts.read/write (contacts, tasks, associations),
        crm.schemas.contacts.read/write (properties), crm.objects.owners.read, forms, content."""
        self._call("PUT", "scopes", json={"scopes": scopes})

    def contact(self, contact_id: str) -> dict[str, str | None]:
        """Every property of one contact, read without going through the API or its limits."""
        return dict(self._call("GET", f"contacts/{contact_id}")["properties"])

    def rejected_stage_moves(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "rejected-stage-moves")["rejectedStageMoves"])

    def close(self) -> None:
        self._http.close()


class SandboxHandle:
    """A running sandbox: `.base_url`, `.token`, `.admin`, `.stop()`; a context manager."""

    def __init__(
        self,
        app: SandboxApp,
        server: HttpServer,
        loop: asyncio.AbstractEventLoop,
        thread: threading.Thread,
        host: str,
        port: int,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.base_url = f"http://{host}:{port}"
        self.token = app.token
        self.portal_id = PORTAL_ID
        self._server = server
        self._loop = loop
        self._thread = thread
        self.admin = SandboxAdmin(self.base_url)
        self._stopped = False

    def stop(self) -> None:
        """Close every connection and the listening socket, and end the server thread."""
        if self._stopped:
            return
        self._stopped = True
        self.admin.close()
        future = asyncio.run_coroutine_threadsafe(self._server.close(), self._loop)
        try:
            future.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def wait(self) -> None:
        """Block until the server thread ends (used by the CLI)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_sandbox(
    *,
    contacts: int = 1000,
    seed: int = 1,
    tier: str = "unlimited",
    token: str | None = None,
    latency_ms: int = 0,
    faults: str | Mapping[str, Any] | FaultSpec | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> SandboxHandle:
    """Generate the seeded portal and serve it from a background thread; returns once listening."""
    if contacts < 0:
        raise ValueError("contacts must not be negative")
    if latency_ms < 0:
        raise ValueError("latency_ms must not be negative")
    policy = LimitPolicy.for_tier(tier)
    spec = FaultSpec.parse(faults)
    # Anchor the seeded timeline to the current minute so "the last 180 days" means now.
    now_ms = int(time.time() * 1000) // 60_000 * 60_000
    seeded = generate_portal(contacts, seed, now_ms)
    portal = SandboxPortal(seeded, lambda: int(time.time() * 1000))
    app = SandboxApp(portal, token or DEFAULT_TOKEN, policy, spec, seed, latency_ms)
    server = HttpServer(app.handle)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    bound: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            bound["port"] = loop.run_until_complete(server.start(host, port))
        except BaseException as exc:  # reported to the caller below
            bound["error"] = exc
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="leadscore-sandbox", daemon=True)
    thread.start()
    ready.wait()
    if "error" in bound:
        thread.join()
        raise OSError(f"sandbox could not listen on {host}:{port}: {bound['error']}")
    actual_port = int(bound["port"])
    app.base_url = f"http://{host}:{actual_port}"
    return SandboxHandle(app, server, loop, thread, host, actual_port)
