"""Exclusive bands, caps per rule / group / total, sales feedback map, built-in predicates."""

from __future__ import annotations

import pytest
from tests.rules.builders import NOW_MS, contact, email, model_from, one_score, rule

VISITS = """
- name: visits
  bands:
    property: visits
    ranges:
      - {min: 2, max: 5, points: 3}
      - {min: 6, points: 6}
"""


@pytest.mark.parametrize(
    ("visits", "points", "reason"),
    [
        ("7", 6, "visits = 7 is in band 6+"),
        ("5", 3, "visits = 5 is in band 2-5"),
        ("1,200", 6, "visits = '1,200' read as 1200 is in band 6+"),
    ],
)
def test_bands_award_exactly_one_band(visits: str, points: int, reason: str) -> None:
    result = one_score(VISITS).evaluate(contact(visits=visits), NOW_MS)
    assert rule(result, "visits").points == points
    assert rule(result, "visits").reason == reason


def test_value_outside_every_band_or_missing() -> None:
    model = one_score(VISITS)
    one = rule(model.evaluate(contact(visits="1"), NOW_MS), "visits")
    assert not one.met and one.reason == "not met: visits = 1 is in no band"
    none = rule(model.evaluate(contact(), NOW_MS), "visits")
    assert not none.met and none.reason == "not met: visits is unknown"


def test_bands_on_an_activity_count() -> None:
    model = one_score(
        """
        - name: opens
          bands:
            count: {email_opened: {within_days: 30}}
            ranges:
              - {min: 1, max: 3, points: 2}
              - {min: 4, points: 5}
        """
    )
    result = model.evaluate(contact(emails=tuple(email("OPEN", d) for d in range(5))), NOW_MS)
    assert rule(result, "opens").points == 5
    assert rule(result, "opens").reason == "5 x email open in the last 30 days is in band 4+"


def test_group_cap_adds_a_visible_adjustment() -> None:
    model = model_from(
        """
        scores:
          s:
            groups: {firmo: {max: 20}}
            rules:
              - {name: size, group: firmo, when: {property: size, gte: 100}, points: 15}
              - {name: revenue, group: firmo, when: {property: revenue, gte: 1000}, points: 10}
              - {name: title, when: {property: title, known: true}, points: 5}
        """
    )
    result = model.evaluate(contact(size="500", revenue="5000", title="CEO"), NOW_MS)
    score = result.scores["s"]
    assert score.total == 25
    cap = rule(result, "cap: group firmo")
    assert (cap.points, cap.group) == (-5, "firmo")
    assert cap.reason == "group firmo limited to 20 (rules gave 25)"
    assert sum(c.points for c in score.contributions) == score.total


def test_group_minimum_and_total_caps() -> None:
    model = model_from(
        """
        scores:
          s:
            min: -50
            max: 30
            groups: {spam: {min: -40}}
            rules:
              - {name: mash, group: spam, when: {keyboard_mash: true}, points: -30}
              - {name: lower, group: spam, when: {uncapitalised_name: true}, points: -30}
              - {name: big, when: {property: size, gte: 1}, points: 100}
        """
    )
    spam = model.evaluate(contact(firstname="asdf"), NOW_MS)
    assert spam.scores["s"].total == -40
    assert rule(spam, "cap: group spam").points == 20
    big = model.evaluate(contact(size="5", firstname="Ann"), NOW_MS)
    assert big.scores["s"].total == 30
    assert rule(big, "cap: total").reason == "s limited to 30 (rules gave 100)"


def test_sales_feedback_map() -> None:
    model = one_score(
        """
        - name: feedback
          map:
            property: sales_feedback
            values: {"True SQL": 0, "Not ready": -30, Unqualified: -100}
        """
    )
    assert (
        rule(model.evaluate(contact(sales_feedback="unqualified"), NOW_MS), "feedback").points
        == -100
    )
    assert (
        rule(model.evaluate(contact(sales_feedback="Not ready"), NOW_MS), "feedback").points == -30
    )
    other = rule(model.evaluate(contact(sales_feedback="Maybe"), NOW_MS), "feedback")
    assert other.reason == "not met: sales_feedback = 'Maybe' has no points"
    empty = rule(model.evaluate(contact(), NOW_MS), "feedback")
    assert empty.reason == "not met: sales_feedback is empty"


@pytest.mark.parametrize(
    ("address", "free"),
    [
        ("ann@gmail.com", True),
        ("ann@GoogleMail.com", True),
        ("ann@acme.io", False),
        ("ann@mail.example-mail.net", True),  # subdomain of an added domain
        ("ann@yahoo.com", False),  # removed from the built-in list
    ],
)
def test_free_email_domain_list_is_overridable(address: str, free: bool) -> None:
    model = model_from(
        """
        domains:
          free_email: {add: [example-mail.net], remove: [yahoo.com]}
        scores:
          s:
            rules:
              - {name: free, when: {free_email_domain: true}, points: -10}
        """
    )
    assert rule(model.evaluate(contact(email=address), NOW_MS), "free").met is free


def test_free_email_list_can_be_replaced_and_competitors_listed() -> None:
    model = model_from(
        """
        domains:
          free_email: [only.example]
          competitors: [rival.example]
        scores:
          s:
            rules:
              - {name: free, when: {free_email_domain: true}, points: -10}
              - {name: business, when: {free_email_domain: false}, points: 4}
              - {name: rival, when: {competitor_domain: true}, points: -100}
        """
    )
    gmail = model.evaluate(contact(email="a@gmail.com"), NOW_MS)
    assert not rule(gmail, "free").met and rule(gmail, "business").met
    rival = model.evaluate(contact(email="spy@eu.rival.example"), NOW_MS)
    assert rule(rival, "rival").points == -100
    assert rule(rival, "rival").reason == "eu.rival.example is a competitor"
    no_email = model.evaluate(contact(), NOW_MS)
    assert rule(no_email, "business").reason == "not met: email is unknown"


@pytest.mark.parametrize(
    ("first", "company", "mashed"),
    [
        ("asdf", "Acme", "asdf"),
        ("Ann", "Qwerty Ltd", "qwer"),
        ("Bob", "lkjhg", "lkjh"),
        ("Zzzz", "Acme", "zzzz"),
        ("Ann", "Acme", None),
        ("Dmitri", "Asda Stores", None),
    ],
)
def test_keyboard_mash(first: str, company: str, mashed: str | None) -> None:
    model = one_score("- {name: mash, when: {keyboard_mash: [firstname, company]}, points: -20}")
    result = rule(model.evaluate(contact(firstname=first, company=company), NOW_MS), "mash")
    assert result.met is (mashed is not None)
    if mashed:
        assert result.reason.endswith(f"contains keyboard mash {mashed!r}")


def test_uncapitalised_name_and_opted_out() -> None:
    model = one_score(
        """
        - {name: lower, when: {uncapitalised_name: true}, points: -5}
        - {name: optout, when: {opted_out: true}, points: -20}
        """
    )
    result = model.evaluate(
        contact(firstname="Ann", lastname="smith", hs_email_optout="true"), NOW_MS
    )
    assert rule(result, "lower").reason == "lastname = 'smith' is not capitalised"
    assert rule(result, "optout").points == -20
    fine = model.evaluate(
        contact(firstname="Ann", lastname="Smith", hs_email_optout="false"), NOW_MS
    )
    assert not rule(fine, "lower").met and not rule(fine, "optout").met
