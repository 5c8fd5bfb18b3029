"""Tasks with contact associations, task search and contact->task associations (v4) via the SDK."""

from __future__ import annotations

import json

import httpx
import pytest
from hubspot import Client
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.objects.tasks import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputForCreate,
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)

T = 10


def _assoc(contact_id: str, type_id: int = 204) -> list[dict[str, object]]:
    return [
        {
            "to": {"id": contact_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
        }
    ]


def _task(subject: str, contact_id: str, **extra: str) -> SimplePublicObjectInputForCreate:
    props = {
        "hs_timestamp": "2026-12-01T09:00:00Z",
        "hs_task_subject": subject,
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH",
        "hs_task_type": "CALL",
        **extra,
    }
    return SimplePublicObjectInputForCreate(properties=props, associations=_assoc(contact_id))


def test_create_task_with_association_and_read_it_back_from_the_contact(sdk: Client) -> None:
    task = sdk.crm.objects.tasks.basic_api.create(_task("Call Ada", "1003"), _request_timeout=T)
    assert task.id and task.properties["hs_task_subject"] == "Call Ada"
    assert task.properties["hs_timestamp"] == "2026-12-01T09:00:00.000Z"
    assert task.created_at is not None and task.updated_at is not None
    page = sdk.crm.associations.v4.basic_api.get_page(
        "contacts", "1003", "tasks", _request_timeout=T
    )
    # HubSpot sends toObjectId as a JSON number; the SDK model turns it into a string.
    assert [r.to_object_id for r in page.results] == [task.id]
    assert page.results[0].association_types[0].type_id == 203
    assert page.results[0].association_types[0].category == "HUBSPOT_DEFINED"
    back = sdk.crm.associations.v4.basic_api.get_page(
        "tasks", task.id, "contacts", _request_timeout=T
    )
    assert [r.to_object_id for r in back.results] == ["1003"]
    batch = sdk.crm.associations.v4.batch_api.get_page(
        "contacts",
        "tasks",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": "1003"}, {"id": "1004"}]),
        _request_timeout=T,
    )
    assert [(r._from.id, [t.to_object_id for t in r.to]) for r in batch.results] == [
        ("1003", [task.id])
    ]
    assert batch.errors[0].context == {"fromObjectId": ["1004"]}
    fetched = sdk.crm.objects.tasks.basic_api.get_by_id(
        task.id, properties=["hs_task_priority"], _request_timeout=T
    )
    assert fetched.properties["hs_task_priority"] == "HIGH"


def test_task_errors(sdk: Client, http: httpx.Client) -> None:
    with pytest.raises(ApiException) as wrong_type:
        sdk.crm.objects.tasks.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={"hs_timestamp": "1790000000000", "hs_task_subject": "x"},
                associations=_assoc("1003", type_id=203),
            ),
            _request_timeout=T,
        )
    assert wrong_type.value.status == 400
    no_due = http.post("/crm/v3/objects/tasks", json={"properties": {"hs_task_subject": "x"}})
    assert no_due.status_code == 400
    assert json.loads(no_due.json()["message"].split(": ", 1)[1])[0]["name"] == "hs_timestamp"
    bad_status = http.post(
        "/crm/v3/objects/tasks",
        json={"properties": {"hs_timestamp": "1790000000000", "hs_task_status": "DONE"}},
    )
    assert bad_status.status_code == 400 and "INVALID_OPTION" in bad_status.json()["message"]
    assert http.post("/crm/v3/objects/tasks/search", json={}).json()["total"] == 0


def test_batch_create_207_and_search_by_custom_property(sdk: Client, http: httpx.Client) -> None:
    http.post(
        "/crm/v3/properties/tasks",
        json={
            "name": "leadscore_key",
            "label": "Key",
            "type": "string",
            "fieldType": "text",
            "groupName": "task",
        },
    ).raise_for_status()
    inputs = [
        _task("SQL follow-up: a", "1005", leadscore_key="run1:1005"),
        SimplePublicObjectInputForCreate(
            properties={"hs_task_subject": "no due date"}, associations=[]
        ),
        _task("SQL follow-up: b", "1006", leadscore_key="run1:1006"),
    ]
    result = sdk.crm.objects.tasks.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs), _request_timeout=T
    )
    assert len(result.results) == 2 and result.num_errors == 1
    assert result.errors[0].context["inputIndex"] == ["1"]

    def search(filters: list[dict[str, object]]) -> list[str]:
        found = sdk.crm.objects.tasks.search_api.do_search(
            PublicObjectSearchRequest(
                filter_groups=[{"filters": filters}],
                properties=["leadscore_key", "hs_task_subject"],
                sorts=[{"propertyName": "hs_createdate", "direction": "ASCENDING"}],
                limit=10,
            ),
            _request_timeout=T,
        )
        return [t.properties["leadscore_key"] for t in found.results]

    assert search([{"propertyName": "leadscore_key", "operator": "EQ", "value": "run1:1006"}]) == [
        "run1:1006"
    ]
    assert search(
        [{"propertyName": "leadscore_key", "operator": "IN", "values": ["run1:1005", "run1:1006"]}]
    ) == [
        "run1:1005",
        "run1:1006",
    ]
    assert search(
        [{"propertyName": "hs_task_subject", "operator": "CONTAINS_TOKEN", "value": "follow-up"}]
    ) == [
        "run1:1005",
        "run1:1006",
    ]
    listed = sdk.crm.objects.tasks.basic_api.get_page(
        limit=1, properties=["leadscore_key"], _request_timeout=T
    )
    assert len(listed.results) == 1 and listed.paging.next.after
    second = sdk.crm.objects.tasks.basic_api.get_page(
        limit=1, after=listed.paging.next.after, _request_timeout=T
    )
    assert second.results[0].id != listed.results[0].id and second.paging is None
    contact = http.get("/crm/v3/objects/contacts/1005", params={"associations": "tasks"}).json()
    assert contact["associations"]["tasks"]["results"][0]["type"] == "contact_to_task"
