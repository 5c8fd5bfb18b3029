"""CRM object endpoints for contacts and tasks: basic, batch (read/update/create) and search."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from leadscore.sandbox import hubspot_errors as errs
from leadscore.sandbox.crm_search import (
    SearchError,
    SearchRequest,
    compile_groups,
    parse_search,
    query_predicate,
    sort_key,
    top_matches,
)
from leadscore.sandbox.crm_shapes import (
    OBJECT_TYPE_PATTERN,
    batch_request,
    batch_response,
    json_object_body,
    now_iso,
    paging_next,
)
from leadscore.sandbox.http_server import Response
from leadscore.sandbox.portal_state import (
    OBJECT_TYPES,
    TASK_TO_CONTACT,
    SandboxPortal,
)
from leadscore.sandbox.property_catalog import (
    iso_from_ms,
    parse_time_ms,
)
from leadscore.sandbox.routing import Call, Router, crm_pattern

DEFAULT_CONTACT_PROPERTIES = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)
ALWAYS_CONTACT_PROPERTIES = ("createdate", "hs_object_id", "lastmodifieddate")
DEFAULT_TASK_PROPERTIES = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
QUERY_FIELDS = ("firstname", "lastname", "email", "company", "phone", "website")
MAX_PAGE = 100
_KIND = {"contacts": "CONTACT", "tasks": "TASK"}


def _object_type(call: Call) -> str:
    return OBJECT_TYPES[call.params["obj"]]


def _requested(call: Call, object_type: str, names: list[str] | None) -> list[str]:
    """Properties to return: the requested known ones (plus the always-present ones)."""
    registry = call.portal.properties.props[object_type]
    if not names:
        return list(
            DEFAULT_CONTACT_PROPERTIES if object_type == "contacts" else DEFAULT_TASK_PROPERTIES
        )
    always = ALWAYS_CONTACT_PROPERTIES if object_type == "contacts" else DEFAULT_TASK_PROPERTIES
    return list(dict.fromkeys([*(n for n in names if n in registry), *always]))


def _contact_json(
    portal: SandboxPortal,
    idx: int,
    names: list[str],
    getter: Callable[[int, str], str | None] | None = None,
    lastmodified_ms: int | None = None,
) -> dict[str, Any]:
    get = getter or portal.contacts.get
    store = portal.contacts
    created = iso_from_ms(store.createdate[idx])
    updated = iso_from_ms(
        lastmodified_ms if lastmodified_ms is not None else store.lastmodified[idx]
    )
    # The two timestamps are also properties; format them once per record.
    known = {"createdate": created, "lastmodifieddate": updated}
    properties = {}
    for n in names:
        properties[n] = known[n] if n in known and not store.has_overlay(n) else get(idx, n)
    return {
        "id": store.id_of(idx),
        "properties": properties,
        "createdAt": created,
        "updatedAt": updated,
        "archived": False,
    }


def _task_json(portal: SandboxPortal, idx: int, names: list[str]) -> dict[str, Any]:
    task = portal.tasks.tasks[idx]
    return {
        "id": task.id,
        "properties": {n: portal.tasks.value(idx, n) for n in names},
        "createdAt": iso_from_ms(task.created_ms),
        "updatedAt": iso_from_ms(task.updated_ms),
        "archived": task.archived,
    }


def _record_json(call: Call, object_type: str, idx: int, names: list[str]) -> dict[str, Any]:
    if object_type == "contacts":
        return _contact_json(call.portal, idx, names)
    return _task_json(call.portal, idx, names)


def _find(call: Call, object_type: str, raw_id: Any, id_property: str | None) -> int | None:
    portal = call.portal
    if object_type == "tasks":
        return portal.tasks.index_of(raw_id)
    if id_property in (None, "", "hs_object_id"):
        return portal.contacts.index_of(raw_id)
    if id_property == "email":
        return portal.contacts.find_by_email(str(raw_id))
    return None


def _id_property_problem(object_type: str, id_property: Any) -> Response | None:
    """The 400 for an idProperty reads cannot look contacts up by (tasks ignore it)."""
    if object_type == "contacts" and id_property not in (None, "", "hs_object_id", "email"):
        return errs.bad_request(f"Property {id_property} is not a unique identifier property")
    return None


def _associations_for_contact(call: Call, idx: int, to_types: list[str]) -> dict[str, Any] | None:
    if "tasks" not in to_types:
        return None
    cid = call.portal.contacts.id_of(idx)
    task_ids = [call.portal.tasks.tasks[t].id for t in call.portal.tasks.by_contact.get(cid, [])]
    if not task_ids:
        return None
    return {"tasks": {"results": [{"id": t, "type": "contact_to_task"} for t in task_ids]}}


# --- basic -------------------------------------------------------------------------------


def list_objects(call: Call) -> Response:
    object_type = _object_type(call)
    req = call.request
    try:
        limit = int(req.param("limit") or 10)
    except ValueError:
        return errs.bad_request("limit must be an integer")
    if limit < 1 or limit > MAX_PAGE:
        return errs.bad_request(f"limit must be between 1 and {MAX_PAGE}")
    after = req.param("after")
    names = _requested(call, object_type, req.param_list("properties"))
    assoc_types = req.param_list("associations")
    archived = (req.param("archived") or "false").lower() == "true"
    results: list[dict[str, Any]] = []
    if object_type == "contacts":
        store = call.portal.contacts
        start = 0
        if after:
            if not after.isdigit():
                return errs.bad_request(f"Invalid after cursor {after!r}")
            start = max(0, int(after) - 1001)
        idx = start
        next_after = None
        if not archived:
            while idx < store.count and len(results) < limit:
                if store.index_of(store.id_of(idx)) is not None:
                    record = _contact_json(call.portal, idx, names)
                    assoc = _associations_for_contact(call, idx, assoc_types)
                    if assoc:
                        record["associations"] = assoc
                    results.append(record)
                idx += 1
            if idx < store.count:
                next_after = store.id_of(idx)
    else:
        tasks = list(call.portal.tasks.candidate_indices())
        start = int(after) - 90_000_000_001 if after and after.isdigit() else 0
        page = [i for i in tasks if i >= start][: limit + 1]
        results = [_task_json(call.portal, i, names) for i in page[:limit]]
        next_after = call.portal.tasks.tasks[page[limit]].id if len(page) > limit else None
    body: dict[str, Any] = {"results": results}
    if next_after is not None:
        body["paging"] = paging_next(call, next_after)
    return Response(200, body)


def get_object(call: Call) -> Response:
    object_type = _object_type(call)
    req = call.request
    id_property = req.param("idProperty")
    if (problem := _id_property_problem(object_type, id_property)) is not None:
        return problem
    idx = _find(call, object_type, call.params["id"], id_property)
    if idx is None:
        return Response(404, None)  # HubSpot answers a missing record with an empty 404
    names = _requested(call, object_type, req.param_list("properties"))
    record = _record_json(call, object_type, idx, names)
    if object_type == "contacts":
        assoc = _associations_for_contact(call, idx, req.param_list("associations"))
        if assoc:
            record["associations"] = assoc
    return Response(200, record)


def _property_errors_response(results: list[dict[str, Any]]) -> Response:
    return errs.bad_request(errs.invalid_properties_message(results))


def _note_rejections(call: Call, moves: list[Any]) -> None:
    for m in moves:
        call.notes.append(
            {"rejectedStageMove": {"id": m.contact_id, "from": m.current, "to": m.requested}}
        )


def update_object(call: Call) -> Response:
    object_type = _object_type(call)
    body = json_object_body(call)
    if isinstance(body, Response):
        return body
    props = body.get("properties")
    if not isinstance(props, dict):
        return errs.bad_request("Invalid input JSON: properties must be an object")
    id_property = call.request.param("idProperty")
    idx = _find(call, object_type, call.params["id"], id_property)
    if idx is None:
        return Response(404, None)
    if object_type == "contacts":
        outcome = call.portal.write_contact(idx, props)
        if outcome.errors:
            return _property_errors_response(outcome.errors)
        _note_rejections(call, outcome.rejected_moves)
        return Response(
            200, _contact_json(call.portal, idx, _requested(call, "contacts", list(props)))
        )
    results = call.portal.validate("tasks", props)
    if results:
        return _property_errors_response(results)
    call.portal.update_task(idx, props)
    return Response(200, _task_json(call.portal, idx, _requested(call, "tasks", list(props))))


def archive_object(call: Call) -> Response:
    object_type = _object_type(call)
    idx = _find(call, object_type, call.params["id"], None)
    if idx is not None:
        if object_type == "contacts":
            call.portal.contacts.archive(idx)
        else:
            call.portal.tasks.tasks[idx].archived = True
    return Response(204, None)


def _task_associations(call: Call, associations: Any) -> tuple[list[str], str | None]:
    """Contact ids from a create input's associations, or an error message."""
    contact_ids: list[str] = []
    for a in associations or []:
        to_id = str(((a or {}).get("to") or {}).get("id", ""))
        types = (a or {}).get("types") or []
        if not types:
            return [], "association types are required"
        for t in types:
            category = t.get("associationCategory")
            type_id = t.get("associationTypeId")
            if category != "HUBSPOT_DEFINED" or int(type_id or 0) != TASK_TO_CONTACT:
                return [], (
                    f"association type {category}/{type_id} is not valid from tasks to contacts "
                    f"(use HUBSPOT_DEFINED/{TASK_TO_CONTACT})"
                )
        if call.portal.contacts.index_of(to_id) is None:
            return [], f"Could not find contact with id {to_id} to associate"
        contact_ids.append(to_id)
    return contact_ids, None


def _create_problem(call: Call, object_type: str, item: dict[str, Any]) -> Response | None:
    """Why one create input would be refused (no side effects), or None."""
    props = item.get("properties")
    if not isinstance(props, dict):
        return errs.bad_request("Invalid input JSON: properties must be an object")
    portal = call.portal
    if object_type == "contacts":
        email = props.get("email")
        if email:
            existing = portal.contacts.find_by_email(str(email))
            if existing is not None:
                cid = portal.contacts.id_of(existing)
                return errs.error(
                    409,
                    f"Contact already exists. Existing ID: {cid}",
                    "CONFLICT",
                    context={"id": [cid]},
                )
        results = portal.validate("contacts", props)
        return _property_errors_response(results) if results else None
    results = portal.validate("tasks", props)
    if not props.get("hs_timestamp"):
        results.append(
            {
                "isValid": False,
                "message": "hs_timestamp is required",
                "error": "REQUIRED_PROPERTY",
                "name": "hs_timestamp",
                "localizedErrorMessage": "hs_timestamp is required",
            }
        )
    if results:
        return _property_errors_response(results)
    _contact_ids, problem = _task_associations(call, item.get("associations"))
    if problem:
        return errs.bad_request(problem, sub_category="crm.associations.INVALID_ASSOCIATION")
    return None


def _create_one(
    call: Call, object_type: str, item: dict[str, Any]
) -> tuple[int | None, Response | None]:
    """Create one record: (index, None), or (None, the error response) when refused."""
    problem = _create_problem(call, object_type, item)
    if problem is not None:
        return None, problem
    props = item["properties"]
    portal = call.portal
    if object_type == "contacts":
        idx, outcome = portal.create_contact(props)
        assert idx is not None, outcome.errors
        return idx, None
    contact_ids, _problem = _task_associations(call, item.get("associations"))
    task = portal.create_task(props, contact_ids)
    return int(task.id) - 90_000_000_001, None


def _created_names(call: Call, object_type: str, idx: int, item: dict[str, Any]) -> list[str]:
    """A create answers with the properties sent plus those the portal filled in by default."""
    sent = list(item.get("properties") or {})
    if object_type == "tasks":
        return _requested(call, object_type, [*sent, *call.portal.tasks.tasks[idx].properties])
    return _requested(call, object_type, [*sent, "lifecyclestage"])


def create_object(call: Call) -> Response:
    object_type = _object_type(call)
    body = json_object_body(call)
    if isinstance(body, Response):
        return body
    idx, problem = _create_one(call, object_type, body)
    if idx is None:
        assert isinstance(problem, Response)
        return problem
    names = _created_names(call, object_type, idx, body)
    return Response(201, _record_json(call, object_type, idx, names))


# --- batch -------------------------------------------------------------------------------


def _batch_ids(inputs: list[Any]) -> list[str] | Response:
    """The ids of a batch read or update's inputs, or the 400 HubSpot gives for repeats."""
    ids = [str((i or {}).get("id", "")) for i in inputs]
    seen: set[str] = set()
    dup: list[str] = []
    for i in ids:
        if i in seen and i not in dup:
            dup.append(i)
        seen.add(i)
    if dup:
        return errs.bad_request(
            f"Duplicate IDs found in batch input: {dup}. IDs must be unique",
            context={"ids": dup},
        )
    return ids


def _not_found_errors(object_type: str, missing: list[str]) -> list[dict[str, Any]]:
    """The batch error entry for the ids that matched no record (none when all did)."""
    if not missing:
        return []
    return [
        errs.batch_error(
            errs.NOT_FOUND_BATCH.format(kind=_KIND[object_type]),
            "OBJECT_NOT_FOUND",
            {"ids": missing},
        )
    ]


def batch_read(call: Call) -> Response:
    started = now_iso()
    object_type = _object_type(call)
    request = batch_request(call)
    if isinstance(request, Response):
        return request
    body, inputs = request
    id_property = body.get("idProperty")
    if (problem := _id_property_problem(object_type, id_property)) is not None:
        return problem
    ids = _batch_ids(inputs)
    if isinstance(ids, Response):
        return ids
    names = _requested(call, object_type, body.get("properties"))
    results, missing = [], []
    for raw in ids:
        idx = _find(call, object_type, raw, id_property)
        if idx is None:
            missing.append(raw)
            continue
        record = _record_json(call, object_type, idx, names)
        if id_property == "email":
            record["id"] = call.portal.contacts.id_of(idx)
        results.append(record)
    return batch_response(results, _not_found_errors(object_type, missing), started)


def batch_update(call: Call) -> Response:
    started = now_iso()
    object_type = _object_type(call)
    request = batch_request(call)
    if isinstance(request, Response):
        return request
    body, inputs = request
    id_property = body.get("idProperty")
    if id_property not in (None, "", "hs_object_id"):
        # Batch update only takes record ids (email is not a unique-value property here);
        # single PATCH and batch read do accept idProperty=email.
        return errs.bad_request(
            f"Unable to perform update/upsert by non-unique 0-1 property {id_property}"
        )
    ids = _batch_ids(inputs)
    if isinstance(ids, Response):
        return ids
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    missing: list[str] = []
    for raw, item in zip(ids, inputs, strict=True):
        props = (item or {}).get("properties")
        if not isinstance(props, dict):
            return errs.bad_request("Invalid input JSON: every input needs a properties object")
        idx = _find(call, object_type, raw, id_property)
        if idx is None:
            missing.append(raw)
            continue
        if object_type == "contacts":
            outcome = call.portal.write_contact(idx, props)
            if outcome.errors:
                errors.append(
                    errs.batch_error(
                        errs.invalid_properties_message(outcome.errors),
                        "VALIDATION_ERROR",
                        {"id": [raw], "propertyName": [e["name"] for e in outcome.errors]},
                    )
                )
                continue
            _note_rejections(call, outcome.rejected_moves)
            results.append(
                _contact_json(call.portal, idx, _requested(call, "contacts", list(props)))
            )
        else:
            problems = call.portal.validate("tasks", props)
            if problems:
                errors.append(
                    errs.batch_error(
                        errs.invalid_properties_message(problems), "VALIDATION_ERROR", {"id": [raw]}
                    )
                )
                continue
            call.portal.update_task(idx, props)
            results.append(_task_json(call.portal, idx, _requested(call, "tasks", list(props))))
    errors.extend(_not_found_errors(object_type, missing))
    return batch_response(results, errors, started)


def batch_create(call: Call) -> Response:
    started = now_iso()
    object_type = _object_type(call)
    request = batch_request(call)
    if isinstance(request, Response):
        return request
    _body, inputs = request
    if any(not isinstance(item, dict) for item in inputs):
        return errs.bad_request("Invalid input JSON: every input must be an object")
    if not call.portal.batch_create_multi_status:
        # HubSpot's default: one bad input refuses the whole batch with that input's error.
        for item in inputs:
            problem = _create_problem(call, object_type, item)
            if problem is not None:
                return problem
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for n, item in enumerate(inputs):
        idx, problem = _create_one(call, object_type, item)
        if idx is None:
            assert problem is not None and isinstance(problem.body, dict)
            errors.append(
                errs.batch_error(
                    str(problem.body.get("message")),
                    str(problem.body.get("category")),
                    {"inputIndex": [str(n)], **(problem.body.get("context") or {})},
                )
            )
            continue
        names = _created_names(call, object_type, idx, item)
        results.append(_record_json(call, object_type, idx, names))
    if errors and not results:
        # Nothing could be created: HubSpot answers with the first input's error.
        first = errors[0]
        status = 409 if first["category"] == "CONFLICT" else 400
        return errs.error(status, first["message"], first["category"], context=first["context"])
    return batch_response(results, errors, started, ok_status=201)


# --- search ------------------------------------------------------------------------------


def search_objects(call: Call) -> Response:
    object_type = _object_type(call)
    raw = call.request.body
    try:
        body = call.json_body()
    except ValueError:
        return errs.bad_request("Invalid input JSON on line 1, column 1: Cannot build request body")
    try:
        req = parse_search(body, len(raw))
    except SearchError as exc:
        return errs.bad_request(str(exc))
    names = _requested(call, object_type, req.properties)
    try:
        if object_type == "contacts":
            total, page, render = _search_contacts(call, req)
        else:
            total, page, render = _search_tasks(call, req)
    except SearchError as exc:
        return errs.bad_request(str(exc))
    results = [render(i, names) for i in page]
    out: dict[str, Any] = {"total": total, "results": results}
    if req.after + req.limit < total:
        out["paging"] = {"next": {"after": str(req.after + req.limit)}}
    return Response(200, out)


def _search_contacts(
    call: Call, req: SearchRequest
) -> tuple[int, list[int], Callable[[int, list[str]], dict[str, Any]]]:
    portal = call.portal
    view = portal.contact_view
    store = portal.contacts
    now = int(time.time() * 1000)
    stale = portal.stale_contacts(now)

    def stale_getter(i: int, name: str) -> str | None:
        entry = stale.get(i)
        if entry is not None and entry[1] is not None:
            old = entry[1]
            if name in old:
                return old[name]
            if name == "lastmodifieddate":
                return iso_from_ms(entry[2])
        return store.get(i, name)

    live_pred = compile_groups(req.groups, view, store.get, use_columns=True)
    stale_pred = compile_groups(req.groups, view, stale_getter, use_columns=False)
    if req.query:
        q = query_predicate(req.query, store.get, QUERY_FIELDS)
        qs = query_predicate(req.query, stale_getter, QUERY_FIELDS)
        live_pred = _and(live_pred, q)
        stale_pred = _and(stale_pred, qs)
    indexed = _indexed_candidates(req.groups, store)
    candidates: Iterable[int] = indexed if indexed is not None else store.live_indices()
    if stale:
        candidates = (i for i in candidates if i not in stale)
    matches = [i for i in candidates if live_pred(i)] if live_pred else list(candidates)
    for i, (_visible, old, _lm) in stale.items():
        if old is None or store.index_of(store.id_of(i)) is None:
            continue  # created too recently to be searchable
        if stale_pred is None or stale_pred(i):
            matches.append(i)
    key_live = sort_key(req.sort_property, view, store.get, use_columns=True)
    key = key_live
    if stale:
        key_stale = sort_key(req.sort_property, view, stale_getter, use_columns=False)

        def key(i: int) -> Any:
            return key_stale(i) if i in stale else key_live(i)

    ordered = top_matches(matches, key, req.sort_descending, req.after + req.limit)
    page = ordered[req.after : req.after + req.limit]

    def render(i: int, names: list[str]) -> dict[str, Any]:
        entry = stale.get(i)
        if entry is not None and entry[1] is not None:
            return _contact_json(portal, i, names, stale_getter, entry[2])
        return _contact_json(portal, i, names)

    return len(matches), page, render


def _lastmodified_lower_bound(filters: list[dict[str, Any]]) -> tuple[int, bool] | None:
    """(bound, inclusive) when a filter group requires lastmodifieddate >= / > a value."""
    for f in filters:
        if f.get("propertyName") != "lastmodifieddate":
            continue
        op = str(f.get("operator", "EQ")).upper()
        if op not in {"GT", "GTE", "EQ", "BETWEEN"}:
            continue
        ms = parse_time_ms(str(f.get("value", "")))
        if ms is not None:
            return ms, op != "GT"
    return None


def _indexed_candidates(groups: list[list[dict[str, Any]]], store: Any) -> list[int] | None:
    """Contacts that can match at all, from the lastmodifieddate index; None means scan all.

    Only a narrowing: the full predicate still runs on every candidate.
    """
    active = [g for g in groups if g]
    if not active:
        return None
    bounds = [_lastmodified_lower_bound(g) for g in active]
    if any(b is None for b in bounds):
        return None
    found: set[int] = set()
    for bound in bounds:
        assert bound is not None
        found.update(store.modified_since(*bound))
    return sorted(found)


def _and(a: Callable[[int], bool] | None, b: Callable[[int], bool]) -> Callable[[int], bool]:
    if a is None:
        return b
    return lambda i: a(i) and b(i)


def _search_tasks(
    call: Call, req: SearchRequest
) -> tuple[int, list[int], Callable[[int, list[str]], dict[str, Any]]]:
    portal = call.portal
    tasks = portal.tasks
    pred = compile_groups(req.groups, tasks, tasks.value, use_columns=False)
    if req.query:
        pred = _and(
            pred, query_predicate(req.query, tasks.value, ("hs_task_subject", "hs_task_body"))
        )
    matches = [i for i in tasks.candidate_indices() if pred is None or pred(i)]
    key = sort_key(req.sort_property, tasks, tasks.value, use_columns=False)
    ordered = top_matches(matches, key, req.sort_descending, req.after + req.limit)
    page = ordered[req.after : req.after + req.limit]
    return len(matches), page, lambda i, names: _task_json(portal, i, names)


# --- properties --------------------------------------------------------------------------


# --- owners ------------------------------------------------------------------------------


# --- associations v4 ---------------------------------------------------------------------


def register(router: Router) -> None:
    """Add the contacts and tasks routes."""
    obj = crm_pattern("objects", OBJECT_TYPE_PATTERN)
    router.add("GET", obj, "GET /crm/v3/objects/{objectType}", list_objects)
    router.add("POST", obj, "POST /crm/v3/objects/{objectType}", create_object)
    search = crm_pattern("objects", OBJECT_TYPE_PATTERN + "/search")
    router.add("POST", search, "POST /crm/v3/objects/{objectType}/search", search_objects, "search")
    for op, fn in (("read", batch_read), ("update", batch_update), ("create", batch_create)):
        router.add(
            "POST",
            crm_pattern("objects", OBJECT_TYPE_PATTERN + f"/batch/{op}"),
            f"POST /crm/v3/objects/{{objectType}}/batch/{op}",
            fn,
        )
    one = crm_pattern("objects", OBJECT_TYPE_PATTERN + r"/(?P<id>[^/]+)")
    router.add("GET", one, "GET /crm/v3/objects/{objectType}/{id}", get_object)
    router.add("PATCH", one, "PATCH /crm/v3/objects/{objectType}/{id}", update_object)
    router.add("DELETE", one, "DELETE /crm/v3/objects/{objectType}/{id}", archive_object)
