"""Sandbox-only endpoints under /_sandbox/: stats, request log, reset, data injection, faults."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from leadscore.sandbox.faults import FaultSpec
from leadscore.sandbox.http_server import Request, Response
from leadscore.sandbox.rate_limits import LimitPolicy
from leadscore.sandbox.seeded_portal import EVENT_TYPES, PORTAL_ID

if TYPE_CHECKING:
    from leadscore.sandbox.sandbox_app import SandboxApp


def _error(status: int, message: str) -> Response:
    return Response(status, {"status": "error", "message": message})


class AdminApi:
    """Dispatches /_sandbox/ requests (no auth, no limits, no faults)."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self._routes: list[
            tuple[str, re.Pattern[str], Callable[[Request, dict[str, str]], Response]]
        ] = [
            ("GET", re.compile(r"^/_sandbox/info$"), self.info),
            ("GET", re.compile(r"^/_sandbox/stats$"), self.stats),
            ("GET", re.compile(r"^/_sandbox/requests$"), self.requests),
            ("POST", re.compile(r"^/_sandbox/reset$"), self.reset),
            ("POST", re.compile(r"^/_sandbox/email-events$"), self.add_email_events),
            ("POST", re.compile(r"^/_sandbox/owners$"), self.add_owners),
            ("GET", re.compile(r"^/_sandbox/faults$"), self.get_faults),
            ("PUT", re.compile(r"^/_sandbox/faults$"), self.set_faults),
            ("PUT", re.compile(r"^/_sandbox/latency$"), self.set_latency),
            ("GET", re.compile(r"^/_sandbox/limits$"), self.get_limits),
            ("PUT", re.compile(r"^/_sandbox/scopes$"), self.set_scopes),
            ("PUT", re.compile(r"^/_sandbox/behaviour$"), self.set_behaviour),
            ("PUT", re.compile(r"^/_sandbox/limits$"), self.set_limits),
            ("GET", re.compile(r"^/_sandbox/contacts/(?P<id>[^/]+)$"), self.contact),
            ("GET", re.compile(r"^/_sandbox/rejected-stage-moves$"), self.rejected_moves),
        ]

    def handle(self, request: Request) -> Response:
        for method, pattern, fn in self._routes:
            m = pattern.match(request.path)
            if m and method == request.method:
                try:
                    return fn(request, m.groupdict())
                except (ValueError, TypeError, KeyError) as exc:
                    return _error(400, f"bad admin request: {exc}")
        return _error(404, f"no sandbox admin endpoint {request.method} {request.path}")

    @staticmethod
    def _body(request: Request) -> Any:
        return request.json() if request.body else {}

    def info(self, request: Request, params: dict[str, str]) -> Response:
        portal = self.app.portal
        return Response(
            200,
            {
                "portalId": PORTAL_ID,
                "seed": portal.seeded.seed,
                "contacts": portal.contacts.count,
                "seededContacts": portal.seeded.contacts.n,
                "seededSubmissions": len(portal.seeded.submissions.at),
                "seededEmailEvents": len(portal.seeded.email_events.at),
                "forms": [
                    {"id": f.id, "name": f.name, "tier": f.tier} for f in portal.seeded.forms
                ],
                "owners": len(portal.owners),
                "tier": self.app.limiter.policy.tier,
                "generatedAt": portal.seeded.now_ms,
            },
        )

    def stats(self, request: Request, params: dict[str, str]) -> Response:
        return Response(200, self.app.stats())

    def requests(self, request: Request, params: dict[str, str]) -> Response:
        since = int(request.param("since") or 0)
        limit = int(request.param("limit") or 1000)
        endpoint = request.param("endpoint")
        path_prefix = request.param("pathPrefix")
        method = request.param("method")
        rows = []
        for entry in self.app.log:
            if entry.seq <= since:
                continue
            if endpoint and entry.endpoint != endpoint:
                continue
            if path_prefix and not entry.path.startswith(path_prefix):
                continue
            if method and entry.method != method.upper():
                continue
            rows.append(entry)
        rows = rows[-limit:] if limit > 0 else rows
        last = self.app.log[-1].seq if self.app.log else since
        return Response(200, {"requests": [r.to_json() for r in rows], "lastSeq": last})

    def reset(self, request: Request, params: dict[str, str]) -> Response:
        body = self._body(request)
        self.app.portal.reset()
        self.app.limiter.reset()
        self.app.faults.reset()
        self.app.reset_stats()
        self.app.granted_scopes = None
        if body.get("faults") is not None:
            self.app.configure_faults(FaultSpec.parse(body["faults"]))
        return Response(200, {"status": "reset"})

    def add_email_events(self, request: Request, params: dict[str, str]) -> Response:
        portal = self.app.portal
        body = self._body(request)
        events = body.get("events")
        if not isinstance(events, list):
            return _error(400, "events must be a list")
        planned = []
        for n, e in enumerate(events):
            type_ = str(e.get("type", "")).upper()
            if type_ not in EVENT_TYPES:
                return _error(
                    400, f"events[{n}].type {type_!r} is not one of {', '.join(EVENT_TYPES)}"
                )
            idx = None
            if e.get("contactId") is not None:
                idx = portal.contacts.index_of(e["contactId"])
            elif e.get("recipient"):
                idx = portal.contacts.find_by_email(str(e["recipient"]))
            if idx is None:
                return _error(400, f"events[{n}]: no contact with that contactId/recipient")
            created = int(e.get("created") or time.time() * 1000)
            extra = {
                k: v
                for k, v in e.items()
                if k not in {"type", "contactId", "recipient", "created", "emailCampaignId"}
            }
            planned.append((idx, type_, created, int(e.get("emailCampaignId") or 0), extra))
        added = [portal.inject_email_event(*p) for p in planned]
        return Response(201, {"added": len(added), "seqs": [a.seq for a in added]})

    def add_owners(self, request: Request, params: dict[str, str]) -> Response:
        body = self._body(request)
        owners = body.get("owners")
        if not isinstance(owners, list):
            return _error(400, "owners must be a list")
        created = []
        for n, o in enumerate(owners):
            if not o.get("email"):
                return _error(400, f"owners[{n}].email is required")
        for o in owners:
            owner = self.app.portal.add_owner(
                str(o["email"]),
                str(o.get("firstName", "")),
                str(o.get("lastName", "")),
                bool(o.get("archived", False)),
            )
            created.append(
                {
                    "id": owner.id,
                    "email": owner.email,
                    "userId": owner.user_id,
                    "archived": owner.archived,
                }
            )
        return Response(201, {"owners": created})

    def get_faults(self, request: Request, params: dict[str, str]) -> Response:
        return Response(
            200, {"faults": self.app.faults.spec.to_json(), "latencyMs": self.app.latency_ms}
        )

    def set_faults(self, request: Request, params: dict[str, str]) -> Response:
        body = self._body(request)
        spec = body.get("spec", body.get("faults"))
        self.app.configure_faults(FaultSpec.parse(spec))
        return Response(200, {"faults": self.app.faults.spec.to_json()})

    def set_latency(self, request: Request, params: dict[str, str]) -> Response:
        ms = int(self._body(request).get("ms", 0))
        if ms < 0:
            return _error(400, "ms must not be negative")
        self.app.latency_ms = ms
        return Response(200, {"latencyMs": ms})

    def get_limits(self, request: Request, params: dict[str, str]) -> Response:
        p = self.app.limiter.policy
        return Response(
            200,
            {
                "tier": p.tier,
                "perTenSeconds": p.per_ten_seconds,
                "daily": p.daily,
                "searchPerSecond": p.search_per_second,
            },
        )

    def set_limits(self, request: Request, params: dict[str, str]) -> Response:
        body = self._body(request)
        policy = (
            LimitPolicy.for_tier(str(body["tier"])) if body.get("tier") else self.app.limiter.policy
        )
        policy = policy.with_overrides(
            per_ten_seconds=body.get("perTenSeconds", "keep"),
            daily=body.get("daily", "keep"),
            search_per_second=body.get("searchPerSecond", "keep"),
        )
        self.app.limiter.policy = policy
        self.app.limiter.reset()
        return self.get_limits(request, params)

    def set_behaviour(self, request: Request, params: dict[str, str]) -> Response:
        body = self._body(request)
        if "batchCreateMultiStatus" in body:
            self.app.portal.batch_create_multi_status = bool(body["batchCreateMultiStatus"])
        return Response(200, {"batchCreateMultiStatus": self.app.portal.batch_create_multi_status})

    def set_scopes(self, request: Request, params: dict[str, str]) -> Response:
        scopes = self._body(request).get("scopes")
        if scopes is not None and not isinstance(scopes, list):
            return _error(400, "scopes must be a list of scope names or null")
        self.app.granted_scopes = None if scopes is None else {str(s) for s in scopes}
        granted = None if scopes is None else sorted(self.app.granted_scopes or ())
        return Response(200, {"scopes": granted})

    def contact(self, request: Request, params: dict[str, str]) -> Response:
        portal = self.app.portal
        idx = portal.contacts.index_of(params["id"])
        if idx is None:
            return _error(404, f"no contact {params['id']}")
        names = list(portal.properties.props["contacts"])
        props = {n: portal.contacts.get(idx, n) for n in names}
        return Response(200, {"id": params["id"], "properties": props})

    def rejected_moves(self, request: Request, params: dict[str, str]) -> Response:
        moves = [
            {"id": m.contact_id, "from": m.current, "to": m.requested, "at": m.at_ms}
            for m in self.app.portal.rejected_moves
        ]
        return Response(200, {"rejectedStageMoves": moves})
