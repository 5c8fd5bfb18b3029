"""The sandbox application: auth, limits, faults, latency, stats and the request log around
the HubSpot routes."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from leadscore.sandbox import (
    admin_api,
    crm_associations_api,
    crm_objects_api,
    crm_owners_api,
    crm_properties_api,
    hubspot_errors,
    marketing_api,
)
from leadscore.sandbox.faults import FaultInjector, FaultSpec
from leadscore.sandbox.http_server import Request, Response
from leadscore.sandbox.portal_state import SandboxPortal
from leadscore.sandbox.rate_limits import LimitPolicy, RateLimiter
from leadscore.sandbox.routing import Call, Route, Router, required_scope

REQUEST_LOG_SIZE = 20_000
_BODY_KEEP = 4_000


@dataclass
class LoggedRequest:
    seq: int
    at_ms: int
    method: str
    path: str
    query: dict[str, list[str]]
    endpoint: str
    status: int
    duration_ms: float
    body: bytes
    notes: list[dict[str, Any]] = field(default_factory=list)
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at_ms,
            "method": self.method,
            "path": self.path,
            "query": "&".join(f"{k}={v}" for k, vs in self.query.items() for v in vs),
            "endpoint": self.endpoint,
            "status": self.status,
            "durationMs": round(self.duration_ms, 3),
            "body": summarise_body(self.body),
            "notes": self.notes,
            "fault": self.fault,
        }


def summarise_body(body: bytes) -> Any:
    """A short view of a request body: ids, property names and input counts, never values."""
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return {"bytes": len(body)}
    if not isinstance(data, dict):
        return {"type": type(data).__name__}
    summary: dict[str, Any] = {}
    inputs = data.get("inputs")
    if isinstance(inputs, list):
        summary["inputs"] = len(inputs)
        ids = [str(i.get("id")) for i in inputs if isinstance(i, dict) and "id" in i]
        if ids:
            summary["ids"] = ids
        names: dict[str, None] = {}
        for i in inputs:
            if isinstance(i, dict) and isinstance(i.get("properties"), dict):
                names.update(dict.fromkeys(i["properties"]))
        if names:
            summary["propertyNames"] = list(names)
    if isinstance(data.get("properties"), dict):
        summary["propertyNames"] = list(data["properties"])
        # Stage writes are what tests most often need to see, so keep their values.
        if "lifecyclestage" in data["properties"]:
            summary["lifecyclestage"] = data["properties"]["lifecyclestage"]
    elif isinstance(data.get("properties"), list):
        summary["properties"] = data["properties"]
    if "filterGroups" in data:
        summary["filterGroups"] = data["filterGroups"]
        summary["sorts"] = data.get("sorts")
        summary["after"] = data.get("after")
        summary["limit"] = data.get("limit")
    if isinstance(inputs, list):
        stages = [
            i["properties"]["lifecyclestage"]
            for i in inputs
            if isinstance(i, dict)
            and isinstance(i.get("properties"), dict)
            and "lifecyclestage" in i["properties"]
        ]
        if stages:
            summary["lifecyclestages"] = stages
    if "fields" in data and isinstance(data["fields"], list):
        summary["fields"] = [f.get("name") for f in data["fields"] if isinstance(f, dict)]
    return summary or {"keys": sorted(data)}


class SandboxApp:
    """Turns requests into responses; runs on the server's event loop only."""

    def __init__(
        self,
        portal: SandboxPortal,
        token: str,
        policy: LimitPolicy,
        faults: FaultSpec,
        seed: int,
        latency_ms: int,
    ) -> None:
        self.portal = portal
        self.token = token
        self.limiter = RateLimiter(policy)
        self.faults = FaultInjector(faults, seed)
        self.portal.search_lag_ms = faults.search_lag_ms
        self.latency_ms = latency_ms
        self.granted_scopes: set[str] | None = None  # None: the token has every scope
        self.base_url = ""
        self.router = Router()
        # Order matters where patterns overlap: objects before their /{id} catch-alls.
        for module in (crm_objects_api, crm_properties_api, crm_owners_api, crm_associations_api):
            module.register(self.router)
        marketing_api.register(self.router)
        self.admin = admin_api.AdminApi(self)
        self.reset_stats()

    def reset_stats(self) -> None:
        self.log: deque[LoggedRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self._seq = 0
        self.by_endpoint: dict[str, dict[str, int]] = {}
        self.rate_limited = 0
        self.rate_limited_by_policy: dict[str, int] = {}
        self.total = 0

    def configure_faults(self, spec: FaultSpec) -> None:
        self.faults.configure(spec)
        self.portal.search_lag_ms = spec.search_lag_ms

    async def handle(self, request: Request) -> Response | None:
        if request.path.startswith("/_sandbox/"):
            return self.admin.handle(request)
        started = time.perf_counter()
        route, params, wrong_method = self.router.match(request.method, request.path)
        endpoint = route.endpoint if route else f"{request.method} (unknown path)"
        notes: list[dict[str, Any]] = []
        fault: str | None = None
        response: Response | None
        if route is None:
            status = 405 if wrong_method else 404
            response = hubspot_errors.error(
                status,
                f"No route for {request.method} {request.path}",
                "METHOD_NOT_ALLOWED" if wrong_method else "OBJECT_NOT_FOUND",
            )
        else:
            response, fault = await self._serve(route, request, params, notes)
        status = response.status if response is not None else 0
        self._record(request, endpoint, status, started, notes, fault)
        return response

    async def _serve(
        self,
        route: Route,
        request: Request,
        params: dict[str, str],
        notes: list[dict[str, Any]],
    ) -> tuple[Response | None, str | None]:
        kind, handler = route.kind, route.handler
        if kind != "public" and not self._authorised(request):
            return hubspot_errors.unauthorized(), None
        if kind != "public" and self.granted_scopes is not None:
            scope = required_scope(route.endpoint, params)
            if scope not in self.granted_scopes:
                return hubspot_errors.missing_scopes([scope]), None
        decision = self.faults.decide()
        delay = self.latency_ms + decision.delay_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        if decision.drop:
            return None, "drop"
        now = int(time.time() * 1000)
        if decision.status is not None:
            return self._fault_response(decision.status, kind), str(decision.status)
        headers: dict[str, str] = {}
        if kind != "public":
            verdict = self.limiter.check(self.token, now, search=kind == "search")
            if verdict.refused_by is not None:
                self.rate_limited += 1
                self.rate_limited_by_policy[verdict.refused_by] = (
                    self.rate_limited_by_policy.get(verdict.refused_by, 0) + 1
                )
                body = hubspot_errors.rate_limit_body(verdict.refused_by, self._group(kind))
                return Response(429, body, verdict.headers), None
            headers = verdict.headers
        call = Call(request, params, self.portal, self.base_url, notes)
        response = handler(call)
        if headers:
            response.headers.update(headers)
        return response, None

    def _authorised(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        return scheme.lower() == "bearer" and value.strip() == self.token

    @staticmethod
    def _group(kind: str) -> str:
        return "search" if kind == "search" else "private-app:sandbox"

    def _fault_response(self, status: int, kind: str) -> Response:
        if status == 429:
            self.rate_limited += 1
            self.rate_limited_by_policy["BURST"] = self.rate_limited_by_policy.get("BURST", 0) + 1
            policy = "SECONDLY" if kind == "search" else "TEN_SECONDLY_ROLLING"
            headers = {}
            if kind != "search" and self.limiter.policy.per_ten_seconds is not None:
                headers = {
                    "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                    "X-HubSpot-RateLimit-Max": str(self.limiter.policy.per_ten_seconds),
                    "X-HubSpot-RateLimit-Remaining": "0",
                }
            return Response(429, hubspot_errors.rate_limit_body(policy, self._group(kind)), headers)
        if status in (502, 504):
            # These come from HubSpot's edge, as HTML rather than JSON.
            html = f"<html><body><h1>{status} {'Bad Gateway' if status == 502 else 'Gateway Timeout'}</h1></body></html>"
            return Response(status, html.encode(), {"Content-Type": "text/html"})
        message = "internal error" if status == 500 else "Service Unavailable"
        category = "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE"
        return hubspot_errors.error(status, message, category)

    def _record(
        self,
        request: Request,
        endpoint: str,
        status: int,
        started: float,
        notes: list[dict[str, Any]],
        fault: str | None,
    ) -> None:
        self.total += 1
        self._seq += 1
        per = self.by_endpoint.setdefault(endpoint, {})
        key = str(status) if status else "dropped"
        per[key] = per.get(key, 0) + 1
        self.log.append(
            LoggedRequest(
                seq=self._seq,
                at_ms=int(time.time() * 1000),
                method=request.method,
                path=request.path,
                query=request.query,
                endpoint=endpoint,
                status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                body=request.body[:_BODY_KEEP],
                notes=notes,
                fault=fault,
            )
        )

    def stats(self) -> dict[str, Any]:
        return {
            "totalRequests": self.total,
            "requestsByEndpoint": self.by_endpoint,
            "rateLimited": self.rate_limited,
            "rateLimitedByPolicy": self.rate_limited_by_policy,
            "rejectedStageMoves": len(self.portal.rejected_moves),
            "faultsInjected": dict(self.faults.injected),
            "contacts": self.portal.contacts.count,
            "tasks": len(self.portal.tasks.tasks),
            "submissionsAdded": len(self.portal.submissions),
            "emailEventsAdded": len(self.portal.injected_events),
        }
