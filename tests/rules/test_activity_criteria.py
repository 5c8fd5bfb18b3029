"""Activity criteria: forms by id, name and tier; email opens/clicks; windows; caps; decay."""

from __future__ import annotations

import pytest
from tests.rules.builders import (
    DAY_MS,
    NOW_MS,
    TODAY_START_MS,
    contact,
    email,
    form,
    model_from,
    rule,
)

FORMS = """
forms:
  - {id: f-demo, name: Request a demo, tier: BOFU}
  - {id: f-ebook, name: Ebook, tier: TOFU}
  - {id: f-guide, name: Guide, tier: TOFU}
  - {id: f-webinar, name: Webinar, tier: MOFU}
"""


def forms_model(rules: str, decay: str = "") -> object:
    return model_from(FORMS + f"scores:\n  s:\n{decay}    rules:\n" + rules)


def test_form_by_name_by_id_and_by_tier() -> None:
    model = forms_model(
        """
      - {name: demo by name, when: {form_submitted: {form: request a demo}}, points: 50}
      - {name: demo by id, when: {form_submitted: {form: f-demo}}, points: 1}
      - {name: any TOFU, when: {form_submitted: {tier: TOFU}}, points: 5}
      - {name: any form, when: {form_submitted: true}, points: 2}
"""
    )
    result = model.evaluate(contact(forms=(form("f-demo", 2),)), NOW_MS)
    assert rule(result, "demo by name").points == 50
    assert rule(result, "demo by name").reason == "submitted 'Request a demo' (BOFU) 2 days ago"
    assert rule(result, "demo by id").met
    assert not rule(result, "any TOFU").met
    assert rule(result, "any TOFU").reason == "not met: no TOFU form submission"
    assert rule(result, "any form").met


def test_form_not_listed_in_file_matches_by_id_or_submission_name() -> None:
    model = forms_model(
        "      - {name: careers, when: {form_submitted: {form: Job application}}, points: -100}\n"
    )
    by_name = model.evaluate(contact(forms=(form("x-123", 1, name="Job Application"),)), NOW_MS)
    assert rule(by_name, "careers").points == -100
    by_id = model.evaluate(contact(forms=(form("Job application", 1),)), NOW_MS)
    assert rule(by_id, "careers").met
    other = model.evaluate(contact(forms=(form("x-999", 1, name="Newsletter"),)), NOW_MS)
    assert not rule(other, "careers").met


def test_declared_form_matches_by_name_when_the_portal_id_differs() -> None:
    model = forms_model(
        """
      - {name: TOFU, each: {form_submitted: {tier: TOFU}}, points: 5}
      - {name: demo or guide, when: {form_submitted: {form: [Request a demo, Guide], tier: TOFU}}, points: 7}
"""
    )
    portal_ids = (form("guid-1", 3, name="EBOOK"), form("guid-2", 2, name="Request a demo"))
    result = model.evaluate(contact(forms=portal_ids), NOW_MS)
    assert rule(result, "TOFU").points == 5
    assert rule(result, "TOFU").reason == "1 x 5: submitted 'EBOOK' (TOFU) 3 days ago"
    assert not rule(result, "demo or guide").met
    assert rule(result, "demo or guide").reason == (
        "not met: no TOFU submission of form 'Request a demo' or 'Guide'"
    )
    guide = model.evaluate(contact(forms=(form("f-guide", 1),)), NOW_MS)
    assert rule(guide, "demo or guide").points == 7


def test_window_counts_whole_utc_days_and_reports_when_it_closes() -> None:
    model = forms_model(
        "      - {name: recent demo, when: {form_submitted: {form: f-demo, within_days: 30}}, points: 50}\n"
    )
    submitted = form("f-demo", 29.4)  # 02:24 UTC, 29 calendar days ago
    result = model.evaluate(contact(forms=(submitted,)), NOW_MS)
    assert rule(result, "recent demo").met
    closes = (submitted.submitted_at // DAY_MS + 30) * DAY_MS
    assert result.next_due_ms == closes
    assert rule(model.evaluate(contact(forms=(submitted,)), closes - 1), "recent demo").met
    after = model.evaluate(contact(forms=(submitted,)), closes)
    assert not rule(after, "recent demo").met
    assert after.next_due_ms is None
    assert (
        rule(after, "recent demo").reason
        == "not met: no submission of form 'Request a demo' in the last 30 days"
    )


def test_future_activity_is_ignored_until_it_happens() -> None:
    model = forms_model("      - {name: any, when: {form_submitted: true}, points: 1}\n")
    later = form("f-demo", -0.25)
    result = model.evaluate(contact(forms=(later,)), NOW_MS)
    assert not rule(result, "any").met
    assert result.next_due_ms == later.submitted_at


def test_at_least_n_occurrences() -> None:
    model = forms_model(
        "      - {name: binge, when: {form_submitted: {tier: TOFU, at_least: 2}}, points: 8}\n"
    )
    one = model.evaluate(contact(forms=(form("f-ebook", 3),)), NOW_MS)
    assert rule(one, "binge").reason == "not met: only 1 x TOFU form submission (needs 2)"
    two = model.evaluate(contact(forms=(form("f-ebook", 3), form("f-guide", 1))), NOW_MS)
    assert rule(two, "binge").points == 8
    assert rule(two, "binge").reason == (
        "2 x TOFU form submission, newest: submitted 'Guide' (TOFU) 1 day ago"
    )


def test_each_occurrence_with_a_cap() -> None:
    model = model_from(
        """
        scores:
          s:
            rules:
              - {name: opens, each: {email_opened: {within_days: 30}}, points: 1, max: 10}
        """
    )
    four = model.evaluate(contact(emails=tuple(email("OPEN", d) for d in (1, 2, 3, 4))), NOW_MS)
    assert rule(four, "opens").points == 4
    assert rule(four, "opens").reason == "4 x 1: email open 1 day ago (newest)"
    many = model.evaluate(contact(emails=tuple(email("OPEN", d) for d in range(1, 15))), NOW_MS)
    assert rule(many, "opens").points == 10
    assert rule(many, "opens").reason == "14 x 1: email open 1 day ago (newest); capped at 10"
    old = model.evaluate(contact(emails=(email("OPEN", 45), email("CLICK", 1))), NOW_MS)
    assert not rule(old, "opens").met


def test_email_clicks_by_campaign_and_link() -> None:
    model = model_from(
        """
        scores:
          s:
            rules:
              - {name: demo mail click, when: {email_clicked: {campaign: [77, 78]}}, points: 10}
              - {name: pricing click, when: {email_clicked: {url_contains: /pricing}}, points: 3}
              - {name: bounced, when: {email_event: {type: bounce}}, points: -2}
        """
    )
    result = model.evaluate(
        contact(
            emails=(
                email("CLICK", 2, "78", "https://x.example/Pricing?a=1"),
                email("OPEN", 1, "77"),
            )
        ),
        NOW_MS,
    )
    assert rule(result, "demo mail click").points == 10
    assert rule(result, "demo mail click").reason == "email click (campaign 78) 2 days ago"
    assert rule(result, "pricing click").points == 3
    assert not rule(result, "bounced").met
    other = model.evaluate(contact(emails=(email("CLICK", 2, "12", "https://x/blog"),)), NOW_MS)
    assert not rule(other, "demo mail click").met and not rule(other, "pricing click").met
    bounced = model.evaluate(contact(emails=(email("bounce", 5),)), NOW_MS)
    assert rule(bounced, "bounced").points == -2


def test_half_life_decay_by_whole_days() -> None:
    model = forms_model(
        "      - {name: demo, when: {form_submitted: {form: f-demo}}, points: 50}\n",
        decay="    decay: {half_life_days: 30}\n",
    )
    fresh = model.evaluate(contact(forms=(form("f-demo", 0.1),)), NOW_MS)
    assert rule(fresh, "demo").points == 50
    month = model.evaluate(contact(forms=(form("f-demo", 30),)), NOW_MS)
    assert rule(month, "demo").points == 25
    assert rule(month, "demo").reason == (
        "submitted 'Request a demo' (BOFU) 30 days ago; 50 decayed to 25 (half-life 30 days)"
    )
    # Decay steps at UTC midnight, so the result is due again at the start of tomorrow.
    assert month.next_due_ms == TODAY_START_MS + DAY_MS
    ten = model.evaluate(contact(forms=(form("f-demo", 10),)), NOW_MS)
    assert rule(ten, "demo").points == round(50 * 0.5 ** (10 / 30), 2)


def test_each_rule_decays_every_occurrence_and_rule_level_decay_none() -> None:
    model = model_from(
        """
        scores:
          s:
            decay: {half_life_days: 10}
            rules:
              - {name: opens, each: {email_opened: true}, points: 2}
              - {name: clicks, each: {email_clicked: true}, points: 4, decay: none}
        """
    )
    result = model.evaluate(
        contact(
            emails=(email("OPEN", 0), email("OPEN", 10), email("OPEN", 20), email("CLICK", 20))
        ),
        NOW_MS,
    )
    assert rule(result, "opens").points == 3.5  # 2 + 1 + 0.5
    assert rule(result, "opens").reason == (
        "3 x 2 decayed to 3.5 (half-life 10 days): email open today (newest)"
    )
    assert rule(result, "clicks").points == 4


def test_linear_decay_steps_and_reaches_zero() -> None:
    model = forms_model(
        "      - {name: demo, when: {form_submitted: {form: f-demo}}, points: 40,"
        " decay: {linear_percent: 25, every_days: 30}}\n"
    )
    submitted = form("f-demo", 45)
    result = model.evaluate(contact(forms=(submitted,)), NOW_MS)
    assert rule(result, "demo").points == 30
    assert result.next_due_ms == (submitted.submitted_at // DAY_MS + 60) * DAY_MS
    gone = model.evaluate(contact(forms=(form("f-demo", 121),)), NOW_MS)
    assert rule(gone, "demo").met and rule(gone, "demo").points == 0
    assert gone.next_due_ms is None
    assert model.activity_horizon_days == 120


@pytest.mark.parametrize(
    ("window", "expected"),
    [("within_days: 30", 30), ("tier: MOFU", None)],
)
def test_activity_horizon_follows_the_widest_window(window: str, expected: int | None) -> None:
    model = forms_model(
        f"      - {{name: a, when: {{form_submitted: {{{window}}}}}, points: 1}}\n"
        "      - {name: b, when: {email_opened: {within_days: 7}}, points: 1}\n"
    )
    assert model.activity_horizon_days == expected


def test_inactivity_penalty_counts_from_last_engagement_or_creation() -> None:
    model = model_from(
        """
        scores:
          s:
            rules:
              - {name: gone quiet, when: {inactive: {days: 30, also_properties: [last_visit]}}, points: -10}
        """
    )
    quiet = model.evaluate(
        contact(createdate="2025-01-01", emails=(email("OPEN", 40), email("DELIVERED", 2))), NOW_MS
    )
    assert rule(quiet, "gone quiet").points == -10
    assert rule(quiet, "gone quiet").reason == "last engagement 40 days ago (≥ 30 days)"
    visited = model.evaluate(
        contact(createdate="2025-01-01", last_visit=str(NOW_MS - 5 * DAY_MS)), NOW_MS
    )
    assert not rule(visited, "gone quiet").met
    assert visited.next_due_ms == TODAY_START_MS + 25 * DAY_MS
    brand_new = model.evaluate(contact(createdate=str(NOW_MS - 2 * DAY_MS)), NOW_MS)
    assert not rule(brand_new, "gone quiet").met
    never = model.evaluate(contact(createdate="2026-01-01"), NOW_MS)
    assert (
        rule(never, "gone quiet").reason == "no engagement since creation 326 days ago (≥ 30 days)"
    )
