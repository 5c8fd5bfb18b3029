"""Auth, rate limits per tier (10 s window, search per second, daily), faults by seed, search lag,
latency and the admin endpoints."""

from __future__ import annotations

import time

import httpx
import pytest
from hubspot import Client
from hubspot.crm.contacts import ApiException

from leadscore.sandbox import FaultSpec, SandboxHandle, start_sandbox

T = 10


def test_missing_or_wrong_token_is_hubspot_401(sandbox: SandboxHandle) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": sandbox.token}):
        r = httpx.get(f"{sandbox.base_url}/crm/v3/objects/contacts", headers=headers)
        assert r.status_code == 401
        body = r.json()
        assert body["category"] == "INVALID_AUTHENTICATION" and body["status"] == "error"
        assert body["message"].startswith("Authentication credentials not found.")
    sdk = Client.create(access_token="wrong", host=sandbox.base_url)
    with pytest.raises(ApiException) as denied:
        sdk.crm.contacts.basic_api.get_page(_request_timeout=T)
    assert denied.value.status == 401


def test_ten_second_window_headers_and_429_body(sandbox: SandboxHandle, http: httpx.Client) -> None:
    sandbox.admin.set_limits("starter")
    first = http.get("/crm/v3/objects/contacts", params={"limit": 1})
    assert first.headers["X-HubSpot-RateLimit-Max"] == "100"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "99"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert first.headers["X-HubSpot-RateLimit-Daily"] == "250000"
    assert first.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "249999"
    statuses = [
        http.get("/crm/v3/objects/contacts", params={"limit": 1}).status_code for _ in range(100)
    ]
    assert statuses.count(200) == 99 and statuses[-1] == 429
    limited = http.get("/crm/v3/objects/contacts/1001")
    assert limited.status_code == 429
    body = limited.json()
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["correlationId"] and body["groupName"]
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    stats = sandbox.admin.stats()
    assert stats["rateLimited"] == 2
    assert stats["requestsByEndpoint"]["GET /crm/v3/objects/{objectType}"] == {"200": 100, "429": 1}


def test_professional_tier_and_window_rolls(sandbox: SandboxHandle, http: httpx.Client) -> None:
    sandbox.admin.set_limits("professional", per_ten_seconds=3)
    assert http.get("/crm/v3/owners").headers["X-HubSpot-RateLimit-Daily"] == "625000"
    http.get("/crm/v3/owners")
    http.get("/crm/v3/owners")
    assert http.get("/crm/v3/owners").status_code == 429
    # a short window stands in for the 10 s one: only the count per window matters here
    sandbox.admin.set_limits(per_ten_seconds=None)
    assert http.get("/crm/v3/owners").status_code == 200


def test_search_limit_is_per_second_without_headers(
    sandbox: SandboxHandle, http: httpx.Client
) -> None:
    sandbox.admin.set_limits("enterprise")
    results = [http.post("/crm/v3/objects/contacts/search", json={"limit": 1}) for _ in range(6)]
    codes = [r.status_code for r in results]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in results[0].headers)
    body = results[5].json()
    assert body["message"] == "You have reached your secondly limit."
    assert body["policyName"] == "SECONDLY"
    time.sleep(1.05)
    assert http.post("/crm/v3/objects/contacts/search", json={"limit": 1}).status_code == 200


def test_daily_limit(sandbox: SandboxHandle, http: httpx.Client) -> None:
    sandbox.admin.set_limits("free", daily=3)
    codes = [http.get("/crm/v3/owners").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = http.get("/crm/v3/owners")
    assert r.json()["policyName"] == "DAILY"
    assert r.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


def test_unlimited_sends_no_limit_headers(http: httpx.Client) -> None:
    r = http.get("/crm/v3/owners")
    assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in r.headers)


def _statuses(sandbox: SandboxHandle, n: int) -> list[str]:
    out = []
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.token}"}
    ) as c:
        for _ in range(n):
            try:
                out.append(str(c.get("/crm/v3/owners", params={"limit": 1}).status_code))
            except httpx.TransportError:
                out.append("drop")
    return out


def test_faults_are_reproducible_by_seed(sandbox: SandboxHandle) -> None:
    spec = "500=0.1,502=0.05,503=0.05,504=0.05,429burst=0.03x3,drop=0.05"
    sandbox.admin.set_faults(spec)
    first = _statuses(sandbox, 200)
    sandbox.admin.set_faults(spec)
    second = _statuses(sandbox, 200)
    assert first == second
    for code in ("200", "500", "502", "503", "504", "429", "drop"):
        assert code in first
    assert first.count("200") > 80  # about 65% get through with this spec
    injected = sandbox.admin.stats()["faultsInjected"]  # counted since the last set_faults
    assert injected["drop"] == second.count("drop")
    assert injected["500"] == second.count("500")


def test_fault_bodies(sandbox: SandboxHandle, http: httpx.Client) -> None:
    sandbox.admin.set_faults({"502": 1.0})
    r = http.get("/crm/v3/owners")
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    sandbox.admin.set_faults({"503": 1.0})
    r = http.get("/crm/v3/owners")
    assert r.status_code == 503 and r.json()["status"] == "error"
    sandbox.admin.set_faults("429burst=1x2")
    r = http.get("/crm/v3/owners")
    assert r.status_code == 429 and r.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    logged = sandbox.admin.requests()[-1]
    assert logged["fault"] == "429" and logged["status"] == 429


def test_latency_is_added(sandbox: SandboxHandle, http: httpx.Client) -> None:
    sandbox.admin.set_latency(150)
    started = time.perf_counter()
    http.get("/crm/v3/owners")
    assert time.perf_counter() - started >= 0.15
    sandbox.admin.set_faults("latency=50,jitter=0")
    started = time.perf_counter()
    http.get("/crm/v3/owners")
    assert time.perf_counter() - started >= 0.2


def test_search_lags_writes(sandbox: SandboxHandle, http: httpx.Client) -> None:
    sandbox.admin.set_faults("searchlag=600")

    def find(title: str) -> list[str]:
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": "jobtitle", "operator": "EQ", "value": title}]}
            ]
        }
        return [
            r["id"]
            for r in http.post("/crm/v3/objects/contacts/search", json=body).json()["results"]
        ]

    http.patch(
        "/crm/v3/objects/contacts/1001", json={"properties": {"jobtitle": "Lag Tester"}}
    ).raise_for_status()
    created = http.post(
        "/crm/v3/objects/contacts",
        json={"properties": {"email": "lag@example.org", "jobtitle": "Lag Tester"}},
    )
    assert find("Lag Tester") == []
    assert (
        http.get("/crm/v3/objects/contacts/1001", params={"properties": "jobtitle"}).json()[
            "properties"
        ]["jobtitle"]
        == "Lag Tester"
    )
    time.sleep(0.7)
    assert find("Lag Tester") == ["1001", created.json()["id"]]


def test_request_log_and_reset(sandbox: SandboxHandle, http: httpx.Client) -> None:
    http.post(
        "/crm/v3/objects/contacts/batch/update",
        json={
            "inputs": [
                {"id": "1001", "properties": {"jobtitle": "X", "lifecyclestage": "subscriber"}}
            ]
        },
    )
    entry = sandbox.admin.requests(endpoint="POST /crm/v3/objects/{objectType}/batch/update")[-1]
    assert entry["method"] == "POST" and entry["path"] == "/crm/v3/objects/contacts/batch/update"
    assert entry["status"] == 200
    assert entry["body"]["ids"] == ["1001"] and entry["body"]["propertyNames"] == [
        "jobtitle",
        "lifecyclestage",
    ]
    assert sandbox.admin.contact("1001")["jobtitle"] == "X"
    sandbox.admin.reset()
    assert sandbox.admin.requests() == []
    assert sandbox.admin.contact("1001")["jobtitle"] != "X"
    assert sandbox.admin.stats()["totalRequests"] == 0


def test_start_sandbox_validates_and_is_deterministic() -> None:
    with pytest.raises(ValueError):
        start_sandbox(contacts=10, tier="platinum")
    with pytest.raises(ValueError):
        FaultSpec.parse("500=2")
    emails = []
    for _ in range(2):
        with start_sandbox(contacts=30, seed=3, tier="starter", token="t0k", faults="500=0") as sb:
            assert sb.token == "t0k"
            r = httpx.get(
                f"{sb.base_url}/crm/v3/objects/contacts",
                params={"limit": 30, "properties": "email,jobtitle"},
                headers={"Authorization": "Bearer t0k"},
            )
            emails.append(
                [
                    (c["properties"]["email"], c["properties"]["jobtitle"])
                    for c in r.json()["results"]
                ]
            )
    assert emails[0] == emails[1] and len(emails[0]) == 30


def test_missing_scope_is_hubspot_403_naming_the_scope(
    sandbox: SandboxHandle, http: httpx.Client
) -> None:
    sandbox.admin.set_scopes(["crm.objects.contacts.read", "crm.schemas.contacts.read"])
    assert http.get("/crm/v3/objects/contacts/1001").status_code == 200
    assert http.post("/crm/v3/objects/contacts/search", json={}).status_code == 200
    denied = http.patch("/crm/v3/objects/contacts/1001", json={"properties": {"jobtitle": "x"}})
    assert denied.status_code == 403
    body = denied.json()
    assert body["category"] == "MISSING_SCOPES" and body["status"] == "error"
    assert body["errors"][0]["context"] == {
        "requiredGranularScopes": ["crm.objects.contacts.write"]
    }
    assert http.get("/crm/v3/owners").json()["errors"][0]["context"]["requiredGranularScopes"] == [
        "crm.objects.owners.read"
    ]
    assert sandbox.admin.contact("1001")["jobtitle"] != "x"
    sandbox.admin.reset()  # grants every scope again
    assert http.get("/crm/v3/owners").status_code == 200
