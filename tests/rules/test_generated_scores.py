"""The generated evaluate function gives exactly what the plain rule loops give."""

from __future__ import annotations

import linecache
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from tests.rules.builders import DAY_MS, NOW_MS, contact, days_ago, email, form, model_from
from tests.rules.test_invariants import FAST, ages, contacts

from leadscore.records import Contact, EmailEvent, FormSubmission
from leadscore.rules import ScoringModel, load_model

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "scoring.yaml"
# Compiled separately so neither path can answer from the other's caches.
GENERATED: ScoringModel = load_model(SHIPPED)
REFERENCE: ScoringModel = load_model(SHIPPED)

# Every rule kind and every cap the generator has a branch for: group and score minimum
# and maximum, weighted includes, cached and uncached conditions, activity with and
# without decay, bands on a property and on a count, a map.
EVERY_BRANCH = """
forms:
  - {id: demo, name: Demo, tier: BOFU}
  - {id: ebook, name: Ebook, tier: TOFU}
scores:
  fit:
    min: -50
    max: 30
    groups: {firmo: {max: 20}, spam: {min: -40}}
    rules:
      - {name: big, group: firmo, when: {property: size, gte: 100}, points: 15}
      - {name: rich, group: firmo, when: {property: revenue, gte: 1000}, points: 10}
      - {name: mash, group: spam, when: {keyboard_mash: true}, points: -30}
      - {name: lower, group: spam, when: {uncapitalised_name: true}, points: -30}
      - {name: free, when: {free_email_domain: true}, points: -5}
      - {name: recent, when: {property: lastvisit, newer_than_days: 7}, points: 4}
      - name: staff
        bands:
          property: size
          ranges: [{min: 1, max: 9, points: 1}, {min: 10, points: 3}]
  engagement:
    decay: {half_life_days: 30}
    groups: {mail: {max: 6}}
    rules:
      - {name: demo, when: {form_submitted: {form: Demo, within_days: 90}}, points: 20}
      - {name: undecayed demo, when: {form_submitted: {form: Demo}}, points: 1, decay: none}
      - {name: ebooks, each: {form_submitted: {tier: TOFU}}, points: 2, max: 6}
      - {name: opens, group: mail, each: {email_opened: {within_days: 60}}, points: 1}
      - name: clicks
        group: mail
        each: {email_clicked: true}
        points: 2
        decay: {linear_percent: 10, every_days: 7}
      - name: busy
        bands:
          count: {email_opened: {within_days: 30}}
          ranges: [{min: 2, max: 3, points: 1}, {min: 4, points: 2}]
      - {name: quiet, when: {inactive: {days: 60}}, points: -5}
  total:
    min: 0
    includes: {fit: 1, engagement: 0.5}
    rules:
      - name: feedback
        map:
          property: feedback
          values: {good: 10, bad: -100}
grid:
  property: g
  rows: {score: fit, bands: [{label: A, min: 20}, {label: B, min: 5}, {label: C}]}
  columns: {score: engagement, bands: [{label: "1", min: 10}, {label: "2"}]}
reasons: {property: why, score: total, count: 2}
"""


def assert_same(generated: ScoringModel, reference: ScoringModel, c: Contact, now: int) -> None:
    fast, slow = generated.evaluate(c, now), reference.evaluate_reference(c, now)
    assert fast == slow
    # Equal floats may differ in type (5 and 5.0) or sign (0.0 and -0.0): compare the text.
    assert repr(fast) == repr(slow)


@FAST
@given(contacts)
def test_shipped_model_generated_equals_reference(c: Contact) -> None:
    for now in (NOW_MS, NOW_MS + 3 * DAY_MS):
        assert_same(GENERATED, REFERENCE, c, now)


def test_every_branch_generated_equals_reference() -> None:
    generated, reference = model_from(EVERY_BRANCH), model_from(EVERY_BRANCH)
    people = [
        contact(),
        contact(size="250", revenue="5000", firstname="asdf", lastname="lower"),
        contact(size="5", firstname="Ann", email="a@gmail.com", feedback="good"),
        contact(size="1,000", lastvisit=str(days_ago(2)), feedback="bad"),
        contact(
            forms=(form("demo", 10), form("demo", 100), form("ebook", 1), form("ebook", 40)),
            emails=(email("OPEN", 1), email("open", 5), email("OPEN", 70), email("CLICK", 3)),
            feedback="good",
            size="12",
        ),
        contact(
            forms=(form("ebook", 1), form("ebook", 2), form("ebook", 3), form("ebook", 4)),
            emails=(*(email("OPEN", d) for d in range(9)), email("CLICK", -1)),
        ),
        contact(forms=(form("demo", 200),), createdate=str(days_ago(300))),
    ]
    # Twice: the second pass answers from the rules' caches.
    for _ in range(2):
        for person in people:
            for now in (NOW_MS, NOW_MS + 20 * DAY_MS):
                assert_same(generated, reference, person, now)
    fit = generated.evaluate(people[1], NOW_MS).scores["fit"]
    assert [c.rule for c in fit.contributions if c.rule.startswith("cap: ")] == [
        "cap: group firmo",
        "cap: group spam",
    ]


# Every way the generated function matches activity, and every case it leaves to the
# rule's own scan: forms by id, by a name only the submission carries, by tier and any
# form; email criteria by type, campaign and link, with and without windows; a criterion
# on two email types, one needing two occurrences, one inside all:, a count in bands and a
# qualifier (their own scans); inactivity with a date property.
ACTIVITY = """
forms:
  - {id: demo, name: Demo, tier: BOFU}
  - {id: ebook, name: Ebook, tier: TOFU}
scores:
  engagement:
    decay: {half_life_days: 20}
    groups: {mail: {min: -3, max: 9}}
    rules:
      - {name: demo, when: {form_submitted: {form: demo, within_days: 30}}, points: 20}
      - {name: by name, each: {form_submitted: {form: Webinar}}, points: 4, max: 8}
      - {name: tofu, each: {form_submitted: {tier: TOFU, within_days: 200}}, points: 2}
      - {name: any form, when: {form_submitted: true}, points: 1, decay: none}
      - {name: opens, group: mail, each: {email_opened: {within_days: 60}}, points: 1}
      - name: campaign clicks
        group: mail
        each: {email_clicked: {campaign: ["1"], url_contains: [/pricing, /DEMO]}}
        points: 3
        decay: {linear_percent: 25, every_days: 10}
      - name: bounced
        group: mail
        when: {email_event: {type: bounce, within_days: 90}}
        points: -5
        decay: none
      - {name: no link, each: {email_clicked: {url_contains: []}}, points: 1}
      - name: opened or clicked
        each: {email_event: {type: [CLICK, OPEN], within_days: 45}}
        points: 0.5
      - {name: twice, when: {form_submitted: {form: Demo, at_least: 2}}, points: 7}
      - name: demo and open
        when: {all: [{form_submitted: {form: Demo}}, {email_opened: {within_days: 10}}]}
        points: 3
      - name: busy
        bands:
          count: {email_opened: {within_days: 30}}
          ranges: [{min: 2, max: 3, points: 1}, {min: 4, points: 2}]
      - name: quiet
        when: {inactive: {days: 30, also_properties: [lastvisit]}}
        points: -4
      - name: flat bounces
        group: mail
        each: {email_event: {type: bounce, within_days: 90}}
        points: -0.5
        min: -1
        decay: none
      - {name: flat webinars, each: {form_submitted: {form: Webinar}}, points: 1.5, decay: none}
stages:
  score: engagement
  thresholds: {marketingqualifiedlead: 10, salesqualifiedlead: 30}
  floor: lead
  qualify:
    - name: demo soon
      stage: salesqualifiedlead
      when: {form_submitted: {form: Demo, within_days: 7}}
exclusions:
  conditions:
    - {name: fresh demo, when: {form_submitted: {form: Demo, within_days: 2}}}
"""
activity_forms = st.builds(
    lambda f, a, n: FormSubmission(f, NOW_MS - a, form_name=n),
    st.sampled_from(["demo", "ebook", "other", "DEMO"]),
    ages,
    st.sampled_from([None, "Webinar", "webinar", "Demo", "Other"]),
)
activity_emails = st.builds(
    lambda t, a, c, u: EmailEvent(t, NOW_MS - a, c, url=u),
    st.sampled_from(["OPEN", "open", "CLICK", "Click", "BOUNCE", "DELIVERED"]),
    ages,
    st.sampled_from([None, "1", "2"]),
    st.sampled_from([None, "https://x.example/Pricing", "https://x.example/demo", "https://x"]),
)
activity_contacts = st.builds(
    lambda f, e, visit, created: Contact(
        "c1", {"lastvisit": visit, "createdate": created}, tuple(f), tuple(e)
    ),
    st.lists(activity_forms, max_size=6),
    st.lists(activity_emails, max_size=14),
    st.sampled_from([None, "", str(days_ago(3)), str(days_ago(45)), "not a date"]),
    st.sampled_from([None, str(days_ago(100)), str(days_ago(5))]),
)
ACTIVITY_GENERATED = model_from(ACTIVITY)
ACTIVITY_REFERENCE = model_from(ACTIVITY)
# Qualifiers alone are time-dependent here: what their scans note in ctx.due shows.
QUALIFIED = """
forms: [{id: demo, name: Demo}]
scores: {s: {rules: [{name: big, when: {property: size, gte: 10}, points: 50}]}}
stages:
  score: s
  thresholds: {marketingqualifiedlead: 10, salesqualifiedlead: 60}
  floor: lead
  promote_from: [none]
  qualify:
    - {name: demo soon, stage: salesqualifiedlead, when: {form_submitted: {form: Demo, within_days: 7}}}
    - {name: clicked, stage: marketingqualifiedlead, when: {email_clicked: {within_days: 5}}}
    - {name: any mail, stage: marketingqualifiedlead, when: {email_event: {type: [OPEN, BOUNCE]}}}
"""
QUALIFIED_GENERATED, QUALIFIED_REFERENCE = model_from(QUALIFIED), model_from(QUALIFIED)
# Inactivity alone: the passes still read opens and clicks.
QUIET = "scores: {s: {rules: [{name: quiet, when: {inactive: {days: 20}}, points: -4}]}}"
QUIET_GENERATED, QUIET_REFERENCE = model_from(QUIET), model_from(QUIET)


@FAST
@given(activity_contacts)
def test_activity_generated_equals_reference(c: Contact) -> None:
    for now in (NOW_MS, NOW_MS + 3 * DAY_MS, NOW_MS + 61 * DAY_MS):
        assert_same(ACTIVITY_GENERATED, ACTIVITY_REFERENCE, c, now)
        assert_same(QUIET_GENERATED, QUIET_REFERENCE, c, now)
        assert_same(QUALIFIED_GENERATED, QUALIFIED_REFERENCE, c, now)


def test_activity_is_matched_in_one_pass_except_where_it_cannot_be() -> None:
    source = ACTIVITY_GENERATED.debug_source()
    assert source.count("for sub in contact.form_submissions:") == 1
    assert source.count("for ev in contact.email_events:") == 1
    # Two email types, at_least, a nested criterion and a count keep their own scans.
    assert "scan_0_8(ctx)" in source
    for kept in ("twice", "demo and open"):
        r = [rule.name for rule in ACTIVITY_GENERATED.scores[0].rules].index(kept)
        assert f"test_0_{r}(ctx)" in source
    assert "apply_0_11(ctx)" in source
    assert "inactive_0_12(ctx, last, upcoming)" in source


def test_debug_source_shows_every_score_and_rule() -> None:
    source = GENERATED.debug_source()
    assert "def evaluate_model(contact, now_ms):" in source
    for score in GENERATED.scores:
        assert f"# score {score.name!r} -> {score.property}" in source
        for r, rule in enumerate(score.rules):
            assert f"# rule {r}: {rule.name!r} ({rule.kind})" in source


def test_tracebacks_and_debuggers_see_the_generated_source() -> None:
    code = GENERATED._run.__code__
    assert code.co_filename.startswith("<leadscore model")
    assert "".join(linecache.getlines(code.co_filename)) == GENERATED.debug_source()


def test_recompiling_the_same_rules_keeps_one_source_in_linecache() -> None:
    # The service reloads its rules on every run: the cache must not grow with them.
    first = load_model(SHIPPED)
    before = set(linecache.cache)
    second, third = load_model(SHIPPED), load_model(SHIPPED)
    assert first._run.__code__.co_filename == third._run.__code__.co_filename
    assert second.debug_source() == first.debug_source()
    assert set(linecache.cache) == before


def test_a_rules_path_cannot_inject_code_into_the_generated_source(capsys) -> None:  # type: ignore[no-untyped-def]
    source = "rules\nprint('injected')\n#.yaml"
    model = model_from(
        "scores: {s: {rules: [{name: r, when: {property: p, known: true}, points: 1}]}}", source
    )
    assert capsys.readouterr().out == ""
    assert model.debug_source().splitlines()[0].startswith(f"# generated from {source!r}")
    assert model.evaluate(contact(p="x"), NOW_MS).scores["s"].total == 1


def test_the_sign_of_an_included_zero_does_not_depend_on_earlier_contacts() -> None:
    model = model_from(
        """
        scores:
          sign:
            rules:
              - {name: p, when: {property: p, known: true}, points: 0.3}
              - {name: q, when: {property: q, known: true}, points: -0.1}
              - {name: r, when: {property: r, known: true}, points: -0.2}
          b: {includes: {sign: 1}, rules: []}
        """
    )
    nobody, person = contact(), contact(p="1", q="1", r="1")  # sign = 0.0 and -0.0

    def included_points(c: Contact) -> str:
        return repr(model.evaluate(c, NOW_MS).scores["b"].contributions[0].points)

    # In both orders: equal totals must not share a contribution across the sign of zero.
    assert (included_points(person), included_points(nobody)) == ("-0.0", "0.0")
    assert (included_points(nobody), included_points(person)) == ("0.0", "-0.0")
