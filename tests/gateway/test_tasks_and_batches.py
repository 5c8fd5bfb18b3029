"""TaskCreator's decisions, batch-answer parsing and endpoint paths, with in-memory fakes."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from leadscore.gateway.batch_results import write_report
from leadscore.gateway.calls import Reply
from leadscore.gateway.endpoints import Endpoints
from leadscore.gateway.errors import AuthError, TransientError, ValidationError
from leadscore.gateway.port import TaskSpec
from leadscore.gateway.retry import RetryPolicy
from leadscore.gateway.tasks import TaskCreator


def spec(n: int) -> TaskSpec:
    return TaskSpec(f"k{n}", str(1000 + n), None, "s", "b", 0)


class FakeHubSpotTasks:
    """Tasks by key; `create` applies or fails according to a script of outcomes."""

    def __init__(self, script: list[str] | None = None, reject: set[str] | None = None) -> None:
        self.tasks: dict[str, str] = {}
        self.script = list(script or [])
        self.reject = reject or set()
        self.create_calls: list[list[str]] = []
        self.lookups = 0

    def lookup(self, specs: Sequence[TaskSpec]) -> dict[str, str]:
        self.lookups += 1
        return {s.key: self.tasks[s.key] for s in specs if s.key in self.tasks}

    def create(self, specs: Sequence[TaskSpec]) -> Reply:
        self.create_calls.append([s.key for s in specs])
        step = self.script.pop(0) if self.script else "ok"
        if step == "refused":
            raise TransientError("refused", maybe_applied=False)
        if any(s.key in self.reject for s in specs):
            raise ValidationError("400 bad input", status=400)
        if step == "fatal":
            raise AuthError("401", status=401)
        for s in specs:
            self.tasks[s.key] = f"t-{s.key}"
        if step == "lost":
            raise TransientError("dropped after write", maybe_applied=True)
        results = [
            {"id": self.tasks[s.key], "properties": {"leadscore_task_key": s.key}} for s in specs
        ]
        return Reply(201, {}, {"results": results})


def creator(fake: FakeHubSpotTasks, max_retries: int = 3) -> TaskCreator:
    return TaskCreator(
        lookup=fake.lookup,
        create=fake.create,
        retry=RetryPolicy(max_retries=max_retries, rng=lambda: 0.0),
        sleep=lambda s: None,
    )


def test_lost_answer_is_looked_up_not_resent() -> None:
    fake = FakeHubSpotTasks(script=["lost"])
    outcomes = creator(fake).create([spec(1), spec(2)])
    assert [(o.key, o.task_id, o.created) for o in outcomes] == [
        ("k1", "t-k1", True),
        ("k2", "t-k2", True),
    ]
    assert fake.create_calls == [["k1", "k2"]]


def test_existing_keys_are_reported_and_not_created_again() -> None:
    fake = FakeHubSpotTasks()
    fake.tasks["k1"] = "old"
    outcomes = creator(fake).create([spec(1), spec(2)])
    assert [(o.task_id, o.created) for o in outcomes] == [("old", False), ("t-k2", True)]
    assert fake.create_calls == [["k2"]]


def test_certain_failures_are_resent_as_is() -> None:
    fake = FakeHubSpotTasks(script=["refused", "ok"])
    outcomes = creator(fake).create([spec(1)])
    assert outcomes[0].created and fake.create_calls == [["k1"], ["k1"]]


def test_whole_batch_400_is_bisected_to_the_bad_task() -> None:
    fake = FakeHubSpotTasks(reject={"k3"})
    outcomes = creator(fake).create([spec(n) for n in range(1, 7)])
    bad = [o for o in outcomes if o.error]
    assert [o.key for o in bad] == ["k3"] and "400" in (bad[0].error or "")
    assert sorted(fake.tasks) == ["k1", "k2", "k4", "k5", "k6"]


def test_giving_up_reports_an_error_per_task_and_creates_nothing_twice() -> None:
    fake = FakeHubSpotTasks(script=["refused", "refused", "refused"])
    outcomes = creator(fake, max_retries=1).create([spec(1), spec(2)])
    assert [(o.task_id, o.created, bool(o.error)) for o in outcomes] == [(None, False, True)] * 2
    assert fake.create_calls == [["k1", "k2"], ["k1", "k2"]] and not fake.tasks


def test_fatal_errors_propagate() -> None:
    fake = FakeHubSpotTasks(script=["fatal"])
    with pytest.raises(AuthError):
        creator(fake).create([spec(1)])


def test_write_report_reads_207_errors_by_context_id() -> None:
    data = {
        "results": [{"id": "1"}, {"id": "3"}],
        "errors": [
            {"message": "bad value", "category": "VALIDATION_ERROR", "context": {"id": ["2"]}},
            {
                "message": "Could not get some CONTACT objects",
                "category": "OBJECT_NOT_FOUND",
                "context": {"ids": ["9"]},
            },
        ],
    }
    report = write_report(["1", "2", "3", "9", "4"], data)
    assert report.succeeded == ["1", "3"]
    assert [(f.contact_id, f.category) for f in report.failed] == [
        ("2", "VALIDATION_ERROR"),
        ("9", "OBJECT_NOT_FOUND"),
        ("4", "MISSING"),
    ]


def test_the_api_version_lives_in_one_setting() -> None:
    v3 = Endpoints("v3")
    assert v3.batch("contacts", "update") == "/crm/v3/objects/contacts/batch/update"
    assert v3.property("contacts", "lifecyclestage") == "/crm/v3/properties/contacts/lifecyclestage"
    dated = Endpoints("2026-03")
    assert dated.batch("contacts", "update") == "/crm/objects/2026-03/contacts/batch/update"
    assert dated.owners() == "/crm/owners/2026-03"
    assert dated.search("tasks") == "/crm/objects/2026-03/tasks/search"
