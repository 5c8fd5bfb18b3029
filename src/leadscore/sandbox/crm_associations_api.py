"""Associations v4 between contacts and tasks: per-record listing and batch read."""

from __future__ import annotations

from typing import Any

from leadscore.sandbox import hubspot_errors as errs
from leadscore.sandbox.crm_shapes import batch_request, batch_response, now_iso, paging_next
from leadscore.sandbox.http_server import Response
from leadscore.sandbox.portal_state import CONTACT_TO_TASK, OBJECT_TYPES, TASK_TO_CONTACT
from leadscore.sandbox.routing import Call, Router

# Associations v4 batch reads take up to 1,000 inputs (object batches take 100).
MAX_ASSOCIATION_BATCH = 1000


def _association_targets(
    call: Call, from_type: str, from_id: str, to_type: str
) -> list[dict[str, Any]] | None:
    portal = call.portal
    if from_type == "contacts" and to_type == "tasks":
        if portal.contacts.index_of(from_id) is None:
            return None
        return [
            {
                "toObjectId": int(portal.tasks.tasks[t].id),
                "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": CONTACT_TO_TASK, "label": None}
                ],
            }
            for t in portal.tasks.by_contact.get(from_id, [])
            if not portal.tasks.tasks[t].archived
        ]
    if from_type == "tasks" and to_type == "contacts":
        idx = portal.tasks.index_of(from_id)
        if idx is None:
            return None
        return [
            {
                "toObjectId": int(cid),
                "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": TASK_TO_CONTACT, "label": None}
                ],
            }
            for cid in portal.tasks.tasks[idx].contacts
        ]
    return []


def list_associations(call: Call) -> Response:
    from_type = OBJECT_TYPES.get(call.params["from"])
    to_type = OBJECT_TYPES.get(call.params["to"])
    if from_type is None or to_type is None:
        return errs.bad_request("Unknown object type")
    targets = _association_targets(call, from_type, call.params["id"], to_type)
    if targets is None:
        return errs.not_found(f"No {from_type} with id {call.params['id']}")
    req = call.request
    try:
        limit = int(req.param("limit") or 500)
        start = int(req.param("after") or 0)
    except ValueError:
        return errs.bad_request("limit and after must be integers")
    page = targets[start : start + limit]
    body: dict[str, Any] = {"results": page}
    if start + limit < len(targets):
        body["paging"] = paging_next(call, str(start + limit))
    return Response(200, body)


def batch_read_associations(call: Call) -> Response:
    started = now_iso()
    from_type = OBJECT_TYPES.get(call.params["from"])
    to_type = OBJECT_TYPES.get(call.params["to"])
    if from_type is None or to_type is None:
        return errs.bad_request("Unknown object type")
    request = batch_request(call, max_inputs=MAX_ASSOCIATION_BATCH)
    if isinstance(request, Response):
        return request
    _body, inputs = request
    results, errors = [], []
    for item in inputs:
        from_id = str((item or {}).get("id", ""))
        targets = _association_targets(call, from_type, from_id, to_type)
        if not targets:
            errors.append(
                errs.batch_error(
                    f"No {to_type} is associated with {from_type.rstrip('s')} {from_id}.",
                    "OBJECT_NOT_FOUND",
                    {"fromObjectId": [from_id]},
                    sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
                )
            )
            continue
        results.append({"from": {"id": from_id}, "to": targets})
    return batch_response(results, errors, started)


def register(router: Router) -> None:
    """Add the associations routes."""
    v4 = r"(?:v4|\d{4}-\d{2})"
    router.add(
        "GET",
        rf"^/crm/{v4}/objects/(?P<from>[\w-]+)/(?P<id>\d+)/associations/(?P<to>[\w-]+)/?$",
        "GET /crm/v4/objects/{fromObjectType}/{id}/associations/{toObjectType}",
        list_associations,
    )
    router.add(
        "POST",
        rf"^/crm/{v4}/associations/(?P<from>[\w-]+)/(?P<to>[\w-]+)/batch/read/?$",
        "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read",
        batch_read_associations,
    )
