"""Forms (SDK), form submissions and email events (httpx, v1), and the public submit endpoint."""

from __future__ import annotations

import time

import httpx
from hubspot import Client

from leadscore.sandbox import SandboxHandle

T = 10
DAY_MS = 86_400_000


def _form_ids(sandbox: SandboxHandle) -> dict[str, str]:
    return {f["name"]: f["id"] for f in sandbox.admin.info()["forms"]}


def test_forms_list_through_sdk_with_paging(sdk: Client) -> None:
    first = sdk.marketing.forms.forms_api.get_page(limit=5, _request_timeout=T)
    assert len(first.results) == 5 and first.paging.next.after
    rest = sdk.marketing.forms.forms_api.get_page(
        limit=50, after=first.paging.next.after, _request_timeout=T
    )
    forms = first.results + rest.results
    names = {f.name for f in forms}
    assert {"Ebook download", "Webinar registration", "Request a demo", "Pricing quote"} <= names
    demo = next(f for f in forms if f.name == "Request a demo")
    assert demo.form_type == "hubspot" and demo.created_at is not None
    fields = [f.name for group in demo.field_groups for f in group.fields]
    assert fields[0] == "email" and "company" in fields
    one = sdk.marketing.forms.forms_api.get_by_id(demo.id, _request_timeout=T)
    assert one.name == "Request a demo"


def test_submissions_newest_first_with_paging_and_limit(
    http: httpx.Client, sandbox: SandboxHandle
) -> None:
    form_id = _form_ids(sandbox)["Newsletter signup"]
    url = f"/form-integrations/v1/submissions/forms/{form_id}"
    assert http.get(url, params={"limit": 51}).status_code == 400
    seen: list[dict[str, object]] = []
    after = None
    while True:
        params: dict[str, object] = {"limit": 20}
        if after:
            params["after"] = after
        body = http.get(url, params=params).json()
        seen.extend(body["results"])
        after = body.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert len(seen) > 20  # more than one page
    stamps = [s["submittedAt"] for s in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert len({s["conversionId"] for s in seen}) == len(seen)
    now = int(time.time() * 1000)
    assert all(now - 181 * DAY_MS <= int(s) <= now for s in stamps)  # type: ignore[call-overload]
    first = seen[0]
    assert {v["name"] for v in first["values"]} >= {"email"}  # type: ignore[attr-defined]
    assert str(first["pageUrl"]).startswith("https://")


def test_submit_creates_contact_records_submission_and_updates_conversions(
    http: httpx.Client, sandbox: SandboxHandle
) -> None:
    forms = _form_ids(sandbox)
    submit = f"/submissions/v3/integration/submit/{sandbox.portal_id}/{forms['Request a demo']}"
    fields = [
        {"objectTypeId": "0-1", "name": "email", "value": "Grace@Hopper.example"},
        {"objectTypeId": "0-1", "name": "firstname", "value": "Grace"},
        {"objectTypeId": "0-1", "name": "lastname", "value": "Hopper"},
        {"objectTypeId": "0-1", "name": "company", "value": "Navy"},
    ]
    r = httpx.post(
        sandbox.base_url + submit,
        json={"fields": fields, "context": {"pageUri": "https://x.example/demo"}},
    )
    assert r.status_code == 200 and r.json()["inlineMessage"]
    found = http.get(
        "/crm/v3/objects/contacts/grace@hopper.example", params={"idProperty": "email"}
    ).json()
    props = sandbox.admin.contact(found["id"])
    assert props["firstname"] == "Grace" and props["company"] == "Navy"
    assert props["num_conversion_events"] == "1" and props["num_unique_conversion_events"] == "1"
    assert props["recent_conversion_event_name"] == "Request a demo"
    assert props["first_conversion_event_name"] == "Request a demo"
    latest = http.get(
        f"/form-integrations/v1/submissions/forms/{forms['Request a demo']}", params={"limit": 1}
    ).json()
    assert latest["results"][0]["values"][0] == {
        "name": "email",
        "value": "Grace@Hopper.example",
        "objectTypeId": "0-1",
    }
    assert latest["results"][0]["pageUrl"] == "https://x.example/demo"

    # a second submission on another form updates the same contact
    ebook = f"/submissions/v3/integration/submit/{sandbox.portal_id}/{forms['Ebook download']}"
    httpx.post(sandbox.base_url + ebook, json={"fields": fields[:1]}).raise_for_status()
    props = sandbox.admin.contact(found["id"])
    assert props["num_conversion_events"] == "2" and props["num_unique_conversion_events"] == "2"
    assert props["recent_conversion_event_name"] == "Ebook download"
    assert props["first_conversion_event_name"] == "Request a demo"

    missing = httpx.post(sandbox.base_url + submit, json={"fields": fields[:1]})
    assert (
        missing.status_code == 400 and missing.json()["errors"][0]["errorType"] == "REQUIRED_FIELD"
    )
    bad_email = httpx.post(
        sandbox.base_url + ebook, json={"fields": [{"name": "email", "value": "nope"}]}
    )
    assert bad_email.json()["errors"][0]["errorType"] == "INVALID_EMAIL"
    unknown = httpx.post(
        f"{sandbox.base_url}/submissions/v3/integration/submit/{sandbox.portal_id}/abc",
        json={"fields": fields},
    )
    assert unknown.status_code == 404


def test_seeded_summary_properties_match_the_events(
    http: httpx.Client, sandbox: SandboxHandle
) -> None:
    r = http.post(
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "hs_email_open", "operator": "GTE", "value": "2"}]}
            ],
            "properties": ["email", "hs_email_open", "hs_email_click", "hs_email_delivered"],
            "limit": 3,
        },
    ).json()
    assert r["results"]
    for contact in r["results"]:
        events: list[dict[str, object]] = []
        offset = None
        while True:
            params: dict[str, object] = {"recipient": contact["properties"]["email"], "limit": 1000}
            if offset:
                params["offset"] = offset
            page = http.get("/email/public/v1/events", params=params).json()
            events.extend(page["events"])
            if not page["hasMore"]:
                break
            offset = page["offset"]
        counts = {
            t: sum(1 for e in events if e["type"] == t) for t in ("OPEN", "CLICK", "DELIVERED")
        }
        assert str(counts["OPEN"]) == contact["properties"]["hs_email_open"]
        assert str(counts["CLICK"]) == contact["properties"]["hs_email_click"]
        assert str(counts["DELIVERED"]) == contact["properties"]["hs_email_delivered"]


def test_email_events_filters_paging_and_injection(
    http: httpx.Client, sandbox: SandboxHandle
) -> None:
    now = int(time.time() * 1000)
    start = now - 30 * DAY_MS
    assert http.get("/email/public/v1/events", params={"limit": 1001}).status_code == 400
    collected: list[dict[str, object]] = []
    offset = None
    while True:
        params: dict[str, object] = {
            "startTimestamp": start,
            "endTimestamp": now,
            "eventType": "OPEN",
            "limit": 100,
        }
        if offset:
            params["offset"] = offset
        page = http.get("/email/public/v1/events", params=params).json()
        collected.extend(page["events"])
        if not page["hasMore"]:
            assert "offset" not in page
            break
        offset = page["offset"]
    assert collected and all(e["type"] == "OPEN" for e in collected)
    created = [int(e["created"]) for e in collected]  # type: ignore[call-overload]
    assert created == sorted(created, reverse=True) and min(created) >= start
    assert len({e["id"] for e in collected}) == len(collected)

    recipient = http.get("/crm/v3/objects/contacts/1010").json()["properties"]["email"]
    before = sandbox.admin.contact("1010")
    sandbox.admin.add_email_events(
        [
            {"type": "OPEN", "recipient": recipient, "created": now - 1000, "emailCampaignId": 7},
            {
                "type": "CLICK",
                "contactId": "1010",
                "created": now - 500,
                "emailCampaignId": 7,
                "url": "https://x.example/p",
            },
        ]
    )
    mine = http.get("/email/public/v1/events", params={"recipient": recipient, "limit": 2}).json()[
        "events"
    ]
    assert [e["type"] for e in mine] == ["CLICK", "OPEN"]
    assert mine[0]["url"] == "https://x.example/p" and mine[0]["recipient"] == recipient
    after = sandbox.admin.contact("1010")
    assert int(after["hs_email_open"] or 0) == int(before["hs_email_open"] or 0) + 1
    assert int(after["hs_email_click"] or 0) == int(before["hs_email_click"] or 0) + 1
    assert after["lastmodifieddate"] > before["lastmodifieddate"]
    newest = http.get("/email/public/v1/events", params={"limit": 1}).json()["events"][0]
    assert newest["type"] == "CLICK" and newest["created"] == now - 500


def test_submission_cursor_survives_new_submissions(
    http: httpx.Client, sandbox: SandboxHandle
) -> None:
    form_id = _form_ids(sandbox)["Ebook download"]
    url = f"/form-integrations/v1/submissions/forms/{form_id}"
    page1 = http.get(url, params={"limit": 5}).json()
    submit = f"{sandbox.base_url}/submissions/v3/integration/submit/{sandbox.portal_id}/{form_id}"
    httpx.post(
        submit, json={"fields": [{"name": "email", "value": "late@example.org"}]}
    ).raise_for_status()
    page2 = http.get(url, params={"limit": 5, "after": page1["paging"]["next"]["after"]}).json()
    ids1 = [s["conversionId"] for s in page1["results"]]
    ids2 = [s["conversionId"] for s in page2["results"]]
    assert not set(ids1) & set(ids2)
    assert page2["results"][0]["submittedAt"] <= page1["results"][-1]["submittedAt"]
    newest = http.get(url, params={"limit": 1}).json()["results"][0]
    assert newest["values"][0]["value"] == "late@example.org"
    assert http.get(url, params={"after": "not-a-cursor"}).status_code == 400
