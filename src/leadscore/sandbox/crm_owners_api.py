"""CRM owners endpoints: list with paging, email and archived filters; get by id or userId."""

from __future__ import annotations

from typing import Any

from leadscore.sandbox import hubspot_errors as errs
from leadscore.sandbox.crm_shapes import paging_next
from leadscore.sandbox.http_server import Response
from leadscore.sandbox.property_catalog import iso_from_ms
from leadscore.sandbox.routing import Call, Router, crm_pattern


def _owner_json(owner: Any) -> dict[str, Any]:
    return {
        "id": owner.id,
        "email": owner.email,
        "type": "PERSON",
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": owner.user_id,
        "userIdIncludingInactive": owner.user_id,
        "createdAt": iso_from_ms(owner.created_ms),
        "updatedAt": iso_from_ms(owner.created_ms),
        "archived": owner.archived,
        "teams": owner.teams,
    }


def list_owners(call: Call) -> Response:
    req = call.request
    try:
        limit = int(req.param("limit") or 100)
    except ValueError:
        return errs.bad_request("limit must be an integer")
    if limit < 1 or limit > 500:
        return errs.bad_request("limit must be between 1 and 500")
    archived = (req.param("archived") or "false").lower() == "true"
    email = (req.param("email") or "").lower()
    owners = [
        o
        for o in call.portal.owners
        if o.archived == archived and (not email or o.email.lower() == email)
    ]
    start = 0
    after = req.param("after")
    if after:
        ids = [o.id for o in owners]
        start = ids.index(after) if after in ids else len(owners)
    page = owners[start : start + limit]
    body: dict[str, Any] = {"results": [_owner_json(o) for o in page]}
    if start + limit < len(owners):
        body["paging"] = paging_next(call, owners[start + limit].id)
    return Response(200, body)


def get_owner(call: Call) -> Response:
    req = call.request
    id_property = req.param("idProperty") or "id"
    archived = (req.param("archived") or "false").lower() == "true"
    wanted = call.params["id"]
    for o in call.portal.owners:
        key = str(o.user_id) if id_property == "userId" else o.id
        if key == wanted and o.archived == archived:
            return Response(200, _owner_json(o))
    return errs.not_found(f"Owner {wanted} not found")


def register(router: Router) -> None:
    """Add the owners routes."""
    router.add("GET", crm_pattern("owners", ""), "GET /crm/v3/owners", list_owners)
    router.add(
        "GET", crm_pattern("owners", r"(?P<id>[^/]+)"), "GET /crm/v3/owners/{ownerId}", get_owner
    )
