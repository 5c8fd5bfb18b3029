"""Forward-only lifecycle stages, custom stages, and the properties API through the SDK."""

from __future__ import annotations

import httpx
import pytest
from hubspot import Client
from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectInput
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate

from leadscore.sandbox import SandboxHandle

T = 10


def _contact_in_stage(http: httpx.Client, stage: str) -> str:
    r = http.post(
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": stage}]}
            ],
            "limit": 1,
        },
    )
    return str(r.json()["results"][0]["id"])


def _set_stage(sdk: Client, cid: str, stage: str) -> str | None:
    result = sdk.crm.contacts.basic_api.update(
        cid, SimplePublicObjectInput(properties={"lifecyclestage": stage}), _request_timeout=T
    )
    return result.properties["lifecyclestage"]


def test_stage_moves_forward_but_not_back_until_cleared(
    sdk: Client, http: httpx.Client, sandbox: SandboxHandle
) -> None:
    cid = _contact_in_stage(http, "lead")
    assert _set_stage(sdk, cid, "salesqualifiedlead") == "salesqualifiedlead"
    sql_date = sandbox.admin.contact(cid)["hs_lifecyclestage_salesqualifiedlead_date"]
    assert sql_date is not None
    before = sandbox.admin.contact(cid)["lastmodifieddate"]

    # Backwards without clearing: 200, value unchanged, nothing modified, the move is recorded.
    assert _set_stage(sdk, cid, "marketingqualifiedlead") == "salesqualifiedlead"
    assert sandbox.admin.contact(cid)["lastmodifieddate"] == before
    moves = sandbox.admin.rejected_stage_moves()
    assert moves[-1]["id"] == cid
    assert (moves[-1]["from"], moves[-1]["to"]) == ("salesqualifiedlead", "marketingqualifiedlead")
    assert sandbox.admin.stats()["rejectedStageMoves"] == 1
    logged = sandbox.admin.requests(method="PATCH")[-1]
    assert logged["notes"] == [
        {
            "rejectedStageMove": {
                "id": cid,
                "from": "salesqualifiedlead",
                "to": "marketingqualifiedlead",
            }
        }
    ]
    assert logged["body"]["lifecyclestage"] == "marketingqualifiedlead"

    # Clear, then set the earlier stage in a later request: applied, later stage dates dropped.
    assert _set_stage(sdk, cid, "") is None
    assert _set_stage(sdk, cid, "marketingqualifiedlead") == "marketingqualifiedlead"
    after = sandbox.admin.contact(cid)
    assert after["hs_lifecyclestage_salesqualifiedlead_date"] is None
    assert after["hs_lifecyclestage_marketingqualifiedlead_date"] is not None


def test_clear_and_set_in_one_batch_does_not_move_back(
    sdk: Client, http: httpx.Client, sandbox: SandboxHandle
) -> None:
    cid = _contact_in_stage(http, "customer")
    other = _contact_in_stage(http, "lead")
    result = sdk.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": cid, "properties": {"lifecyclestage": "lead"}},
                {"id": other, "properties": {"lifecyclestage": "opportunity"}},
            ]
        ),
        _request_timeout=T,
    )
    stages = {r.id: r.properties["lifecyclestage"] for r in result.results}
    assert stages == {cid: "customer", other: "opportunity"}
    assert [m["id"] for m in sandbox.admin.rejected_stage_moves()] == [cid]


def test_custom_stage_between_defaults(sdk: Client, http: httpx.Client) -> None:
    prop = sdk.crm.properties.core_api.get_by_name("contacts", "lifecyclestage", _request_timeout=T)
    assert [o.value for o in prop.options][:4] == [
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
    ]
    options = [
        {"label": o.label, "value": o.value, "displayOrder": i * 10, "hidden": False}
        for i, o in enumerate(prop.options)
    ]
    options.append(
        {"label": "Product Qualified Lead", "value": "1034567", "displayOrder": 25, "hidden": False}
    )
    r = http.patch("/crm/v3/properties/contacts/lifecyclestage", json={"options": options})
    assert r.status_code == 200
    cid = _contact_in_stage(http, "marketingqualifiedlead")
    assert _set_stage(sdk, cid, "1034567") == "1034567"
    assert _set_stage(sdk, cid, "marketingqualifiedlead") == "1034567"  # backwards: refused
    assert _set_stage(sdk, cid, "salesqualifiedlead") == "salesqualifiedlead"


def test_properties_list_get_create_and_groups(sdk: Client) -> None:
    everything = sdk.crm.properties.core_api.get_all("contacts", _request_timeout=T)
    names = {p.name for p in everything.results}
    assert {
        "email",
        "lifecyclestage",
        "hs_email_optout",
        "num_conversion_events",
        "hubspotscore",
    } <= names
    stage = next(p for p in everything.results if p.name == "lifecyclestage")
    assert stage.type == "enumeration" and stage.field_type == "select" and stage.group_name
    assert stage.created_at is not None and stage.modification_metadata is not None

    group = sdk.crm.properties.groups_api.create(
        "contacts",
        PropertyGroupCreate(name="leadscore", label="Lead scoring", display_order=-1),
        _request_timeout=T,
    )
    assert group.name == "leadscore"
    created = sdk.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="leadscore_score",
            label="Lead score",
            type="number",
            field_type="number",
            group_name="leadscore",
        ),
        _request_timeout=T,
    )
    assert created.name == "leadscore_score" and created.hubspot_defined is False
    assert (
        sdk.crm.properties.core_api.get_by_name(
            "contacts", "leadscore_score", _request_timeout=T
        ).type
        == "number"
    )
    groups = sdk.crm.properties.groups_api.get_all("contacts", _request_timeout=T)
    assert "leadscore" in {g.name for g in groups.results}

    with pytest.raises(PropertiesApiException) as dup:
        sdk.crm.properties.core_api.create(
            "contacts",
            PropertyCreate(
                name="leadscore_score",
                label="Again",
                type="number",
                field_type="number",
                group_name="leadscore",
            ),
            _request_timeout=T,
        )
    assert dup.value.status == 409
    with pytest.raises(PropertiesApiException) as bad_group:
        sdk.crm.properties.core_api.create(
            "contacts",
            PropertyCreate(
                name="x_y", label="X", type="string", field_type="text", group_name="nope"
            ),
            _request_timeout=T,
        )
    assert bad_group.value.status == 400
    with pytest.raises(PropertiesApiException) as missing:
        sdk.crm.properties.core_api.get_by_name("contacts", "nope_nope", _request_timeout=T)
    assert missing.value.status == 404


def test_created_properties_are_writable_and_validated(
    sdk: Client, http: httpx.Client, sandbox: SandboxHandle
) -> None:
    http.post(
        "/crm/v3/properties/contacts",
        json={
            "name": "leadscore_grade",
            "label": "Grade",
            "type": "enumeration",
            "fieldType": "select",
            "groupName": "contactinformation",
            "options": [{"label": "A", "value": "A"}, {"label": "B", "value": "B"}],
        },
    ).raise_for_status()
    task_prop = http.post(
        "/crm/v3/properties/tasks",
        json={
            "name": "leadscore_run_id",
            "label": "Run",
            "type": "string",
            "fieldType": "text",
            "groupName": "task",
        },
    )
    assert task_prop.status_code == 201
    assert (
        http.get("/crm/v3/properties/tasks/leadscore_run_id").json()["name"] == "leadscore_run_id"
    )
    cid = "1001"
    ok = http.patch(
        f"/crm/v3/objects/contacts/{cid}", json={"properties": {"leadscore_grade": "A"}}
    )
    assert ok.status_code == 200 and ok.json()["properties"]["leadscore_grade"] == "A"
    bad = http.patch(
        f"/crm/v3/objects/contacts/{cid}", json={"properties": {"leadscore_grade": "Z"}}
    )
    assert bad.status_code == 400 and "INVALID_OPTION" in bad.json()["message"]
    assert sandbox.admin.contact(cid)["leadscore_grade"] == "A"
    read_only = http.patch(
        f"/crm/v3/objects/contacts/{cid}", json={"properties": {"hs_email_open": "5"}}
    )
    assert read_only.status_code == 400 and "READ_ONLY_VALUE" in read_only.json()["message"]


def test_owners_paging_archived_and_email(sdk: Client, sandbox: SandboxHandle) -> None:
    page = sdk.crm.owners.owners_api.get_page(limit=5, _request_timeout=T)
    assert len(page.results) == 5 and page.paging.next.after
    rest = sdk.crm.owners.owners_api.get_page(
        limit=100, after=page.paging.next.after, _request_timeout=T
    )
    active = page.results + rest.results
    assert len(active) == 10 and all(not o.archived for o in active)
    o = active[0]
    assert o.email and o.first_name and o.last_name and o.user_id and o.type == "PERSON"
    assert o.teams[0].name and o.created_at is not None
    archived = sdk.crm.owners.owners_api.get_page(archived=True, _request_timeout=T)
    assert len(archived.results) == 2 and all(o.archived for o in archived.results)
    added = sandbox.admin.add_owners(
        [{"email": "new.rep@example.org", "firstName": "New", "lastName": "Rep"}]
    )
    found = sdk.crm.owners.owners_api.get_page(email="new.rep@example.org", _request_timeout=T)
    assert [x.id for x in found.results] == [added[0]["id"]]
    assert (
        sdk.crm.owners.owners_api.get_by_id(int(added[0]["id"]), _request_timeout=T).email
        == "new.rep@example.org"
    )
    # owners become valid values of hubspot_owner_id
    r = sdk.crm.contacts.basic_api.update(
        "1002", {"properties": {"hubspot_owner_id": added[0]["id"]}}, _request_timeout=T
    )
    assert r.properties["hubspot_owner_id"] == added[0]["id"]
