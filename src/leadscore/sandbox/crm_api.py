"""CRM endpoints: contacts and tasks (basic, batch, search), properties, owners, associations."""

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
from leadscore.sandbox.http_server import Response
from leadscore.sandbox.portal_state import (
    CONTACT_TO_TASK,
    OBJECT_TYPES,
    TASK_TO_CONTACT,
    SandboxPortal,
)
from leadscore.sandbox.property_catalog import (
    PropertyDef,
    iso_from_ms,
    parse_time_ms,
    valid_new_property_name,
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
MAX_BATCH = 100
MAX_PAGE = 100
_OBJ = r"(?P<obj>contacts|tasks|0-1|0-27)"
_KIND = {"contacts": "CONTACT", "tasks": "TASK"}


def _now_iso() -> str:
    return iso_from_ms(int(time.time() * 1000))


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
    out = list(dict.fromkeys([*(n for n in names if n in registry), *always]))
    return out


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


def _body(call: Call) -> dict[str, Any] | Response:
    try:
        body = call.json_body()
    except ValueError:
        return errs.bad_request("Invalid input JSON on line 1, column 1: Cannot build request body")
    if not isinstance(body, dict):
        return errs.bad_request("Invalid input JSON: expected an object")
    return body


def _paging_next(call: Call, after: str) -> dict[str, Any]:
    link = f"{call.base_url}{call.request.path}?after={after}"
    return {"next": {"after": after, "link": link}}


def _invalid_id_property(id_property: str) -> Response:
    return errs.bad_request(f"Property {id_property} is not a unique identifier property")


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
        tasks = [i for i in call.portal.tasks.candidate_indices()]
        start = int(after) - 90_000_000_001 if after and after.isdigit() else 0
        page = [i for i in tasks if i >= start][: limit + 1]
        results = [_task_json(call.portal, i, names) for i in page[:limit]]
        next_after = call.portal.tasks.tasks[page[limit]].id if len(page) > limit else None
    body: dict[str, Any] = {"results": results}
    if next_after is not None:
        body["paging"] = _paging_next(call, next_after)
    return Response(200, body)


def get_object(call: Call) -> Response:
    object_type = _object_type(call)
    req = call.request
    id_property = req.param("idProperty")
    if object_type == "contacts" and id_property not in (None, "", "hs_object_id", "email"):
        return _invalid_id_property(str(id_property))
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
    body = _body(call)
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
    task = call.portal.tasks.tasks[idx]
    for name, value in props.items():
        task.properties[name] = None if value in (None, "") else str(value)
    task.updated_ms = max(task.updated_ms + 1, int(time.time() * 1000))
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
    body = _body(call)
    if isinstance(body, Response):
        return body
    idx, problem = _create_one(call, object_type, body)
    if idx is None:
        assert isinstance(problem, Response)
        return problem
    names = _created_names(call, object_type, idx, body)
    return Response(201, _record_json(call, object_type, idx, names))


# --- batch -------------------------------------------------------------------------------


def _batch_inputs(body: dict[str, Any]) -> list[Any] | Response:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        return errs.bad_request("Invalid input JSON: inputs must be a list")
    if len(inputs) > MAX_BATCH:
        return errs.bad_request(
            f"Batch input cannot exceed {MAX_BATCH} inputs, got {len(inputs)}",
            context={"maxInputs": [str(MAX_BATCH)]},
        )
    return inputs


def _duplicates(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for i in ids:
        if i in seen and i not in dup:
            dup.append(i)
        seen.add(i)
    return dup


def _batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started: str, ok_status: int = 200
) -> Response:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": _now_iso(),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return Response(207, body)
    return Response(ok_status, body)


def batch_read(call: Call) -> Response:
    started = _now_iso()
    object_type = _object_type(call)
    body = _body(call)
    if isinstance(body, Response):
        return body
    inputs = _batch_inputs(body)
    if isinstance(inputs, Response):
        return inputs
    id_property = body.get("idProperty")
    if object_type == "contacts" and id_property not in (None, "", "hs_object_id", "email"):
        return _invalid_id_property(str(id_property))
    ids = [str((i or {}).get("id", "")) for i in inputs]
    dup = _duplicates(ids)
    if dup:
        return errs.bad_request(
            f"Duplicate IDs found in batch input: {dup}. IDs must be unique",
            context={"ids": dup},
        )
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
    errors = []
    if missing:
        errors.append(
            errs.batch_error(
                errs.NOT_FOUND_BATCH.format(kind=_KIND[object_type]),
                "OBJECT_NOT_FOUND",
                {"ids": missing},
            )
        )
    return _batch_response(results, errors, started)


def batch_update(call: Call) -> Response:
    started = _now_iso()
    object_type = _object_type(call)
    body = _body(call)
    if isinstance(body, Response):
        return body
    inputs = _batch_inputs(body)
    if isinstance(inputs, Response):
        return inputs
    id_property = body.get("idProperty")
    if id_property not in (None, "", "hs_object_id"):
        # Batch update only takes record ids (email is not a unique-value property here);
        # single PATCH and batch read do accept idProperty=email.
        return errs.bad_request(
            f"Unable to perform update/upsert by non-unique 0-1 property {id_property}"
        )
    ids = [str((i or {}).get("id", "")) for i in inputs]
    dup = _duplicates(ids)
    if dup:
        return errs.bad_request(
            f"Duplicate IDs found in batch input: {dup}. IDs must be unique",
            context={"ids": dup},
        )
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
            task = call.portal.tasks.tasks[idx]
            for name, value in props.items():
                task.properties[name] = None if value in (None, "") else str(value)
            task.updated_ms = max(task.updated_ms + 1, int(time.time() * 1000))
            results.append(_task_json(call.portal, idx, _requested(call, "tasks", list(props))))
    if missing:
        errors.append(
            errs.batch_error(
                errs.NOT_FOUND_BATCH.format(kind=_KIND[object_type]),
                "OBJECT_NOT_FOUND",
                {"ids": missing},
            )
        )
    return _batch_response(results, errors, started)


def batch_create(call: Call) -> Response:
    started = _now_iso()
    object_type = _object_type(call)
    body = _body(call)
    if isinstance(body, Response):
        return body
    inputs = _batch_inputs(body)
    if isinstance(inputs, Response):
        return inputs
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
    return _batch_response(results, errors, started, ok_status=201)


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

_PROPERTY_TYPES = {
    "string": {"text", "textarea", "html", "phonenumber", "file", "select", "radio"},
    "number": {"number", "calculation_equation"},
    "enumeration": {"select", "radio", "checkbox", "booleancheckbox"},
    "datetime": {"date"},
    "date": {"date"},
    "bool": {"booleancheckbox"},
}


def _registry(call: Call) -> dict[str, PropertyDef] | None:
    object_type = OBJECT_TYPES.get(call.params["obj"])
    return call.portal.properties.props.get(object_type) if object_type else None


def list_properties(call: Call) -> Response:
    registry = _registry(call)
    assert registry is not None
    return Response(200, {"results": [p.to_json() for p in registry.values()]})


def get_property(call: Call) -> Response:
    registry = _registry(call)
    assert registry is not None
    prop = registry.get(call.params["name"])
    if prop is None:
        return errs.not_found(
            f"Unable to find property {call.params['name']} of type {call.params['obj']}"
        )
    return Response(200, prop.to_json())


def _options_from(raw: Any) -> list[dict[str, Any]] | str:
    options: list[dict[str, Any]] = []
    for k, o in enumerate(raw or []):
        if not isinstance(o, dict) or "value" not in o or "label" not in o:
            return "every option needs a label and a value"
        options.append(
            {
                "label": str(o["label"]),
                "value": str(o["value"]),
                "displayOrder": int(o.get("displayOrder", k)),
                "hidden": bool(o.get("hidden", False)),
                "description": str(o.get("description", "")),
            }
        )
    return options


def _build_property(call: Call, object_type: str, body: dict[str, Any]) -> PropertyDef | Response:
    registry = call.portal.properties.props[object_type]
    name = str(body.get("name") or "")
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
    if missing:
        return errs.bad_request(
            f"Missing required fields: {', '.join(missing)}", context={"fields": missing}
        )
    if not valid_new_property_name(name):
        return errs.bad_request(
            f"Property name {name!r} is invalid: use lowercase letters, digits and underscores"
        )
    if name in registry:
        return errs.error(
            409,
            f"Property named '{name}' already exists.",
            "OBJECT_ALREADY_EXISTS",
            context={"name": [name]},
        )
    ptype, field_type = str(body["type"]), str(body["fieldType"])
    if ptype not in _PROPERTY_TYPES:
        return errs.bad_request(f"Invalid property type {ptype!r}")
    if field_type not in _PROPERTY_TYPES[ptype]:
        return errs.bad_request(f"fieldType {field_type!r} is not valid for type {ptype!r}")
    group = str(body["groupName"])
    if group not in call.portal.properties.groups[object_type]:
        return errs.bad_request(f"Property group {group!r} does not exist")
    options = _options_from(body.get("options"))
    if isinstance(options, str):
        return errs.bad_request(options)
    if ptype == "bool":
        ptype = "enumeration"
        options = options or [
            {
                "label": "Yes",
                "value": "true",
                "displayOrder": 0,
                "hidden": False,
                "description": "",
            },
            {
                "label": "No",
                "value": "false",
                "displayOrder": 1,
                "hidden": False,
                "description": "",
            },
        ]
    if ptype == "enumeration" and not options:
        return errs.bad_request("Enumeration properties need at least one option")
    now = _now_iso()
    return PropertyDef(
        name=name,
        label=str(body["label"]),
        type=ptype,
        field_type=field_type,
        group_name=group,
        options=options,
        description=str(body.get("description") or ""),
        hubspot_defined=False,
        display_order=int(body.get("displayOrder", -1)),
        created_at=now,
        updated_at=now,
        has_unique_value=bool(body.get("hasUniqueValue", False)),
    )


def create_property(call: Call) -> Response:
    object_type = OBJECT_TYPES[call.params["obj"]]
    body = _body(call)
    if isinstance(body, Response):
        return body
    prop = _build_property(call, object_type, body)
    if isinstance(prop, Response):
        return prop
    call.portal.properties.props[object_type][prop.name] = prop
    return Response(201, prop.to_json())


def batch_create_properties(call: Call) -> Response:
    started = _now_iso()
    object_type = OBJECT_TYPES[call.params["obj"]]
    body = _body(call)
    if isinstance(body, Response):
        return body
    inputs = _batch_inputs(body)
    if isinstance(inputs, Response):
        return inputs
    results, errors = [], []
    for item in inputs:
        prop = _build_property(call, object_type, item if isinstance(item, dict) else {})
        if isinstance(prop, Response):
            assert isinstance(prop.body, dict)
            errors.append(
                errs.batch_error(
                    str(prop.body["message"]),
                    str(prop.body["category"]),
                    {"name": [str((item or {}).get("name", ""))]},
                )
            )
            continue
        call.portal.properties.props[object_type][prop.name] = prop
        results.append(prop.to_json())
    return _batch_response(results, errors, started, ok_status=201)


def update_property(call: Call) -> Response:
    registry = _registry(call)
    assert registry is not None
    prop = registry.get(call.params["name"])
    if prop is None:
        return errs.not_found(f"Unable to find property {call.params['name']}")
    body = _body(call)
    if isinstance(body, Response):
        return body
    if (
        prop.hubspot_defined
        and prop.name != "lifecyclestage"
        and set(body) - {"label", "description"}
    ):
        return errs.bad_request(
            f"Property {prop.name} is HubSpot-defined: only its label can change"
        )
    if "options" in body:
        options = _options_from(body["options"])
        if isinstance(options, str):
            return errs.bad_request(options)
        if prop.name == "lifecyclestage":
            missing = set(prop.option_values()) - {o["value"] for o in options}
            if missing & {"subscriber", "lead", "customer"}:
                return errs.bad_request("Default lifecycle stages cannot be removed")
        prop.options = options
    for key, attr in (
        ("label", "label"),
        ("description", "description"),
        ("groupName", "group_name"),
    ):
        if key in body:
            setattr(prop, attr, str(body[key]))
    prop.updated_at = _now_iso()
    return Response(200, prop.to_json())


def list_groups(call: Call) -> Response:
    object_type = OBJECT_TYPES[call.params["obj"]]
    return Response(200, {"results": list(call.portal.properties.groups[object_type].values())})


def get_group(call: Call) -> Response:
    object_type = OBJECT_TYPES[call.params["obj"]]
    group = call.portal.properties.groups[object_type].get(call.params["name"])
    if group is None:
        return errs.not_found(f"Unable to find property group {call.params['name']}")
    return Response(200, group)


def create_group(call: Call) -> Response:
    object_type = OBJECT_TYPES[call.params["obj"]]
    body = _body(call)
    if isinstance(body, Response):
        return body
    name, label = str(body.get("name") or ""), str(body.get("label") or "")
    if not name or not label:
        return errs.bad_request("Missing required fields: name, label")
    groups = call.portal.properties.groups[object_type]
    if name in groups:
        return errs.error(
            409, f"Property group named '{name}' already exists.", "OBJECT_ALREADY_EXISTS"
        )
    group = {
        "name": name,
        "label": label,
        "displayOrder": int(body.get("displayOrder", len(groups))),
        "archived": False,
    }
    groups[name] = group
    return Response(201, group)


# --- owners ------------------------------------------------------------------------------


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
        body["paging"] = _paging_next(call, owners[start + limit].id)
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


# --- associations v4 ---------------------------------------------------------------------


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
        body["paging"] = _paging_next(call, str(start + limit))
    return Response(200, body)


def batch_read_associations(call: Call) -> Response:
    started = _now_iso()
    from_type = OBJECT_TYPES.get(call.params["from"])
    to_type = OBJECT_TYPES.get(call.params["to"])
    if from_type is None or to_type is None:
        return errs.bad_request("Unknown object type")
    body = _body(call)
    if isinstance(body, Response):
        return body
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        return errs.bad_request("Invalid input JSON: inputs must be a list")
    if len(inputs) > 1000:
        return errs.bad_request("Batch input cannot exceed 1000 inputs")
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
    return _batch_response(results, errors, started)


def register(router: Router) -> None:
    """Add the CRM routes."""
    obj = crm_pattern("objects", _OBJ)
    router.add("GET", obj, "GET /crm/v3/objects/{objectType}", list_objects)
    router.add("POST", obj, "POST /crm/v3/objects/{objectType}", create_object)
    search = crm_pattern("objects", _OBJ + "/search")
    router.add("POST", search, "POST /crm/v3/objects/{objectType}/search", search_objects, "search")
    for op, fn in (("read", batch_read), ("update", batch_update), ("create", batch_create)):
        router.add(
            "POST",
            crm_pattern("objects", _OBJ + f"/batch/{op}"),
            f"POST /crm/v3/objects/{{objectType}}/batch/{op}",
            fn,
        )
    one = crm_pattern("objects", _OBJ + r"/(?P<id>[^/]+)")
    router.add("GET", one, "GET /crm/v3/objects/{objectType}/{id}", get_object)
    router.add("PATCH", one, "PATCH /crm/v3/objects/{objectType}/{id}", update_object)
    router.add("DELETE", one, "DELETE /crm/v3/objects/{objectType}/{id}", archive_object)

    props = crm_pattern("properties", _OBJ)
    router.add("GET", props, "GET /crm/v3/properties/{objectType}", list_properties)
    router.add("POST", props, "POST /crm/v3/properties/{objectType}", create_property)
    groups = crm_pattern("properties", _OBJ + "/groups")
    router.add("GET", groups, "GET /crm/v3/properties/{objectType}/groups", list_groups)
    router.add("POST", groups, "POST /crm/v3/properties/{objectType}/groups", create_group)
    router.add(
        "GET",
        crm_pattern("properties", _OBJ + r"/groups/(?P<name>[^/]+)"),
        "GET /crm/v3/properties/{objectType}/groups/{groupName}",
        get_group,
    )
    router.add(
        "POST",
        crm_pattern("properties", _OBJ + "/batch/create"),
        "POST /crm/v3/properties/{objectType}/batch/create",
        batch_create_properties,
    )
    prop = crm_pattern("properties", _OBJ + r"/(?P<name>[^/]+)")
    router.add("GET", prop, "GET /crm/v3/properties/{objectType}/{propertyName}", get_property)
    router.add(
        "PATCH", prop, "PATCH /crm/v3/properties/{objectType}/{propertyName}", update_property
    )

    router.add("GET", crm_pattern("owners", ""), "GET /crm/v3/owners", list_owners)
    router.add(
        "GET", crm_pattern("owners", r"(?P<id>[^/]+)"), "GET /crm/v3/owners/{ownerId}", get_owner
    )

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
