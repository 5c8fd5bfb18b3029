"""Contract tests: the real gateway over real HTTP against the sandbox (limits and faults on)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from tests.gateway.conftest import GatewayFactory
from tests.gateway.interposer import Action, Answer, Forward, Interposer, LoseAnswer, Stall
from tests.gateway.sandbox_checks import requests_to, task_key_counts

from leadscore.gateway import AuthError, GatewayError, RateLimitError, ScopeError, TransientError
from leadscore.gateway.http_gateway import _timestamp_ms
from leadscore.gateway.port import ContactUpdate, PropertySpec, StageMove, TaskSpec
from leadscore.gateway.ratelimit import RateLimits
from leadscore.records import Contact
from leadscore.sandbox import SandboxHandle
from leadscore.settings import Tier

PROPS = ["email", "lifecyclestage", "hubspot_owner_id", "lastmodifieddate", "jobtitle"]
# About 10% of requests fail (5xx, dropped connections) plus bursts of 429s.
MIXED_FAULTS = "500=0.03,502=0.02,503=0.02,504=0.01,drop=0.02,429burst=0.01x4"
SCORE = PropertySpec("leadscore_score", "Lead score")
REASONS = PropertySpec("leadscore_reasons", "Top reasons", type="string", field_type="textarea")


def stamp(contact: Contact) -> str:
    return str(contact.properties["lastmodifieddate"])


def test_list_and_search_return_every_contact_once(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    gw = make_gateway()
    pages = list(gw.iter_contacts(PROPS))
    listed = [c for page in pages for c in page]
    assert all(len(page) <= 100 for page in pages)
    assert len(listed) == 1500 == len({c.id for c in listed})
    assert all(set(PROPS) <= set(c.properties) for c in listed)
    searched = [c for page in gw.iter_contacts_modified_since(0, PROPS) for c in page]
    assert {c.id for c in searched} == {c.id for c in listed}
    assert len(searched) == len({c.id for c in searched})
    stamps = [_timestamp_ms(stamp(c)) for c in searched]
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    # The watermark is inclusive and exact.
    watermark = stamps[len(stamps) // 2]
    assert watermark is not None
    newer = [c for page in gw.iter_contacts_modified_since(watermark, PROPS) for c in page]
    expected = {c.id for c in listed if (_timestamp_ms(stamp(c)) or 0) >= watermark}
    assert {c.id for c in newer} == expected
    searches = requests_to(fresh, "/crm/v3/objects/contacts/search")
    assert searches and all(e["body"]["after"] == 0 for e in searches)  # never near the cap


def test_batch_read_and_single_get(make_gateway: GatewayFactory) -> None:
    gw = make_gateway()
    ids = [str(1001 + i) for i in range(0, 250)] + ["1001", "424242"]
    got = gw.read_contacts(ids, ["email", "jobtitle"])
    assert sorted(c.id for c in got) == sorted(set(ids) - {"424242"})
    one = got[0]
    single = gw.get_contact(one.id, ["email"])
    assert single is not None and single.id == one.id
    assert single.properties["email"] == one.properties["email"]
    by_email = gw.get_contact(str(one.properties["email"]).upper(), ["email"])
    assert by_email is not None and by_email.id == one.id
    assert gw.get_contact("424242", ["email"]) is None
    assert gw.get_contact("nobody@nowhere.example", ["email"]) is None


def test_owners_forms_submissions_and_email_events(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    added = fresh.admin.add_owners(
        [{"email": "gone@example.com", "firstName": "Gone", "lastName": "Away", "archived": True}]
    )
    gw = make_gateway()
    owners = {o.id: o for o in gw.list_owners()}
    gone = owners[str(added[0]["id"])]
    assert gone.archived and gone.email == "gone@example.com"
    assert any(not o.archived for o in owners.values())

    forms = gw.list_forms()
    assert {(f.id, f.name) for f in forms} == {
        (f["id"], f["name"]) for f in fresh.admin.info()["forms"]
    }
    all_subs = list(gw.iter_form_submissions(forms[0].id, 0))
    assert all_subs, "the seeded portal has submissions"
    times = [s.submitted_at for s in all_subs]
    assert times == sorted(times, reverse=True)
    since = times[len(times) // 2]
    recent = list(gw.iter_form_submissions(forms[0].id, since))
    assert recent == [s for s in all_subs if s.submitted_at >= since]

    now = int(time.time() * 1000)
    email = str(fresh.admin.contact("1001")["email"])
    fresh.admin.add_email_events(
        [
            {"type": "OPEN", "contactId": "1001", "created": now - 5_000},
            {"type": "CLICK", "contactId": "1001", "created": now - 4_000},
            {"type": "OPEN", "contactId": "1001", "created": now + 60_000},
        ]
    )
    events = [e for e in gw.iter_email_events(now - 10_000, now) if e.recipient == email.lower()]
    assert sorted(e.type for e in events) == ["CLICK", "OPEN"]
    assert all(now - 10_000 <= e.created < now for e in events)


def test_lifecycle_stages_follow_the_property_options(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    stages = make_gateway().lifecycle_stages()
    raw = httpx.get(
        f"{fresh.base_url}/crm/v3/properties/contacts/lifecyclestage",
        headers={"Authorization": f"Bearer {fresh.token}"},
    ).json()["options"]
    expected = [o["value"] for o in sorted(raw, key=lambda o: o["displayOrder"])]
    assert [s.value for s in stages.stages] == expected
    assert stages.index("lead") < stages.index("customer")


def test_ensure_properties_creates_what_is_missing_once(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    gw = make_gateway()
    gw.ensure_properties([SCORE, REASONS])
    gw.ensure_properties([SCORE, REASONS])
    creates = [e for e in fresh.admin.requests(method="POST") if "/properties/" in e["path"]]
    assert len(creates) == 4  # group, two contact properties, the task key property: once each
    headers = {"Authorization": f"Bearer {fresh.token}"}
    score = httpx.get(
        f"{fresh.base_url}/crm/v3/properties/contacts/leadscore_score", headers=headers
    ).json()
    assert (score["type"], score["groupName"]) == ("number", "leadscore")
    reasons = httpx.get(
        f"{fresh.base_url}/crm/v3/properties/contacts/leadscore_reasons", headers=headers
    ).json()
    assert (reasons["type"], reasons["fieldType"]) == ("string", "textarea")
    key = httpx.get(f"{fresh.base_url}/crm/v3/properties/tasks/leadscore_task_key", headers=headers)
    assert key.status_code == 200


def test_batch_update_reports_each_contact_and_one_bad_record_spares_its_neighbours(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    with Interposer(fresh.base_url, lambda m, p, b: Forward()) as proxy:
        gw = make_gateway(base_url=proxy.base_url)
        gw.ensure_properties([SCORE])
        updates = [ContactUpdate(str(1001 + i), {"leadscore_score": str(i)}) for i in range(150)]
        updates += [
            ContactUpdate("1005", {"leadscore_score": "not a number"}),  # replaces the earlier 1005
            ContactUpdate("424242", {"leadscore_score": "1"}),  # does not exist
        ]
        report = gw.update_contacts(updates)
    assert sorted(report.succeeded) == sorted(str(1001 + i) for i in range(150) if i != 4)
    failed = {f.contact_id: f for f in report.failed}
    assert set(failed) == {"1005", "424242"}
    assert "not a valid number" in failed["1005"].message
    assert failed["424242"].category == "OBJECT_NOT_FOUND"
    assert fresh.admin.contact("1006")["leadscore_score"] == "5"
    batches = [f.input_ids() for f in proxy.forwarded if f.path.endswith("/batch/update")]
    assert sorted(len(ids) for ids in batches) == [51, 100]
    assert all(len(set(ids)) == len(ids) for ids in batches)
    assert sorted(i for ids in batches for i in ids) == sorted(
        {str(1001 + i) for i in range(150)} | {"424242"}
    )


def test_whole_batch_400_is_bisected_to_the_culprit(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    def reject_batches_with_poison(method: str, path: str, body: bytes) -> Action:
        if path.endswith("/batch/update") and b'"1077"' in body:
            return Answer(
                400,
                {
                    "status": "error",
                    "message": "Property values were not valid",
                    "category": "VALIDATION_ERROR",
                },
            )
        return Forward()

    with Interposer(fresh.base_url, reject_batches_with_poison) as proxy:
        gw = make_gateway(base_url=proxy.base_url)
        gw.ensure_properties([SCORE])
        report = gw.update_contacts(
            [ContactUpdate(str(1001 + i), {"leadscore_score": "7"}) for i in range(100)]
        )
    assert [f.contact_id for f in report.failed] == ["1077"]
    assert report.failed[0].status == 400
    assert len(report.succeeded) == 99
    assert fresh.admin.contact("1078")["leadscore_score"] == "7"
    rejected = [s for s in proxy.seen if s[2] == "Answer"]
    assert len(rejected) <= 8  # log2(100) + 1 halvings down to the single bad input


def test_backward_stage_moves_clear_then_set_in_separate_later_requests(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    gw = make_gateway()
    gw.move_stages(
        [
            StageMove("1010", "customer", backward=False),
            StageMove("1011", "customer", backward=False),
        ]
    )
    before = len(fresh.admin.requests())
    report = gw.move_stages(
        [
            StageMove("1010", "lead", backward=True),
            StageMove("1011", "lead", backward=True),
            StageMove("1012", "evangelist", backward=False),
        ]
    )
    assert sorted(report.succeeded) == ["1010", "1011", "1012"] and not report.failed
    writes = [e for e in fresh.admin.requests()[before:] if e["path"].endswith("/batch/update")]
    assert len(writes) == 2
    first, second = writes
    assert sorted(zip(first["body"]["ids"], first["body"]["lifecyclestages"], strict=True)) == [
        ("1010", ""),
        ("1011", ""),
        ("1012", "evangelist"),
    ]
    assert sorted(zip(second["body"]["ids"], second["body"]["lifecyclestages"], strict=True)) == [
        ("1010", "lead"),
        ("1011", "lead"),
    ]
    assert first["seq"] < second["seq"]
    assert fresh.admin.contact("1010")["lifecyclestage"] == "lead"
    assert fresh.admin.rejected_stage_moves() == []


def _tasks(n: int, prefix: str = "sql") -> list[TaskSpec]:
    due = int(time.time() * 1000) + 86_400_000
    return [
        TaskSpec(f"{prefix}:{1001 + i}", str(1001 + i), None, "Follow up", "Crossed into SQL", due)
        for i in range(n)
    ]


def test_tasks_are_created_once_per_key_and_associated(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    gw = make_gateway()
    gw.ensure_properties([])
    first = gw.create_tasks(_tasks(3))
    assert [o.created for o in first] == [True, True, True]
    assert all(o.task_id for o in first)
    again = gw.create_tasks(_tasks(4))
    assert [o.created for o in again] == [False, False, False, True]
    assert [o.task_id for o in again[:3]] == [o.task_id for o in first]
    assert task_key_counts(fresh) == {f"sql:{1001 + i}": 1 for i in range(4)}
    assoc = httpx.get(
        f"{fresh.base_url}/crm/v4/objects/contacts/1001/associations/tasks",
        headers={"Authorization": f"Bearer {fresh.token}"},
    ).json()["results"]
    assert [str(a["toObjectId"]) for a in assoc] == [first[0].task_id]


@pytest.mark.parametrize("failure", [LoseAnswer(), Stall(2.5)], ids=["lost-answer", "timeout"])
def test_a_create_whose_answer_is_lost_is_not_repeated(
    make_gateway: GatewayFactory, fresh: SandboxHandle, failure: Action
) -> None:
    hits = {"n": 0}

    def lose_first_create(method: str, path: str, body: bytes) -> Action:
        if path.endswith("/tasks/batch/create"):
            hits["n"] += 1
            if hits["n"] == 1:
                return failure
        return Forward()

    with Interposer(fresh.base_url, lose_first_create) as proxy:
        gw = make_gateway(base_url=proxy.base_url, request_timeout_seconds=1.0)
        gw.ensure_properties([])
        outcomes = gw.create_tasks(_tasks(5, prefix="lost"))
    assert [o.created for o in outcomes] == [True] * 5
    assert all(o.task_id and o.error is None for o in outcomes)
    assert hits["n"] == 1  # found by key after the failure: never sent again
    assert task_key_counts(fresh) == {f"lost:{1001 + i}": 1 for i in range(5)}


def test_wrong_token_is_a_one_line_auth_error_without_the_token(
    make_gateway: GatewayFactory,
) -> None:
    token = "pat-na1-deadbeef-0000-1111-2222-333344445555"
    gw = make_gateway(token=token)
    with pytest.raises(AuthError) as info:
        gw.read_contacts(["1001"], ["email"])
    message = str(info.value)
    assert token not in message and "\n" not in message
    assert "private app token (HUBSPOT_ACCESS_TOKEN)" in message and "401" in message
    assert gw.stats.retries == 0  # never retried


def test_missing_scope_names_the_scope(make_gateway: GatewayFactory, fresh: SandboxHandle) -> None:
    def deny_task_writes(method: str, path: str, body: bytes) -> Action:
        if path.endswith("/tasks/batch/create"):
            return Answer(
                403,
                {
                    "status": "error",
                    "message": "This app hasn't been granted all required scopes to make this call.",
                    "category": "MISSING_SCOPES",
                    "errors": [
                        {"context": {"requiredGranularScopes": ["crm.objects.tasks.write"]}}
                    ],
                },
            )
        return Forward()

    with Interposer(fresh.base_url, deny_task_writes) as proxy:
        gw = make_gateway(base_url=proxy.base_url)
        gw.ensure_properties([])
        with pytest.raises(ScopeError, match=r"lacks scope crm\.objects\.tasks\.write"):
            gw.create_tasks(_tasks(1))


def test_every_operation_succeeds_or_raises_a_classified_error_under_faults(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    baseline = make_gateway()
    expected_ids = {c.id for page in baseline.iter_contacts(["email"]) for c in page}
    fresh.admin.set_faults(MIXED_FAULTS)
    gw = make_gateway()
    now = int(time.time() * 1000)
    operations: dict[str, Any] = {
        "ensure_properties": lambda: gw.ensure_properties([SCORE, REASONS]),
        "iter_contacts": lambda: [c for p in gw.iter_contacts(PROPS) for c in p],
        "modified_since": lambda: [c for p in gw.iter_contacts_modified_since(0, PROPS) for c in p],
        "read_contacts": lambda: gw.read_contacts([str(1001 + i) for i in range(300)], PROPS),
        "get_contact": lambda: gw.get_contact("1001", PROPS),
        "list_owners": gw.list_owners,
        "list_forms": gw.list_forms,
        "submissions": lambda: list(gw.iter_form_submissions(gw.list_forms()[0].id, 0)),
        "email_events": lambda: list(gw.iter_email_events(now - 90 * 86_400_000, now)),
        "lifecycle_stages": gw.lifecycle_stages,
        "update_contacts": lambda: gw.update_contacts(
            [ContactUpdate(str(1001 + i), {"leadscore_score": "3"}) for i in range(300)]
        ),
        "move_stages": lambda: gw.move_stages([StageMove("1020", "other", backward=False)]),
        "create_tasks": lambda: gw.create_tasks(_tasks(20, prefix="faulty")),
    }
    results: dict[str, Any] = {}
    for name, op in operations.items():
        try:
            results[name] = op()
        except GatewayError as exc:  # allowed, but must be classified
            results[name] = exc
    unclassified = {
        k: v
        for k, v in results.items()
        if isinstance(v, Exception) and not isinstance(v, GatewayError)
    }
    assert not unclassified
    # With retries, every one of them actually succeeded.
    assert not [k for k, v in results.items() if isinstance(v, Exception)]
    assert {c.id for c in results["iter_contacts"]} == expected_ids
    assert {c.id for c in results["modified_since"]} == expected_ids
    assert len(results["read_contacts"]) == 300
    assert len(results["update_contacts"].succeeded) == 300
    assert all(o.created and o.task_id for o in results["create_tasks"])
    stats = fresh.admin.stats()
    injected = sum(stats["faultsInjected"].values())
    assert injected >= 5
    assert gw.stats.retries >= injected - 2  # each fault cost one retry (ambiguous task
    # creates are reconciled by lookup instead)
    fresh.admin.set_faults(None)
    assert task_key_counts(fresh) == {f"faulty:{1001 + i}": 1 for i in range(20)}
    assert all(
        fresh.admin.contact(str(1001 + i))["leadscore_score"] == "3" for i in range(0, 300, 37)
    )


def test_limiter_learns_a_lower_limit_from_headers_and_never_trips_it(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    fresh.admin.set_limits("professional", per_ten_seconds=6)
    gw = make_gateway(tier=Tier.professional, limits=RateLimits.for_tier(Tier.professional))
    started = time.monotonic()
    for i in range(9):
        assert gw.get_contact(str(1001 + i), ["email"]) is not None
    elapsed = time.monotonic() - started
    assert fresh.admin.stats()["rateLimited"] == 0
    assert elapsed >= 10.0  # the 7th call waited for the first to leave the 10 s window
    assert gw.stats.daily_remaining is not None and gw.stats.daily_remaining < 625_000


def test_search_is_paced_at_five_per_second(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    fresh.admin.set_limits("professional")
    gw = make_gateway(tier=Tier.professional, limits=RateLimits.for_tier(Tier.professional))
    started = time.monotonic()
    found = [c for p in gw.iter_contacts_modified_since(0, ["email"]) for c in p]
    assert len(found) == 1500
    searches = len(requests_to(fresh, "/contacts/search"))
    assert searches >= 8
    assert time.monotonic() - started >= (searches - 5) / 5 - 0.1
    assert fresh.admin.stats()["rateLimited"] == 0


def test_daily_budget_is_respected_and_reported(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    fresh.admin.set_limits("starter", daily=5)
    gw = make_gateway(tier=Tier.starter, limits=RateLimits.for_tier(Tier.starter))
    for i in range(5):
        gw.get_contact(str(1001 + i), ["email"])
    assert gw.stats.daily_remaining == 0
    sent = fresh.admin.stats()["totalRequests"]
    with pytest.raises(RateLimitError, match="daily") as info:
        gw.get_contact("1010", ["email"])
    assert not info.value.retriable
    assert fresh.admin.stats()["totalRequests"] == sent  # failed fast, nothing sent


def test_oversized_property_lists_search_ids_then_batch_read(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    many = PROPS + [f"custom_property_number_{i:03d}" for i in range(150)]
    gw = make_gateway()
    found = [c for p in gw.iter_contacts_modified_since(0, many) for c in p]
    assert len(found) == 1500 and all("email" in c.properties for c in found)
    bodies = [json.dumps(e["body"]) for e in requests_to(fresh, "/contacts/search")]
    assert bodies and all("custom_property_number" not in b for b in bodies)


def test_only_our_policy_retries_and_it_gives_up_after_max_retries(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    with Interposer(fresh.base_url, lambda m, p, b: Answer(503, {"message": "down"})) as proxy:
        gw = make_gateway(base_url=proxy.base_url, max_retries=2)
        with pytest.raises(TransientError, match="503"):
            gw.get_contact("1001", ["email"])
    assert len(proxy.seen) == 3  # one try + two retries: the SDK's urllib3 retry is off
    assert gw.stats.retries == 2 and gw.stats.calls == 3


@pytest.mark.parametrize("faults", ["503=1.0", "drop=1.0", "502=1.0"])
def test_when_hubspot_keeps_failing_every_operation_raises_a_classified_error(
    make_gateway: GatewayFactory, fresh: SandboxHandle, faults: str
) -> None:
    gw = make_gateway(max_retries=1)
    gw.ensure_properties([SCORE])
    fresh.admin.set_faults(faults)
    now = int(time.time() * 1000)
    operations: dict[str, Any] = {
        "ensure_properties": lambda: gw.ensure_properties([SCORE]),
        "iter_contacts": lambda: list(gw.iter_contacts(PROPS)),
        "modified_since": lambda: list(gw.iter_contacts_modified_since(0, PROPS)),
        "read_contacts": lambda: gw.read_contacts(["1001", "1002"], PROPS),
        "get_contact": lambda: gw.get_contact("1001", PROPS),
        "list_owners": gw.list_owners,
        "list_forms": gw.list_forms,
        "submissions": lambda: list(gw.iter_form_submissions("any-form", 0)),
        "email_events": lambda: list(gw.iter_email_events(now - 86_400_000, now)),
        "lifecycle_stages": gw.lifecycle_stages,
        "create_tasks": lambda: gw.create_tasks(_tasks(2, prefix="down")),
    }
    for name, op in operations.items():
        with pytest.raises(TransientError):
            op()
        assert name
    # Writes report per contact instead of raising, so the caller can record a partial run.
    report = gw.update_contacts([ContactUpdate("1001", {"leadscore_score": "1"})])
    assert [(f.contact_id, f.category) for f in report.failed] == [("1001", "TRANSIENT")]
    moved = gw.move_stages([StageMove("1001", "lead", backward=True)])
    assert not moved.succeeded and [f.contact_id for f in moved.failed] == ["1001"]


def test_a_batch_rejected_for_every_input_is_not_split_without_end(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    def reject_all_updates(method: str, path: str, body: bytes) -> Action:
        if path.endswith("/batch/update"):
            return Answer(
                400,
                {
                    "message": "Property leadscore_nope does not exist",
                    "category": "VALIDATION_ERROR",
                },
            )
        return Forward()

    with Interposer(fresh.base_url, reject_all_updates) as proxy:
        gw = make_gateway(base_url=proxy.base_url)
        report = gw.update_contacts(
            [ContactUpdate(str(1001 + i), {"leadscore_nope": "1"}) for i in range(100)]
        )
    assert not report.succeeded
    assert len(report.failed) == 100 and all("does not exist" in f.message for f in report.failed)
    assert len([s for s in proxy.seen if s[2] == "Answer"]) <= 41


def test_search_429s_are_classified_secondly_and_retried(
    make_gateway: GatewayFactory, fresh: SandboxHandle
) -> None:
    fresh.admin.set_limits("professional", per_ten_seconds=None)
    gw = make_gateway(tier=Tier.unlimited, max_retries=20)  # no local pacing: provoke them
    found = [c for p in gw.iter_contacts_modified_since(0, ["email"]) for c in p]
    assert len({c.id for c in found}) == 1500
    assert fresh.admin.stats()["rateLimitedByPolicy"].get("SECONDLY", 0) == gw.stats.rate_limited
    assert gw.stats.rate_limited > 0 and gw.stats.retries >= gw.stats.rate_limited
