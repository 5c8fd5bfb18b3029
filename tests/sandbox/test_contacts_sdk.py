"""Contacts through hubspot-api-client: basic, batch, search, idProperty=email, 207s, limits of
batch size, duplicate ids, lastmodifieddate bumps."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from hubspot import Client
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from leadscore.sandbox import SandboxHandle

T = 10  # request timeout for every SDK call, in seconds


def _search(sdk: Client, filters: list[dict[str, object]], **kw: object) -> object:
    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": filters}] if filters else [], **kw
    )
    return sdk.crm.contacts.search_api.do_search(request, _request_timeout=T)


def test_list_pages_through_every_contact_with_fully_populated_models(sdk: Client) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = sdk.crm.contacts.basic_api.get_page(
            limit=100, after=after, properties=["email", "lifecyclestage"], _request_timeout=T
        )
        for c in page.results:
            assert c.id and c.properties["email"] and "@" in c.properties["email"]
            assert isinstance(c.created_at, dt.datetime) and isinstance(c.updated_at, dt.datetime)
            assert c.archived is False
            assert c.properties["hs_object_id"] == c.id
        seen.extend(c.id for c in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == 400 and len(set(seen)) == 400


def test_get_by_id_and_by_email(sdk: Client) -> None:
    first = sdk.crm.contacts.basic_api.get_page(limit=1, _request_timeout=T).results[0]
    by_email = sdk.crm.contacts.basic_api.get_by_id(
        first.properties["email"], id_property="email", properties=["jobtitle"], _request_timeout=T
    )
    assert by_email.id == first.id
    assert "jobtitle" in by_email.properties
    with pytest.raises(ApiException) as missing:
        sdk.crm.contacts.basic_api.get_by_id("999999999", _request_timeout=T)
    assert missing.value.status == 404


def test_update_bumps_lastmodifieddate_and_noop_does_not(
    sdk: Client, sandbox: SandboxHandle
) -> None:
    c = sdk.crm.contacts.basic_api.get_page(
        limit=1, properties=["jobtitle"], _request_timeout=T
    ).results[0]
    before = c.properties["lastmodifieddate"]
    updated = sdk.crm.contacts.basic_api.update(
        c.id,
        SimplePublicObjectInput(properties={"jobtitle": "Chief Scoring Officer"}),
        _request_timeout=T,
    )
    assert updated.properties["jobtitle"] == "Chief Scoring Officer"
    assert updated.properties["lastmodifieddate"] > before
    again = sdk.crm.contacts.basic_api.update(
        c.id,
        SimplePublicObjectInput(properties={"jobtitle": "Chief Scoring Officer"}),
        _request_timeout=T,
    )
    assert again.properties["lastmodifieddate"] == updated.properties["lastmodifieddate"]
    assert sandbox.admin.contact(c.id)["jobtitle"] == "Chief Scoring Officer"


def test_unknown_property_and_bad_values_give_hubspot_400(http: httpx.Client) -> None:
    cid = http.get("/crm/v3/objects/contacts", params={"limit": 1}).json()["results"][0]["id"]
    for props, error in (
        ({"no_such_prop": "x"}, "PROPERTY_DOESNT_EXIST"),
        ({"hubspotscore": "lots"}, "INVALID_DECIMAL"),
        ({"hs_lead_status": "MAYBE"}, "INVALID_OPTION"),
    ):
        r = http.patch(f"/crm/v3/objects/contacts/{cid}", json={"properties": props})
        assert r.status_code == 400
        body = r.json()
        assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
        assert body["correlationId"]
        assert body["message"].startswith("Property values were not valid: ")
        details = json.loads(body["message"].split(": ", 1)[1])
        assert details[0]["error"] == error and details[0]["name"] == next(iter(props))


def test_batch_read_with_missing_id_is_207_via_sdk(sdk: Client) -> None:
    ids = [c.id for c in sdk.crm.contacts.basic_api.get_page(limit=3, _request_timeout=T).results]
    result = sdk.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": i} for i in [*ids, "424242"]],
            properties=["email"],
            properties_with_history=[],
        ),
        _request_timeout=T,
    )
    assert sorted(r.id for r in result.results) == sorted(ids)
    assert result.num_errors == 1
    assert result.errors[0].category == "OBJECT_NOT_FOUND"
    assert result.errors[0].context == {"ids": ["424242"]}
    assert result.status == "COMPLETE" and result.started_at and result.completed_at


def test_batch_update_207_applies_the_good_inputs(sdk: Client, sandbox: SandboxHandle) -> None:
    ids = [c.id for c in sdk.crm.contacts.basic_api.get_page(limit=3, _request_timeout=T).results]
    result = sdk.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": ids[0], "properties": {"jobtitle": "A"}},
                {"id": ids[1], "properties": {"hs_lead_status": "NOT_AN_OPTION"}},
                {"id": ids[2], "properties": {"jobtitle": "C"}},
            ]
        ),
        _request_timeout=T,
    )
    assert {r.id for r in result.results} == {ids[0], ids[2]}
    assert result.num_errors == 1 and result.errors[0].category == "VALIDATION_ERROR"
    assert result.errors[0].context["id"] == [ids[1]]
    assert sandbox.admin.contact(ids[0])["jobtitle"] == "A"
    assert sandbox.admin.contact(ids[2])["jobtitle"] == "C"


def test_batch_rejects_duplicates_and_more_than_100_inputs(http: httpx.Client) -> None:
    r = http.post(
        "/crm/v3/objects/contacts/batch/update",
        json={"inputs": [{"id": "1001", "properties": {"jobtitle": "x"}}] * 2},
    )
    assert r.status_code == 400
    assert "Duplicate IDs found in batch input" in r.json()["message"]
    assert r.json()["context"] == {"ids": ["1001"]}
    r = http.post(
        "/crm/v3/objects/contacts/batch/read",
        json={"inputs": [{"id": str(1001 + i)} for i in range(101)], "properties": []},
    )
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    assert http.get("/_sandbox/contacts/1001").json()["properties"]["jobtitle"] != "x"


def test_create_single_and_batch_and_conflict(sdk: Client, sandbox: SandboxHandle) -> None:
    created = sdk.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "New.Person@example.org", "firstname": "New"}
        ),
        _request_timeout=T,
    )
    assert created.properties["email"] == "new.person@example.org"
    assert sandbox.admin.contact(created.id)["lifecyclestage"] == "lead"
    with pytest.raises(ApiException) as conflict:
        sdk.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "new.person@example.org"}),
            _request_timeout=T,
        )
    assert conflict.value.status == 409
    assert (
        json.loads(conflict.value.body)["message"]
        == f"Contact already exists. Existing ID: {created.id}"
    )
    batch = sdk.crm.contacts.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                {"properties": {"email": "b1@example.org"}, "associations": []},
                {
                    "properties": {"email": "b2@example.org", "numemployees": "50-100"},
                    "associations": [],
                },
            ]
        ),
        _request_timeout=T,
    )
    assert sorted(r.properties["email"] for r in batch.results) == [
        "b1@example.org",
        "b2@example.org",
    ]
    found = sdk.crm.contacts.basic_api.get_by_id(
        "b2@example.org", id_property="email", _request_timeout=T
    )
    assert found.id in {r.id for r in batch.results}


def test_search_filters_sorts_and_pages(sdk: Client, http: httpx.Client) -> None:
    first = _search(
        sdk,
        [{"propertyName": "lifecyclestage", "operator": "IN", "values": ["lead", "subscriber"]}],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        properties=["lifecyclestage", "lastmodifieddate"],
        limit=50,
    )
    assert first.total > 50 and len(first.results) == 50
    assert all(r.properties["lifecyclestage"] in {"lead", "subscriber"} for r in first.results)
    stamps = [r.properties["lastmodifieddate"] for r in first.results]
    assert stamps == sorted(stamps)
    collected = [r.id for r in first.results]
    after = first.paging.next.after
    while after:
        page = _search(
            sdk,
            [
                {
                    "propertyName": "lifecyclestage",
                    "operator": "IN",
                    "values": ["lead", "subscriber"],
                }
            ],
            sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            limit=50,
            after=after,
        )
        collected.extend(r.id for r in page.results)
        after = page.paging.next.after if page.paging else None
    assert len(collected) == first.total == len(set(collected))
    # a watermark filter in epoch ms, as incremental syncs send it
    mid = stamps[25]
    ms = int(dt.datetime.fromisoformat(mid.replace("Z", "+00:00")).timestamp() * 1000)
    r = http.post(
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(ms)}
                    ]
                }
            ],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "limit": 200,
        },
    )
    assert r.status_code == 200
    assert all(x["properties"]["lastmodifieddate"] >= mid for x in r.json()["results"])
    assert "X-HubSpot-RateLimit-Max" not in r.headers


def test_search_cap_and_request_limits(http: httpx.Client) -> None:
    def search(body: dict[str, object]) -> httpx.Response:
        return http.post("/crm/v3/objects/contacts/search", json=body)

    capped = search({"filterGroups": [], "after": 9_950, "limit": 100})
    assert capped.status_code == 400 and capped.json()["category"] == "VALIDATION_ERROR"
    assert search({"after": 9_900, "limit": 100}).status_code == 200
    assert search({"limit": 201}).status_code == 400
    too_many = [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}] * 6
    assert search({"filterGroups": too_many}).status_code == 400
    two_sorts = [{"propertyName": "email", "direction": "ASCENDING"}] * 2
    assert search({"sorts": two_sorts}).status_code == 400
    assert search({"query": "x" * 3_100}).status_code == 400


def test_search_operators(http: httpx.Client, sandbox: SandboxHandle) -> None:
    def ids(filters: list[dict[str, object]]) -> set[str]:
        r = http.post(
            "/crm/v3/objects/contacts/search",
            json={
                "filterGroups": [{"filters": filters}],
                "limit": 200,
                "properties": ["email", "hs_email_optout", "numemployees"],
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["total"] <= 200
        return {x["id"] for x in r.json()["results"]}

    opted_out = ids([{"propertyName": "hs_email_optout", "operator": "EQ", "value": "true"}])
    assert opted_out
    for cid in opted_out:
        assert sandbox.admin.contact(cid)["hs_email_optout"] == "true"
    no_size = ids([{"propertyName": "numemployees", "operator": "NOT_HAS_PROPERTY"}])
    assert no_size and all(
        sandbox.admin.contact(c)["numemployees"] is None for c in list(no_size)[:20]
    )
    gmail = ids([{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@gmail.com"}])
    assert gmail and all(sandbox.admin.contact(c)["email"].endswith("@gmail.com") for c in gmail)
    busy = ids(
        [
            {
                "propertyName": "hs_analytics_num_visits",
                "operator": "BETWEEN",
                "value": "10",
                "highValue": "20",
            }
        ]
    )
    assert all(10 <= int(sandbox.admin.contact(c)["hs_analytics_num_visits"]) <= 20 for c in busy)


def test_date_versioned_paths_answer_like_v3(http: httpx.Client) -> None:
    v3 = http.get("/crm/v3/objects/contacts/1001", params={"properties": "email"}).json()
    dated = http.get("/crm/objects/2026-03/contacts/1001", params={"properties": "email"}).json()
    assert dated == v3
    props = http.get("/crm/properties/2026-03/contacts/lifecyclestage").json()
    assert props["name"] == "lifecyclestage"
    assert http.get("/crm/owners/2026-03", params={"limit": 1}).status_code == 200
    assert http.get("/crm/v3/objects/deals").status_code == 404


def test_watermark_search_sees_every_write_and_matches_a_full_scan(http: httpx.Client) -> None:
    """The lastmodifieddate index must agree with scanning everyone, before and after writes."""

    def ids(filters: list[dict[str, object]]) -> list[str]:
        out: list[str] = []
        after = 0
        while True:
            body = {
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                "limit": 200,
                "after": after,
            }
            page = http.post("/crm/v3/objects/contacts/search", json=body).json()
            out.extend(r["id"] for r in page["results"])
            if "paging" not in page:
                return out
            after = int(page["paging"]["next"]["after"])

    everyone = http.post(
        "/crm/v3/objects/contacts/search",
        json={
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "limit": 200,
            "after": 200,
            "properties": ["lastmodifieddate"],
        },
    ).json()["results"]
    watermark = everyone[0]["properties"]["lastmodifieddate"]
    gte = [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": watermark}]
    # NEQ on a property nobody has forces a full scan with the same meaning
    scan = [*gte, {"propertyName": "hubspotscore", "operator": "NEQ", "value": "-1"}]
    before = ids(gte)
    assert before == ids(scan) and len(before) == 200
    http.patch("/crm/v3/objects/contacts/1001", json={"properties": {"jobtitle": "Touched"}})
    created = http.post(
        "/crm/v3/objects/contacts", json={"properties": {"email": "wm@example.org"}}
    ).json()
    after = ids(gte)
    assert after == ids(scan)
    assert after[-2:] == ["1001", created["id"]]
    gt = ids([{"propertyName": "lastmodifieddate", "operator": "GT", "value": watermark}])
    assert len(gt) < len(after)


def test_email_as_id_property(http: httpx.Client, sandbox: SandboxHandle) -> None:
    emails = [
        c["properties"]["email"]
        for c in http.get("/crm/v3/objects/contacts", params={"limit": 2}).json()["results"]
    ]
    # batch update only takes record ids
    r = http.post(
        "/crm/v3/objects/contacts/batch/update",
        json={
            "idProperty": "email",
            "inputs": [{"id": e, "properties": {"jobtitle": "By email"}} for e in emails],
        },
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Unable to perform update/upsert by non-unique 0-1 property email"
    assert sandbox.admin.contact("1002")["jobtitle"] != "By email"
    # single update and batch read do take it (case-insensitively)
    one = http.patch(
        f"/crm/v3/objects/contacts/{emails[1].upper()}",
        params={"idProperty": "email"},
        json={"properties": {"jobtitle": "By email"}},
    )
    assert one.status_code == 200 and one.json()["id"] == "1002"
    read = http.post(
        "/crm/v3/objects/contacts/batch/read",
        json={"idProperty": "email", "inputs": [{"id": emails[0]}], "properties": ["jobtitle"]},
    )
    assert read.json()["results"][0]["id"] == "1001"
    bad = http.get("/crm/v3/objects/contacts/x", params={"idProperty": "jobtitle"})
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"


def test_batch_create_without_multi_status_refuses_the_whole_batch(
    http: httpx.Client, sandbox: SandboxHandle
) -> None:
    sandbox.admin.set_batch_create_multi_status(False)
    existing = http.get("/crm/v3/objects/contacts/1001").json()["properties"]["email"]
    r = http.post(
        "/crm/v3/objects/contacts/batch/create",
        json={
            "inputs": [
                {"properties": {"email": "fresh@example.org"}},
                {"properties": {"email": existing}},
            ]
        },
    )
    assert r.status_code == 409 and r.json()["category"] == "CONFLICT"
    assert r.json()["message"] == "Contact already exists. Existing ID: 1001"
    missing = http.get("/crm/v3/objects/contacts/fresh@example.org", params={"idProperty": "email"})
    assert missing.status_code == 404  # nothing was created
    bad = http.post(
        "/crm/v3/objects/tasks/batch/create",
        json={"inputs": [{"properties": {"hs_timestamp": "1795000000000"}}, {"properties": {}}]},
    )
    assert bad.status_code == 400
    assert http.post("/crm/v3/objects/tasks/search", json={}).json()["total"] == 0
