"""Every rules-file error is one line: `file:line: field.path: what is wrong`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tests.rules.builders import model_from

from leadscore.errors import ConfigError
from leadscore.rules import compile_model, load_model

S = "scores:\n  s:\n    rules:\n"


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        model_from(text)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.exit_code == 2
    return message


def rules(*lines: str) -> str:
    """A document with one score `s` whose rules are the given YAML lines (line 4 onwards)."""
    return S + "".join(f"      {line}\n" for line in lines)


CASES = [
    # --- document level ---------------------------------------------------------
    ("", "rules.yaml:1: (top level): the rules file is empty"),
    ("scores: [1\n", "rules.yaml:2: yaml: expected ',' or ']', but got '<stream end>'"),
    ("scores: {}\nscores: {}\n", "rules.yaml:2: scores: duplicate key"),
    ("- a\n", "rules.yaml:1: (top level): expected a mapping, got a list"),
    ("version: 1\n", "rules.yaml:1: (top level): missing scores: (at least one named score)"),
    ("version: 2\n" + S, "rules.yaml:1: version: unsupported rules format version; expected 1"),
    (
        "scorse: {}\n",
        "rules.yaml:1: scorse: unknown key 'scorse' (did you mean 'scores'?); expected one of: "
        "version, handoff_stage, activity_horizon_days, domains, forms, scores, stages, "
        "exclusions, grid, reasons",
    ),
    ("scores: {}\n", "rules.yaml:1: scores: at least one score is needed"),
    (
        "scores:\n  Fit: {rules: []}\n",
        "rules.yaml:2: scores.Fit: 'Fit' is not a valid internal name (lower-case letters, digits, _)",
    ),
    (
        "scores:\n  s: {}\n",
        "rules.yaml:2: scores.s: score 's' has no rules and includes no other score",
    ),
    (
        "scores:\n  s:\n    rulez: []\n",
        "rules.yaml:3: scores.s.rulez: unknown key 'rulez' (did you mean 'rules'?); expected one of: "
        "property, label, description, includes, groups, min, max, decay, rules",
    ),
    (
        "scores:\n  s:\n    rules: {a: 1}\n",
        "rules.yaml:3: scores.s.rules: expected a list, got a mapping",
    ),
    # --- rules -------------------------------------------------------------------
    (rules("- {points: 1}"), "rules.yaml:4: scores.s.rules[0]: a rule needs name:"),
    (
        rules("- {name: a, points: 1}"),
        "rules.yaml:4: scores.s.rules[0]: a rule needs exactly one of: when, each, bands, map",
    ),
    (
        rules("- {name: a, when: {property: x, known: true}, map: {property: y, values: {a: 1}}}"),
        "rules.yaml:4: scores.s.rules[0].map: a rule needs exactly one of: when, each, bands, map",
    ),
    (
        rules("- {name: a, wehn: {opted_out: true}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].wehn: unknown key 'wehn' (did you mean 'when'?); expected one of: "
        "name, description, group, when, each, bands, map, points, min, max, decay",
    ),
    (
        rules("- {name: a, when: {opted_out: true}}"),
        "rules.yaml:4: scores.s.rules[0]: a when rule needs points:",
    ),
    (
        rules("- {name: a, when: {opted_out: true}, points: lots}"),
        "rules.yaml:4: scores.s.rules[0].points: expected a number, got text 'lots'",
    ),
    (
        rules(
            "- {name: a, when: {opted_out: true}, points: 1}",
            "- {name: a, when: {opted_out: false}, points: 1}",
        ),
        "rules.yaml:5: scores.s.rules[1].name: duplicate rule name 'a' in score 's'",
    ),
    (
        rules("- {name: 'cap: x', when: {opted_out: true}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].name: rule names cannot start with 'cap':",
    ),
    (
        rules("- {name: a, group: g, when: {opted_out: true}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].group: unknown group 'g'; declare it under the score's groups:",
    ),
    (
        rules("- {name: a, when: {opted_out: true}, points: 1, min: 5, max: 2}"),
        "rules.yaml:4: scores.s.rules[0].min: min 5 is above max 2",
    ),
    (
        rules("- {name: a, map: {property: x, values: {a: 1}}, points: 3}"),
        "rules.yaml:4: scores.s.rules[0].points: a map rule gives points per value, not points:",
    ),
    # --- conditions ----------------------------------------------------------------
    (
        rules("- {name: a, when: {propety: x, equals: 1}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.propety: unknown condition 'propety' (did you mean 'property'?); "
        "expected one of: all, any, not, property, form_submitted, email_opened, email_clicked, "
        "email_event, free_email_domain, competitor_domain, keyboard_mash, uncapitalised_name, "
        "opted_out, inactive",
    ),
    (
        rules("- {name: a, when: {}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when: empty condition",
    ),
    (
        rules("- {name: a, when: [opted_out], points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when: expected a condition mapping with one of: all, any, not, "
        "property, form_submitted, email_opened, email_clicked, email_event, free_email_domain, "
        "competitor_domain, keyboard_mash, uncapitalised_name, opted_out, inactive",
    ),
    (
        rules("- {name: a, when: {opted_out: true, free_email_domain: true}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.free_email_domain: one condition per mapping: 'opted_out' "
        "and 'free_email_domain' given (combine them with all: or any:)",
    ),
    (
        rules("- {name: a, when: {all: []}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.all: all needs at least one condition",
    ),
    (
        rules("- {name: a, when: {property: x}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.property: property criterion needs an operator: equals, one_of, "
        "contains, matches, gt, gte, lt, lte, between, known, older_than_days, newer_than_days",
    ),
    (
        rules("- {name: a, when: {property: x, equals: 1, contains: 2}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.contains: one operator per property criterion: 'equals' and "
        "'contains' given (only gt/gte/lt/lte combine; use all: for the rest)",
    ),
    (
        rules("- {name: a, when: {property: x, eqals: 1}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.eqals: unknown key 'eqals' (did you mean 'equals'?); expected one "
        "of: property, equals, one_of, contains, matches, gt, gte, lt, lte, between, known, "
        "older_than_days, newer_than_days, ignore_case",
    ),
    (
        rules("- {name: a, when: {property: X-y, known: true}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.property: 'X-y' is not a valid internal name (lower-case letters, digits, _)",
    ),
    (
        rules("- {name: a, when: {property: x, gt: 1, ignore_case: true}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.ignore_case: ignore_case does not apply to gt",
    ),
    (
        rules("- {name: a, when: {property: x, one_of: []}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.one_of: one_of needs at least one value",
    ),
    (
        rules("- {name: a, when: {property: x, contains: []}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.contains: contains needs at least one value",
    ),
    (
        rules("- {name: a, when: {property: x, equals: ''}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.equals: must not be empty",
    ),
    (
        rules("- {name: a, when: {property: x, matches: 'a(b'}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.matches: bad regular expression 'a(b': missing ), unterminated subpattern at position 1",
    ),
    (
        rules("- {name: a, when: {property: x, between: [1]}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.between: between needs two numbers: [low, high]",
    ),
    (
        rules("- {name: a, when: {property: x, between: [9, 1]}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.between: between: low 9 is above high 1",
    ),
    (
        rules("- {name: a, when: {property: x, known: yes please}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.known: expected true or false, got text 'yes please'",
    ),
    (
        rules("- {name: a, when: {property: x, older_than_days: -1}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.older_than_days: must be at least 0, got -1",
    ),
    (
        rules("- {name: a, when: {property: x, gte: 1.5.2}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.gte: expected a number, got text '1.5.2'",
    ),
    (
        rules("- {name: a, when: {form_submitted: {form: x, within: 3}}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.form_submitted.within: unknown option 'within' (did you mean "
        "'within_days'?); expected one of: within_days, at_least, form, tier",
    ),
    (
        rules("- {name: a, when: {form_submitted: demo}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.form_submitted: expected true or a mapping with: within_days, at_least, form, tier",
    ),
    (
        rules("- {name: a, when: {email_opened: {within_days: 0}}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.email_opened.within_days: must be at least 1, got 0",
    ),
    (
        rules("- {name: a, when: {email_event: {campaign: 1}}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.email_event: email_event needs type: (OPEN, CLICK, BOUNCE, ...)",
    ),
    (
        rules("- {name: a, when: {form_submitted: {tier: BOFU}}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.form_submitted.tier: no form under `forms` has tier BOFU",
    ),
    (
        rules("- {name: a, when: {form_submitted: {tier: bottom}}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.form_submitted.tier: unknown form tier 'bottom'; expected one of: TOFU, MOFU, BOFU",
    ),
    (
        rules("- {name: a, when: {competitor_domain: true}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.competitor_domain: no competitor domains listed under domains.competitors",
    ),
    (
        rules("- {name: a, when: {keyboard_mash: false}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.keyboard_mash: use not: to negate a predicate; expected true or a list",
    ),
    (
        rules("- {name: a, when: {inactive: {}}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].when.inactive: inactive needs days:",
    ),
    # --- each, bands, map, decay ------------------------------------------------------
    (
        rules("- {name: a, each: {opted_out: true}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].each.opted_out: each needs an activity criterion (form_submitted, "
        "email_opened, email_clicked, email_event), not 'opted_out'",
    ),
    (
        rules("- {name: a, each: {email_opened: true, email_clicked: true}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].each: expected one activity criterion: form_submitted, email_opened, email_clicked, email_event",
    ),
    (
        rules("- {name: a, each: {email_opened: {at_least: 2}}, points: 1}"),
        "rules.yaml:4: scores.s.rules[0].each: each counts occurrences, so at_least does not apply",
    ),
    (
        rules(
            "- {name: a, bands: {property: v, ranges: [{min: 2, max: 5, points: 3}, {min: 5, points: 6}]}}"
        ),
        "rules.yaml:4: scores.s.rules[0].bands.ranges[1]: band 5+ overlaps band 2-5; bands must not overlap",
    ),
    (
        rules(
            "- {name: a, bands: {property: v, ranges: [{min: 6, points: 6}, {max: 10, points: 1}]}}"
        ),
        "rules.yaml:4: scores.s.rules[0].bands.ranges[0]: band 6+ overlaps band up to 10; bands must not overlap",
    ),
    (
        rules("- {name: a, bands: {ranges: [{min: 1, points: 1}]}}"),
        "rules.yaml:4: scores.s.rules[0].bands: bands need exactly one of property: or count:",
    ),
    (
        rules("- {name: a, bands: {property: v}}"),
        "rules.yaml:4: scores.s.rules[0].bands: bands need ranges: [{min, max, points}, ...]",
    ),
    (
        rules("- {name: a, bands: {property: v, ranges: []}}"),
        "rules.yaml:4: scores.s.rules[0].bands.ranges: bands need at least one range",
    ),
    (
        rules("- {name: a, bands: {property: v, ranges: [{min: 1}]}}"),
        "rules.yaml:4: scores.s.rules[0].bands.ranges[0]: a band needs points:",
    ),
    (
        rules("- {name: a, bands: {property: v, ranges: [{points: 1}]}}"),
        "rules.yaml:4: scores.s.rules[0].bands.ranges[0]: a band needs min:, max: or both",
    ),
    (
        rules("- {name: a, bands: {property: v, ranges: [{min: 3, max: 1, points: 1}]}}"),
        "rules.yaml:4: scores.s.rules[0].bands.ranges[0].min: min 3 is above max 1",
    ),
    (
        rules("- {name: a, map: {property: v}}"),
        "rules.yaml:4: scores.s.rules[0].map: map needs property: and values: {value: points}",
    ),
    (
        rules("- {name: a, map: {property: v, values: {}}}"),
        "rules.yaml:4: scores.s.rules[0].map.values: map needs at least one value",
    ),
    (
        rules("- {name: a, map: {property: v, values: {No: 1, no: 2}}}"),
        "rules.yaml:4: scores.s.rules[0].map.values.no: duplicate value 'no'",
    ),
    (
        rules(
            "- {name: a, when: {property: x, known: true}, points: 1, decay: {half_life_days: 3}}"
        ),
        "rules.yaml:4: scores.s.rules[0].decay: decay needs a single activity condition (form_submitted, email_opened, ...)",
    ),
    (
        rules("- {name: a, bands: {property: v, ranges: [{min: 1, points: 1}]}, decay: none}"),
        "rules.yaml:4: scores.s.rules[0].decay: decay applies to when and each rules, not to bands",
    ),
    (
        rules(
            "- {name: a, each: {email_opened: true}, points: 1, decay: {half_life_days: 3, linear_percent: 5}}"
        ),
        "rules.yaml:4: scores.s.rules[0].decay: decay is either half_life_days or linear_percent, not both",
    ),
    (
        rules("- {name: a, each: {email_opened: true}, points: 1, decay: {half_life_days: 0}}"),
        "rules.yaml:4: scores.s.rules[0].decay.half_life_days: half_life_days must be above 0",
    ),
    (
        rules("- {name: a, each: {email_opened: true}, points: 1, decay: {linear_percent: 150}}"),
        "rules.yaml:4: scores.s.rules[0].decay.linear_percent: linear_percent must be above 0 and at most 100",
    ),
    (
        rules("- {name: a, each: {email_opened: true}, points: 1, decay: {}}"),
        "rules.yaml:4: scores.s.rules[0].decay: decay needs half_life_days, or linear_percent (with every_days), or none",
    ),
    # --- scores: includes, properties ------------------------------------------------------
    (
        "scores:\n  t: {includes: [fit]}\n",
        "rules.yaml:2: scores.t.includes[0]: unknown score 'fit'; scores are: t",
    ),
    (
        "scores:\n  t: {includes: [t]}\n",
        "rules.yaml:2: scores.t.includes[0]: score 't' cannot include itself",
    ),
    (
        "scores:\n  a: {includes: [b]}\n  b: {includes: [a]}\n",
        "rules.yaml:2: scores.a.includes: scores include each other: a -> b -> a",
    ),
    (
        "scores:\n  a: {property: x_score, rules: [{name: r, when: {opted_out: true}, points: 1}]}\n"
        "  b: {property: x_score, includes: [a]}\n",
        "rules.yaml:3: scores.b.property: property 'x_score' is already written by score a",
    ),
    (
        "scores:\n  a: {property: lifecyclestage, includes: []}\n",
        "rules.yaml:2: scores.a.property: property 'lifecyclestage' belongs to HubSpot; write scores to your own",
    ),
    # --- forms and domains -----------------------------------------------------------
    (
        "forms:\n  - {name: x}\n" + S,
        "rules.yaml:2: forms[0]: a form needs id: (the HubSpot form GUID)",
    ),
    (
        "forms:\n  - {id: a, tier: HOT}\n" + S,
        "rules.yaml:2: forms[0].tier: unknown form tier 'HOT'; expected one of: TOFU, MOFU, BOFU",
    ),
    ("forms:\n  - {id: a}\n  - {id: a}\n" + S, "rules.yaml:3: forms[1].id: duplicate form id 'a'"),
    (
        "forms:\n  - {id: a, name: Demo}\n  - {id: b, name: demo}\n" + S,
        "rules.yaml:3: forms[1].name: duplicate form name 'demo'",
    ),
    (
        "domains:\n  competitors: [not a domain]\n" + S,
        "rules.yaml:2: domains.competitors[0]: 'not a domain' is not a domain",
    ),
    # --- stages ------------------------------------------------------------------------------
]

STAGE_BASE = "scores:\n  total:\n    rules: [{name: r, when: {opted_out: true}, points: 1}]\n"
CASES += [
    (
        STAGE_BASE + "stages: {thresholds: {marketingqualifiedlead: 35}}\n",
        "rules.yaml:4: stages: stages need score: (the score that sets the stage)",
    ),
    (
        STAGE_BASE + "stages: {score: totl}\n",
        "rules.yaml:4: stages.score: threshold on unknown score 'totl'; scores are: total",
    ),
    (
        STAGE_BASE
        + "stages:\n  score: total\n  thresholds:\n    marketingqualifiedlead: 65\n    salesqualifiedlead: 35\n",
        "rules.yaml:8: stages.thresholds.salesqualifiedlead: thresholds must increase: salesqualifiedlead 35 is not above 65",
    ),
    (
        STAGE_BASE + "stages: {score: total, thresholds: {}}\n",
        "rules.yaml:4: stages.thresholds: at least one threshold is needed",
    ),
    (
        STAGE_BASE + "stages: {score: total, floor: marketingqualifiedlead}\n",
        "rules.yaml:4: stages.floor: floor 'marketingqualifiedlead' is also a threshold stage",
    ),
    (
        STAGE_BASE + "stages: {score: total, hysteresis: -1}\n",
        "rules.yaml:4: stages.hysteresis: hysteresis must be 0 or more",
    ),
    (
        STAGE_BASE + "stages: {score: total, promote_from: [lead]}\n",
        "rules.yaml:4: stages.promote_from[0]: 'lead' is already managed; promote_from lists other stages",
    ),
    (
        STAGE_BASE + "handoff_stage: opportunity\nstages: {score: total}\n",
        "rules.yaml:4: handoff_stage: handoff stage 'opportunity' is not a threshold stage (marketingqualifiedlead, salesqualifiedlead)",
    ),
    (
        STAGE_BASE + "stages:\n  score: total\n  qualify:\n    - {stage: salesqualifiedlead}\n",
        "rules.yaml:7: stages.qualify[0]: a qualify rule needs name:",
    ),
    (
        STAGE_BASE
        + "stages:\n  score: total\n  qualify:\n    - {name: q, stage: opportunity, when: {opted_out: true}}\n",
        "rules.yaml:7: stages.qualify[0].stage: 'opportunity' is not a threshold stage (marketingqualifiedlead, salesqualifiedlead)",
    ),
    (
        STAGE_BASE + "stages: {score: total}\nexclusions: {protected_stages: [customer, lead]}\n",
        "rules.yaml:5: exclusions.protected_stages[1]: stage 'lead' is managed by stages:, so it cannot be protected",
    ),
    (
        STAGE_BASE + "exclusions: {conditions: [{name: x}]}\n",
        "rules.yaml:4: exclusions.conditions[0]: an exclusion condition needs name: and when:",
    ),
    (
        STAGE_BASE + "exclusions: {opted_out: 1}\n",
        "rules.yaml:4: exclusions.opted_out: expected true or false, got the number 1",
    ),
    # --- grid and reasons ---------------------------------------------------------------------
    (
        STAGE_BASE + "grid: {rows: {score: total, bands: [{label: A, min: 1}, {label: B}]}}\n",
        "rules.yaml:4: grid: grid needs columns: {score, bands}",
    ),
    (
        STAGE_BASE
        + "grid:\n  rows: {score: fit, bands: [{label: A, min: 1}, {label: B}]}\n  columns: {score: total, bands: []}\n",
        "rules.yaml:5: grid.rows.score: unknown score 'fit'; scores are: total",
    ),
    (
        STAGE_BASE
        + "grid:\n  rows: {score: total, bands: [{label: A}]}\n  columns: {score: total, bands: []}\n",
        "rules.yaml:5: grid.rows.bands: a grid axis needs at least two bands",
    ),
    (
        STAGE_BASE
        + "grid:\n  rows: {score: total, bands: [{label: A, min: 1}, {label: B, min: 0}]}\n  columns: {score: total, bands: []}\n",
        "rules.yaml:5: grid.rows.bands[1].min: the last band catches everything below: leave out min:",
    ),
    (
        STAGE_BASE
        + "grid:\n  rows: {score: total, bands: [{label: A, min: 1}, {label: B, min: 5}, {label: C}]}\n  columns: {score: total, bands: []}\n",
        "rules.yaml:5: grid.rows.bands[1].min: grid bands go from high to low: min 5 is not below 1",
    ),
    (
        STAGE_BASE
        + "grid:\n  rows: {score: total, bands: [{label: A}, {label: B}]}\n  columns: {score: total, bands: []}\n",
        "rules.yaml:5: grid.rows.bands[0]: every band but the last needs min:",
    ),
    (
        STAGE_BASE
        + "grid:\n  rows: {score: total, bands: [{label: A, min: 3}, {label: A}]}\n  columns: {score: total, bands: []}\n",
        "rules.yaml:5: grid.rows.bands[1].label: duplicate grid label 'A'",
    ),
    (
        STAGE_BASE
        + "grid:\n  rows: {score: total, bands: [{min: 3}, {label: A}]}\n  columns: {score: total, bands: []}\n",
        "rules.yaml:5: grid.rows.bands[0]: a grid band needs label:",
    ),
    (
        STAGE_BASE + "grid: {rows: {score: total}, columns: {}}\n",
        "rules.yaml:4: grid.rows: a grid axis needs score: and bands: [{label, min}, ...]",
    ),
    (
        STAGE_BASE + "reasons: {count: 11}\n",
        "rules.yaml:4: reasons.count: count must be at most 10",
    ),
    (
        STAGE_BASE + "reasons: {score: nope}\n",
        "rules.yaml:4: reasons.score: unknown score 'nope'; scores are: total",
    ),
    (
        STAGE_BASE + "reasons: {property: leadscore_total}\n",
        "rules.yaml:4: reasons.property: property 'leadscore_total' is already written by score total",
    ),
    (
        STAGE_BASE + "activity_horizon_days: 0\n",
        "rules.yaml:4: activity_horizon_days: must be at least 1, got 0",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), CASES, ids=[c[1].split(": ", 2)[-1][:60] for c in CASES]
)
def test_error_message(text: str, expected: str) -> None:
    assert error_of(text) == expected


def test_errors_point_at_the_line_of_a_block_style_field() -> None:
    text = textwrap.dedent(
        """\
        # comment
        scores:
          fit:
            rules:
              - name: title
                when:
                  property: jobtitle
                  matches: '(unclosed'
                points: 5
        """
    )
    assert error_of(text) == (
        "rules.yaml:8: scores.fit.rules[0].when.matches: bad regular expression '(unclosed': "
        "missing ), unterminated subpattern at position 0"
    )


def test_load_model_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("scores:\n  s:\n    rules:\n      - {name: a, when: {nope: 1}, points: 1}\n")
    with pytest.raises(ConfigError) as info:
        load_model(path)
    assert str(info.value).startswith(
        f"{path}:4: scores.s.rules[0].when.nope: unknown condition 'nope'"
    )
    with pytest.raises(ConfigError) as missing:
        load_model(tmp_path / "absent.yaml")
    assert str(missing.value) == f"{tmp_path / 'absent.yaml'}: rules file not found"


def test_compile_model_from_data_has_no_line_numbers() -> None:
    with pytest.raises(ConfigError) as info:
        compile_model({"scores": {"s": {"rules": [{"name": "a"}]}}}, source="inline")
    assert (
        str(info.value)
        == "inline: scores.s.rules[0]: a rule needs exactly one of: when, each, bands, map"
    )
