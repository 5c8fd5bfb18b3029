"""Stage targets (thresholds, hysteresis, floor, promotion, qualifiers), exclusions, outputs."""

from __future__ import annotations

import pytest
from tests.rules.builders import NOW_MS, contact, form, model_from

from leadscore.gateway.port import PropertySpec
from leadscore.rules import Evaluation, ScoringModel

MODEL = """
forms:
  - {id: f-sales, name: Contact sales, tier: BOFU}
scores:
  fit:
    rules:
      - {name: fit points, map: {property: fit_points, values: {low: 5, mid: 20, high: 40}}}
  engagement:
    property: custom_engagement
    rules:
      - {name: engagement points, map: {property: eng_points, values: {low: 5, mid: 20, high: 40}}}
  total:
    includes: [fit, engagement]
    rules:
      - {name: manual, map: {property: manual, values: {minus: -100, plus: 100}}}
stages:
  score: total
  thresholds: {marketingqualifiedlead: 35, salesqualifiedlead: 65}
  hysteresis: 5
  floor: lead
  promote_from: [subscriber, none]
  qualify:
    - {name: asked sales, stage: salesqualifiedlead, when: {form_submitted: {form: Contact sales}}}
exclusions:
  employee_domains: [us.example]
  partner_domains: [partner.example]
  conditions:
    - {name: do not score, when: {property: hs_lead_status, equals: UNQUALIFIED}}
grid:
  rows: {score: fit, bands: [{label: A, min: 30}, {label: B, min: 10}, {label: C}]}
  columns: {score: engagement, bands: [{label: "1", min: 30}, {label: "2"}]}
reasons: {count: 2}
"""


@pytest.fixture(scope="module")
def model() -> ScoringModel:
    return model_from(MODEL)


def scored(
    model: ScoringModel, stage: str | None, fit: str = "low", eng: str = "low", **props: str | None
) -> Evaluation:
    return model.evaluate(
        contact(lifecyclestage=stage, fit_points=fit, eng_points=eng, **props), NOW_MS
    )


@pytest.mark.parametrize(
    ("current", "fit", "eng", "target"),
    [
        ("lead", "low", "low", "lead"),  # 10: stays on the floor
        ("lead", "mid", "low", "lead"),  # 25
        ("lead", "mid", "mid", "marketingqualifiedlead"),  # 40
        ("lead", "high", "mid", "marketingqualifiedlead"),  # 60: hysteresis only holds an SQL
        ("marketingqualifiedlead", "low", "low", "lead"),  # falls back to the floor
        ("salesqualifiedlead", "mid", "mid", "marketingqualifiedlead"),  # 40: below 60
        ("", "high", "high", "salesqualifiedlead"),  # no stage yet: promoted
        ("subscriber", "mid", "mid", "marketingqualifiedlead"),  # listed in promote_from
    ],
)
def test_threshold_targets(
    model: ScoringModel, current: str, fit: str, eng: str, target: str
) -> None:
    assert scored(model, current, fit, eng).stage.stage == target


def test_hysteresis_keeps_a_stage_until_the_score_drops_below_threshold_minus_margin(
    model: ScoringModel,
) -> None:
    hovering = scored(model, "salesqualifiedlead", "high", "mid")  # 60 = 65 - 5
    assert hovering.stage.stage == "salesqualifiedlead"
    assert hovering.stage.reason == (
        "total 60 ≥ 60 (salesqualifiedlead threshold 65 minus hysteresis 5, already salesqualifiedlead)"
    )
    fresh = scored(model, "marketingqualifiedlead", "high", "mid")
    assert fresh.stage.stage == "marketingqualifiedlead"
    assert fresh.stage.reason == "total 60 ≥ 35 (marketingqualifiedlead threshold)"
    dropping = scored(model, "marketingqualifiedlead", "mid", "low", manual=None)  # 25
    assert dropping.stage.stage == "lead"
    assert (
        dropping.stage.reason
        == "total 25 is below the marketingqualifiedlead threshold 35: back to lead"
    )


def test_unlisted_lower_and_unknown_stages_are_left_alone() -> None:
    model = model_from(MODEL.replace("promote_from: [subscriber, none]", "promote_from: []"))
    sub = scored(model, "subscriber", "high", "high")
    assert sub.stage.stage is None
    assert sub.stage.reason == "stage subscriber is not managed by the rules"
    unstaged = scored(model, None, "low", "low")
    assert unstaged.stage.stage is None
    assert unstaged.stage.reason == "stage (no stage) is not managed by the rules"


def test_promoted_stages_are_not_put_on_the_floor(model: ScoringModel) -> None:
    low = scored(model, "subscriber", "low", "low")
    assert low.stage.stage is None
    assert low.stage.reason == (
        "total 10 is below the marketingqualifiedlead threshold 35: subscriber is left as it is"
    )


def test_qualify_rule_sets_a_minimum_stage(model: ScoringModel) -> None:
    result = model.evaluate(
        contact(lifecyclestage="lead", fit_points="low", forms=(form("f-sales", 1),)), NOW_MS
    )
    assert result.stage.stage == "salesqualifiedlead"
    assert result.stage.reason == (
        "qualified by rule 'asked sales': submitted 'Contact sales' (BOFU) 1 day ago"
    )


@pytest.mark.parametrize(
    ("props", "exclusion"),
    [
        ({"lifecyclestage": "customer"}, "stage customer is protected"),
        ({"lifecyclestage": "opportunity"}, "stage opportunity is protected"),
        ({"email": "me@us.example"}, "employee domain us.example"),
        ({"email": "pat@eu.partner.example"}, "partner domain eu.partner.example"),
        ({"hs_email_optout": "true"}, "opted out of all email"),
        ({"hs_lead_status": "unqualified"}, "do not score: hs_lead_status = 'unqualified'"),
    ],
)
def test_exclusions_are_scored_but_never_moved(
    model: ScoringModel, props: dict[str, str], exclusion: str
) -> None:
    values = {"lifecyclestage": "lead", **props}
    result = scored(model, values.pop("lifecyclestage"), "high", "high", **values)
    assert result.exclusion == exclusion
    assert result.scores["total"].total == 80
    assert result.stage.stage is None
    assert result.stage.reason.startswith(f"excluded: {exclusion}")
    assert result.properties["leadscore_total"] == "80"


def test_grid_reasons_and_formatted_properties(model: ScoringModel) -> None:
    result = scored(model, "lead", "high", "low", manual="plus")
    assert result.grid == "A2"
    assert dict(result.properties) == {
        "leadscore_fit": "40",
        "custom_engagement": "5",
        "leadscore_total": "145",
        "leadscore_grid": "A2",
        "leadscore_reasons": "manual +100; fit points +40",
    }
    assert scored(model, "lead", "low", "high").grid == "C1"
    assert scored(model, "lead", "mid", "mid").grid == "B2"


def test_included_scores_show_as_contributions(model: ScoringModel) -> None:
    total = scored(model, "lead", "mid", "high").scores["total"]
    assert [(c.rule, c.points, c.reason) for c in total.contributions[:2]] == [
        ("score: fit", 20, "fit score 20"),
        ("score: engagement", 40, "engagement score 40"),
    ]


def test_model_metadata(model: ScoringModel) -> None:
    assert model.handoff_stage == "salesqualifiedlead"
    assert [p.name for p in model.output_properties] == [
        "leadscore_fit",
        "custom_engagement",
        "leadscore_total",
        "leadscore_grid",
        "leadscore_reasons",
    ]
    assert model.output_properties[3] == PropertySpec(
        "leadscore_grid",
        "Lead score grid",
        "string",
        "text",
        "fit band x engagement band (leadscore)",
    )
    for needed in (
        "email",
        "lifecyclestage",
        "hubspot_owner_id",
        "hs_object_id",
        "lastmodifieddate",
        "fit_points",
        "eng_points",
        "manual",
        "hs_lead_status",
        "hs_email_optout",
        "leadscore_total",
        "leadscore_grid",
    ):
        assert needed in model.contact_properties
    assert len(set(model.contact_properties)) == len(model.contact_properties)
    assert model.activity_horizon_days is None  # the qualify form rule has no window
    assert set(model.forms_by_id) == {"f-sales"}
    assert len(model.version) == 12
    assert model_from(MODEL).version == model.version
    assert model_from(MODEL.replace("hysteresis: 5", "hysteresis: 4")).version != model.version


def test_scores_format_stably() -> None:
    model = model_from(
        """
        scores:
          s:
            rules:
              - {name: a, when: {property: a, known: true}, points: 0.1}
              - {name: b, when: {property: b, known: true}, points: 0.2}
              - {name: c, when: {property: c, known: true}, points: 2.5}
        """
    )
    assert model.evaluate(contact(a="x", b="x"), NOW_MS).properties["leadscore_s"] == "0.3"
    assert model.evaluate(contact(c="x"), NOW_MS).properties["leadscore_s"] == "2.5"
    assert model.evaluate(contact(), NOW_MS).properties["leadscore_s"] == "0"
    no_stages = model.evaluate(contact(), NOW_MS)
    assert no_stages.stage.stage is None and no_stages.exclusion is None
