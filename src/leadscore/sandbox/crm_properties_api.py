"""CRM properties endpoints: list, get, create (single and batch), update; property groups."""

from __future__ import annotations

from typing import Any

from leadscore.sandbox import hubspot_errors as errs
from leadscore.sandbox.crm_shapes import (
    OBJECT_TYPE_PATTERN,
    batch_request,
    batch_response,
    json_object_body,
    now_iso,
)
from leadscore.sandbox.http_server import Response
from leadscore.sandbox.portal_state import OBJECT_TYPES
from leadscore.sandbox.property_catalog import PropertyDef, valid_new_property_name
from leadscore.sandbox.routing import Call, Router, crm_pattern

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
    now = now_iso()
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
    body = json_object_body(call)
    if isinstance(body, Response):
        return body
    prop = _build_property(call, object_type, body)
    if isinstance(prop, Response):
        return prop
    call.portal.properties.props[object_type][prop.name] = prop
    return Response(201, prop.to_json())


def batch_create_properties(call: Call) -> Response:
    started = now_iso()
    object_type = OBJECT_TYPES[call.params["obj"]]
    request = batch_request(call)
    if isinstance(request, Response):
        return request
    _body, inputs = request
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
    return batch_response(results, errors, started, ok_status=201)


def update_property(call: Call) -> Response:
    registry = _registry(call)
    assert registry is not None
    prop = registry.get(call.params["name"])
    if prop is None:
        return errs.not_found(f"Unable to find property {call.params['name']}")
    body = json_object_body(call)
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
    prop.updated_at = now_iso()
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
    body = json_object_body(call)
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


def register(router: Router) -> None:
    """Add the properties routes."""
    props = crm_pattern("properties", OBJECT_TYPE_PATTERN)
    router.add("GET", props, "GET /crm/v3/properties/{objectType}", list_properties)
    router.add("POST", props, "POST /crm/v3/properties/{objectType}", create_property)
    groups = crm_pattern("properties", OBJECT_TYPE_PATTERN + "/groups")
    router.add("GET", groups, "GET /crm/v3/properties/{objectType}/groups", list_groups)
    router.add("POST", groups, "POST /crm/v3/properties/{objectType}/groups", create_group)
    router.add(
        "GET",
        crm_pattern("properties", OBJECT_TYPE_PATTERN + r"/groups/(?P<name>[^/]+)"),
        "GET /crm/v3/properties/{objectType}/groups/{groupName}",
        get_group,
    )
    router.add(
        "POST",
        crm_pattern("properties", OBJECT_TYPE_PATTERN + "/batch/create"),
        "POST /crm/v3/properties/{objectType}/batch/create",
        batch_create_properties,
    )
    prop = crm_pattern("properties", OBJECT_TYPE_PATTERN + r"/(?P<name>[^/]+)")
    router.add("GET", prop, "GET /crm/v3/properties/{objectType}/{propertyName}", get_property)
    router.add(
        "PATCH", prop, "PATCH /crm/v3/properties/{objectType}/{propertyName}", update_property
    )
