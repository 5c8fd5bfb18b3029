"""Property-based invariants: bands never stack, totals add up, caps hold, same input same output,
and nothing but time changes a result before `next_due_ms`."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.rules.builders import DAY_MS, NOW_MS

from leadscore.records import Contact, EmailEvent, FormSubmission
from leadscore.rules import Evaluation, ScoringModel, compile_model, load_model

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "scoring.yaml"
MODEL: ScoringModel = load_model(SHIPPED)
AGAIN: ScoringModel = load_model(SHIPPED)  # compiled separately: no shared caches
FORM_IDS = [*MODEL.forms_by_id, "unlisted-form"]

texts = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "",
            "CEO",
            "vp sales",
            "Germany",
            "asdf",
            "1,000",
            "50-100",
            "5000+",
            "12",
            "COMPUTER_SOFTWARE",
            "true",
            "false",
            "Not ready",
            "Unqualified",
            "2026-01-05",
        ]
    ),
    st.text(max_size=12),
)
ages = st.integers(min_value=-2 * DAY_MS, max_value=400 * DAY_MS)
forms = st.builds(lambda f, a: FormSubmission(f, NOW_MS - a), st.sampled_from(FORM_IDS), ages)
emails = st.builds(
    lambda t, a, c, u: EmailEvent(t, NOW_MS - a, c, url=u),
    st.sampled_from(["OPEN", "CLICK", "DELIVERED", "STATUSCHANGE", "BOUNCE"]),
    ages,
    st.sampled_from([None, "1", "2"]),
    st.sampled_from([None, "https://x.example/pricing", "https://x.example/blog"]),
)
PROPS = [
    "jobtitle",
    "numemployees",
    "annualrevenue",
    "industry",
    "country",
    "phone",
    "firstname",
    "lastname",
    "company",
    "hs_analytics_num_visits",
    "hs_analytics_source",
    "hs_email_optout",
    "leadscore_sales_feedback",
    "lifecyclestage",
    "createdate",
    "hs_analytics_last_visit_timestamp",
]
contacts = st.builds(
    lambda props, email, stage, f, e: Contact(
        "c1", {**props, "email": email, "lifecyclestage": stage}, tuple(f), tuple(e)
    ),
    st.dictionaries(st.sampled_from(PROPS), texts, max_size=10),
    st.sampled_from(
        [None, "a@gmail.com", "b@acme.io", "c@rivalcrm.example", "d@ourcompany.example"]
    ),
    st.sampled_from(
        ["", "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "customer"]
    ),
    st.lists(forms, max_size=5),
    st.lists(emails, max_size=12),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(e: Evaluation) -> tuple[object, ...]:
    """What a re-score could change in HubSpot: totals, properties, target stage, exclusion."""
    return (
        {n: s.total for n, s in e.scores.items()},
        dict(e.properties),
        e.stage.stage,
        e.exclusion,
        e.grid,
    )


@FAST
@given(contacts)
def test_total_is_the_sum_of_contributions_and_caps_hold(contact: Contact) -> None:
    result = MODEL.evaluate(contact, NOW_MS)
    for score in MODEL.scores:
        scored = result.scores[score.name]
        assert round(sum(c.points for c in scored.contributions), 2) == scored.total
        if score.high is not None:
            assert scored.total <= score.high
        if score.low is not None:
            assert scored.total >= score.low
        for group, (low, high) in score.group_caps.items():
            subtotal = round(sum(c.points for c in scored.contributions if c.group == group), 2)
            assert high is None or subtotal <= high
            assert low is None or subtotal >= low
        for rule in score.rules:
            c = next(c for c in scored.contributions if c.rule == rule.name)
            assert c.met or c.points == 0
            assert rule.high is None or c.points <= rule.high


@FAST
@given(contacts)
def test_same_input_same_output(contact: Contact) -> None:
    first = MODEL.evaluate(contact, NOW_MS)
    assert first == MODEL.evaluate(contact, NOW_MS)
    assert first == AGAIN.evaluate(contact, NOW_MS)


@FAST
@given(contacts, st.floats(min_value=0, max_value=1))
def test_nothing_changes_before_next_due(contact: Contact, fraction: float) -> None:
    first = MODEL.evaluate(contact, NOW_MS)
    horizon = first.next_due_ms if first.next_due_ms is not None else NOW_MS + 500 * DAY_MS
    assert horizon > NOW_MS
    later = NOW_MS + int((horizon - 1 - NOW_MS) * fraction)
    assert outcome(MODEL.evaluate(contact, later)) == outcome(first)


@FAST
@given(contacts)
def test_properties_are_stable_strings(contact: Contact) -> None:
    values = MODEL.evaluate(contact, NOW_MS).properties
    for spec in MODEL.output_properties[:3]:
        text = values[spec.name]
        assert float(text) == round(float(text), 2)
        assert text == text.strip() and not text.endswith(".0") and "e" not in text


band_edges = st.lists(
    st.integers(min_value=-50, max_value=200), min_size=2, max_size=8, unique=True
)


@settings(max_examples=200, deadline=None)
@given(band_edges, st.data())
def test_bands_never_stack(edges: list[int], data: st.DataObject) -> None:
    edges.sort()
    ranges = []
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        ranges.append({"min": low, "max": high - 1, "points": 10 ** (i % 4) + i})
    open_top = data.draw(st.booleans())
    if open_top:
        ranges.append({"min": edges[-1], "points": 7777})
    model = compile_model(
        {"scores": {"s": {"rules": [{"name": "b", "bands": {"property": "v", "ranges": ranges}}]}}}
    )
    value = data.draw(st.integers(min_value=-60, max_value=260))
    points = model.evaluate(Contact("1", {"v": str(value)}), NOW_MS).scores["s"].total
    matching = [
        r["points"] for r in ranges if r["min"] <= value and ("max" not in r or value <= r["max"])
    ]
    assert len(matching) <= 1
    assert points == (matching[0] if matching else 0)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(min_value=-30, max_value=30), min_size=1, max_size=6),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=-40, max_value=0),
    st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_group_and_total_caps_hold(
    points: list[int], high: int, low: int, present: list[bool]
) -> None:
    rules = [
        {"name": f"r{i}", "group": "g", "when": {"property": f"p{i}", "known": True}, "points": p}
        for i, p in enumerate(points)
    ]
    rules.append({"name": "free", "when": {"property": "z", "known": True}, "points": 25})
    model = compile_model(
        {
            "scores": {
                "s": {
                    "min": -35,
                    "max": 35,
                    "groups": {"g": {"min": low, "max": high}},
                    "rules": rules,
                }
            }
        }
    )
    props = {f"p{i}": "x" for i, on in enumerate(present) if on} | {"z": "x"}
    score = model.evaluate(Contact("1", props), NOW_MS).scores["s"]
    group_sum = sum(c.points for c in score.contributions if c.group == "g")
    assert low <= group_sum <= high
    assert -35 <= score.total <= 35
    assert round(sum(c.points for c in score.contributions), 2) == score.total
    uncapped = sum(p for i, p in enumerate(points) if present[i])
    if low <= uncapped <= high and -35 <= max(low, min(high, uncapped)) + 25 <= 35:
        assert [c.rule for c in score.contributions if c.rule.startswith("cap: ")] == []
