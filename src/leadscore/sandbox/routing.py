"""Route table: HubSpot path patterns (v3 and date-versioned) to handlers, with endpoint names."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leadscore.sandbox.http_server import Request, Response

if TYPE_CHECKING:
    from leadscore.sandbox.portal_state import SandboxPortal


@dataclass
class Call:
    """One API call as a handler sees it."""

    request: Request
    params: dict[str, str]
    portal: SandboxPortal
    base_url: str
    notes: list[dict[str, Any]] = field(default_factory=list)

    def json_body(self) -> Any:
        return self.request.json()


HandlerFn = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: str  # e.g. "POST /crm/v3/objects/{objectType}/search"
    handler: HandlerFn
    kind: str  # "api" (auth + limits), "search" (auth + search limit), "public" (no auth)


_DATE = r"\d{4}-\d{2}(?:-\d{2})?"


def crm_pattern(section: str, rest: str) -> str:
    """Match /crm/v3/<section>/<rest> and the date-versioned /crm/<section>/<YYYY-MM>/<rest>."""
    tail = f"/{rest}" if rest else ""
    return rf"^/crm/(?:v3/{section}|{section}/{_DATE}){tail}/?$"


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self, method: str, regex: str, endpoint: str, handler: HandlerFn, kind: str = "api"
    ) -> None:
        self.routes.append(Route(method, re.compile(regex), endpoint, handler, kind))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, path-known-but-wrong-method)."""
        wrong_method = False
        for route in self.routes:
            m = route.pattern.match(path)
            if m is None:
                continue
            if route.method != method:
                wrong_method = True
                continue
            return route, m.groupdict(), False
        return None, {}, wrong_method


def required_scope(endpoint: str, params: dict[str, str]) -> str:
    """The private-app scope HubSpot checks for an endpoint (one per endpoint here)."""
    method, path = endpoint.split(" ", 1)
    write = method in {"POST", "PATCH", "PUT", "DELETE"} and not path.endswith(
        ("/search", "/batch/read")
    )
    if path.startswith("/crm/v3/properties"):
        return f"crm.schemas.contacts.{'write' if write else 'read'}"
    if path.startswith("/crm/v3/owners"):
        return "crm.objects.owners.read"
    if path.startswith(("/marketing/v3/forms", "/form-integrations/")):
        return "forms"
    if path.startswith("/email/public/v1/"):
        return "content"
    # Tasks, like other engagements, are reached through the contacts scopes.
    return f"crm.objects.contacts.{'write' if write else 'read'}"
