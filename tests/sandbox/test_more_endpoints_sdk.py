"""The remaining SDK calls: archive, task update, property batch create/update, group by name,
and the v1 endpoints through client.api_request (which uses base_url)."""

from __future__ import annotations

import pytest
from hubspot import Client
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.objects.tasks import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.crm.properties import BatchInputPropertyCreate, PropertyUpdate

from leadscore.sandbox import SandboxHandle

T = 10


def test_archive_contact_hides_it(sdk: Client) -> None:
    sdk.crm.contacts.basic_api.archive("1020", _request_timeout=T)
    with pytest.raises(ContactsApiException) as gone:
        sdk.crm.contacts.basic_api.get_by_id("1020", _request_timeout=T)
    assert gone.value.status == 404
    page = sdk.crm.contacts.basic_api.get_page(limit=100, after="1001", _request_timeout=T)
    assert "1020" not in {c.id for c in page.results}


def test_task_update_and_validation(sdk: Client) -> None:
    task = sdk.crm.objects.tasks.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"hs_timestamp": "1795000000000", "hs_task_subject": "t"}
        ),
        _request_timeout=T,
    )
    assert task.properties["hs_task_status"] == "NOT_STARTED"
    done = sdk.crm.objects.tasks.basic_api.update(
        task.id,
        SimplePublicObjectInput(properties={"hs_task_status": "COMPLETED"}),
        _request_timeout=T,
    )
    assert done.properties["hs_task_status"] == "COMPLETED"
    assert done.updated_at > task.updated_at


def test_property_batch_create_update_and_group_by_name(sdk: Client) -> None:
    created = sdk.crm.properties.batch_api.create(
        "contacts",
        BatchInputPropertyCreate(
            inputs=[
                {
                    "name": "ls_score",
                    "label": "Score",
                    "type": "number",
                    "fieldType": "number",
                    "groupName": "contactinformation",
                },
                {
                    "name": "ls_reasons",
                    "label": "Reasons",
                    "type": "string",
                    "fieldType": "textarea",
                    "groupName": "contactinformation",
                },
            ]
        ),
        _request_timeout=T,
    )
    assert sorted(p.name for p in created.results) == ["ls_reasons", "ls_score"]
    renamed = sdk.crm.properties.core_api.update(
        "contacts", "ls_score", PropertyUpdate(label="Lead score"), _request_timeout=T
    )
    assert renamed.label == "Lead score"
    group = sdk.crm.properties.groups_api.get_by_name(
        "contacts", "contactinformation", _request_timeout=T
    )
    assert group.label == "Contact information"


def test_v1_endpoints_through_api_request(sdk: Client, sandbox: SandboxHandle) -> None:
    events = sdk.api_request(
        {"method": "GET", "path": "/email/public/v1/events", "qs": {"limit": 3}}
    )
    assert events.status_code == 200 and len(events.json()["events"]) == 3
    form_id = sandbox.admin.info()["forms"][0]["id"]
    subs = sdk.api_request(
        {
            "method": "GET",
            "path": f"/form-integrations/v1/submissions/forms/{form_id}",
            "qs": {"limit": 2},
        }
    )
    assert subs.status_code == 200 and len(subs.json()["results"]) == 2


# Attributes HubSpot itself leaves out unless asked for or applicable (archived records,
# history, calculated or currency properties, association expansion).
_OPTIONAL = {
    "associations",
    "archived_at",
    "properties_with_history",
    "object_write_trace_id",
    "show_currency_symbol",
    "referenced_object_type",
    "calculation_formula",
}


def _unset(model: object) -> set[str]:
    return {a for a in model.openapi_types if getattr(model, a) is None} - _OPTIONAL  # type: ignore[attr-defined]


def test_sdk_models_come_back_fully_populated(sdk: Client) -> None:
    contact = sdk.crm.contacts.basic_api.get_page(limit=1, _request_timeout=T).results[0]
    owner = sdk.crm.owners.owners_api.get_page(limit=1, _request_timeout=T).results[0]
    prop = sdk.crm.properties.core_api.get_by_name("contacts", "lifecyclestage", _request_timeout=T)
    group = sdk.crm.properties.groups_api.get_all("contacts", _request_timeout=T).results[0]
    form = sdk.marketing.forms.forms_api.get_page(limit=1, _request_timeout=T).results[0]
    task = sdk.crm.objects.tasks.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"hs_timestamp": "1795000000000"}),
        _request_timeout=T,
    )
    for model in (contact, owner, prop, group, form, task, owner.teams[0], prop.options[0]):
        assert _unset(model) == set(), type(model).__name__
