"""The planner: one contact's evaluation against its HubSpot values -> typed actions."""

from __future__ import annotations

import pytest
from tests.sync.fakes import PointsModel

from leadscore.records import Contact, Owner
from leadscore.rules.evaluation import Evaluation
from leadscore.state import ContactState
from leadscore.sync.actions import CreateTask, Hold, SetProperty, StageBackward, StageForward
from leadscore.sync.plan import PlanContext, plan_contact, same_value, task_key

NOW = 1_700_000_000_000
MODEL = PointsModel()
CTX = PlanContext(now_ms=NOW, rules_version="v9", default_owner_id=None)


def _contact(cid: str = "1", **props: str | None) -> Contact:
    base: dict[str, str | None] = {"email": f"c{cid}@example.com", "lifecyclestage": "lead"}
    base.update(props)
    return Contact(cid, base)


def _plan(
    contact: Contact, state: ContactState | None = None, ctx: PlanContext = CTX
) -> tuple[Evaluation, list[object]]:
    evaluation = MODEL.evaluate(contact, NOW)
    plan = plan_contact(contact, evaluation, state or ContactState(contact.id), ctx)
    return evaluation, list(plan.actions)


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        ("42", "42", True),
        ("42.0", "42", True),
        ("1.50", "1.5", True),
        (" text ", "text", True),
        (None, "", True),
        (None, "0", False),
        ("", "0", False),
        ("41.9", "42", False),
        ("A1", "a1", False),
        ("nan", "nan", True),
        ("nan", "1", False),
    ],
)
def test_values_compare_the_way_hubspot_returns_them(
    before: str | None, after: str, same: bool
) -> None:
    assert same_value(before, after) is same


def test_a_contact_already_in_line_gets_no_action() -> None:
    contact = _contact(
        points="10",
        leadscore_total="10.0",
        leadscore_reasons="points property (+10)",
        lifecyclestage="lead",
    )
    _, actions = _plan(contact)
    assert actions == []


def test_changed_scores_become_property_writes_with_before_after_and_reasons() -> None:
    contact = _contact(points="20", leadscore_total="5", leadscore_reasons=None)
    _, actions = _plan(contact)
    assert actions == [
        SetProperty(
            "1", "c1@example.com", "leadscore_total", "5", "20", ("points property (+20)",)
        ),
        SetProperty(
            "1",
            "c1@example.com",
            "leadscore_reasons",
            None,
            "points property (+20)",
            ("points property (+20)",),
        ),
    ]


def test_stage_moves_forward_and_backward() -> None:
    _, up = _plan(_contact(points="40", lifecyclestage="lead"))
    (fwd,) = [a for a in up if isinstance(a, StageForward)]
    assert (fwd.before, fwd.after, fwd.reasons[0]) == (
        "lead",
        "marketingqualifiedlead",
        "total 40 >= 35",
    )

    _, down = _plan(_contact(points="40", lifecyclestage="salesqualifiedlead"))
    (back,) = [a for a in down if isinstance(a, StageBackward)]
    assert (back.before, back.after) == ("salesqualifiedlead", "marketingqualifiedlead")
    assert not any(isinstance(a, CreateTask) for a in down)


def test_crossing_into_sql_creates_one_task_for_the_owner_with_score_and_reasons() -> None:
    contact = _contact(points="70", hubspot_owner_id="501", firstname="Ada")
    state = ContactState("1", tasks_total=2)
    _, actions = _plan(contact, state)
    (task,) = [a for a in actions if isinstance(a, CreateTask)]
    assert task.key == task_key("1", "salesqualifiedlead", 3, "v9")
    assert task.key == "leadscore:1:salesqualifiedlead:3:v9"
    assert (task.owner_id, task.owner_note, task.resumed) == ("501", "contact owner", False)
    assert "Ada" in task.subject and "total 70" in task.subject
    assert "points property (+70)" in task.body
    assert task.due_ms == NOW + 24 * 3600 * 1000


def test_no_owner_goes_to_the_default_owner_or_is_reported() -> None:
    contact = _contact(points="70")
    with_default = PlanContext(now_ms=NOW, rules_version="v9", default_owner_id="900")
    plan = plan_contact(contact, MODEL.evaluate(contact, NOW), ContactState("1"), with_default)
    (task,) = [a for a in plan.actions if isinstance(a, CreateTask)]
    assert (task.owner_id, task.owner_note) == ("900", "default owner (contact has no owner)")
    assert plan.warning is None

    plan = plan_contact(contact, MODEL.evaluate(contact, NOW), ContactState("1"), CTX)
    (task,) = [a for a in plan.actions if isinstance(a, CreateTask)]
    assert task.owner_id is None
    assert plan.warning is not None and "contact 1" in plan.warning
    assert "LEADSCORE_DEFAULT_OWNER_ID" in plan.warning


def test_an_archived_owner_is_treated_as_no_owner() -> None:
    ctx = PlanContext(
        now_ms=NOW, rules_version="v9", default_owner_id="900", archived_owner_ids={"501"}
    )
    contact = _contact(points="70", hubspot_owner_id="501")
    _, actions = _plan(contact, ctx=ctx)
    (task,) = [a for a in actions if isinstance(a, CreateTask)]
    assert (task.owner_id, task.owner_note) == ("900", "default owner (owner 501 is archived)")
    assert Owner("501", archived=True).archived


def test_an_sql_contact_staying_sql_gets_no_new_task() -> None:
    contact = _contact(points="70", lifecyclestage="salesqualifiedlead", hubspot_owner_id="5")
    _, actions = _plan(contact, ContactState("1", tasks_total=1))
    assert not any(isinstance(a, CreateTask) for a in actions)


def test_excluded_contacts_are_scored_but_held_with_the_reason() -> None:
    contact = _contact(points="90", lifecyclestage="customer", leadscore_total="10")
    _, actions = _plan(contact)
    kinds = [type(a) for a in actions]
    assert kinds == [SetProperty, SetProperty, Hold]
    hold = actions[-1]
    assert isinstance(hold, Hold)
    assert hold.reasons == ("excluded: stage customer is protected",)
    assert hold.before == "customer"


def test_an_unconfirmed_task_from_a_crashed_run_is_finished_with_its_own_key() -> None:
    # The stage already reached SQL, but the run died before the task was confirmed.
    contact = _contact(points="70", lifecyclestage="salesqualifiedlead", hubspot_owner_id="5")
    state = ContactState("1", open_task_key="leadscore:1:salesqualifiedlead:1:v8", tasks_total=1)
    _, actions = _plan(contact, state)
    (task,) = [a for a in actions if isinstance(a, CreateTask)]
    assert (task.key, task.resumed) == ("leadscore:1:salesqualifiedlead:1:v8", True)

    # The run died before the stage write: the crossing is planned again with the same key.
    contact = _contact(points="70", lifecyclestage="marketingqualifiedlead", hubspot_owner_id="5")
    _, actions = _plan(contact, state)
    (task,) = [a for a in actions if isinstance(a, CreateTask)]
    assert task.key == "leadscore:1:salesqualifiedlead:1:v8"


def test_an_unconfirmed_task_is_cancelled_when_the_contact_no_longer_qualifies() -> None:
    contact = _contact(points="10", lifecyclestage="marketingqualifiedlead")
    state = ContactState("1", open_task_key="k-open", tasks_total=1)
    evaluation = MODEL.evaluate(contact, NOW)
    plan = plan_contact(contact, evaluation, state, CTX)
    assert plan.cancel_task_key == "k-open"
    assert not any(isinstance(a, CreateTask) for a in plan.actions)


def test_an_unknown_target_stage_is_held_not_written() -> None:
    contact = _contact(points="70")
    evaluation = MODEL.evaluate(contact, NOW)
    odd = Evaluation(
        contact_id="1",
        scores=evaluation.scores,
        stage=type(evaluation.stage)("hotlead", "rules say so"),
        properties=evaluation.properties,
    )
    plan = plan_contact(contact, odd, ContactState("1"), CTX)
    (hold,) = [a for a in plan.actions if isinstance(a, Hold)]
    assert "not a lifecycle stage" in hold.reasons[0]
    assert not any(isinstance(a, StageForward | StageBackward | CreateTask) for a in plan.actions)


def test_a_contact_left_stageless_by_an_interrupted_backward_move_is_finished() -> None:
    # HubSpot shows no stage: our clear landed, our set did not. The rules still want MQL.
    contact = _contact(points="40", lifecyclestage="")
    state = ContactState("1", cleared_from="salesqualifiedlead", tasks_total=1)
    _, actions = _plan(contact, state)
    (move,) = [a for a in actions if isinstance(a, StageForward)]
    assert (move.before, move.after) == (None, "marketingqualifiedlead")
    assert move.reasons[0].startswith("finishing an interrupted move from salesqualifiedlead")
    assert not any(isinstance(a, CreateTask) for a in actions)


def test_an_interrupted_clear_is_undone_when_the_rules_now_keep_the_stage() -> None:
    contact = _contact(points="70", lifecyclestage="", hubspot_owner_id="5")
    state = ContactState("1", cleared_from="salesqualifiedlead", tasks_total=1)
    evaluation = MODEL.evaluate(_contact(points="70", lifecyclestage="salesqualifiedlead"), NOW)
    plan = plan_contact(contact, evaluation, state, CTX)
    (move,) = [a for a in plan.actions if isinstance(a, StageForward)]
    assert move.after == "salesqualifiedlead"
    # Back where it was: not a new crossing, so no second task.
    assert not any(isinstance(a, CreateTask) for a in plan.actions)
